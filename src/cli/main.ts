/** The `gauntlet` command: one file per subcommand; this one only dispatches. */
import { sanitizeMessage } from "../observability/sanitize.js";
import { runServe } from "../server/main.js";

const USAGE = `Usage: gauntlet <command> [options]

Commands:
  serve     serve the OpenAI-compatible API (embedded tiny model by default)

Run 'gauntlet <command> --help' for a command's options.`;

const io = {
  stdout: (line: string) => process.stdout.write(`${line}\n`),
  stderr: (line: string) => process.stderr.write(`${line}\n`),
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "serve":
      return runServe(rest, process.env, io);
    case undefined:
    case "help":
    case "--help":
    case "-h":
      io.stdout(USAGE);
      return command === undefined ? 2 : 0;
    default:
      io.stderr(`gauntlet: unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Native handles (the engine) may keep the loop alive after a clean close.
    setTimeout(() => process.exit(code), 200).unref();
  },
  (err: unknown) => {
    process.stderr.write(`gauntlet: fatal: ${sanitizeMessage(String((err as Error)?.message ?? err))}\n`);
    process.exit(1);
  },
);
