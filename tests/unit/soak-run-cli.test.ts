import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { runSoakCommand } from "../../src/cli/soak.js";

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runSoakCommand(argv, {}, { stdout: (l) => void (out += `${l}\n`), stderr: (l) => void (err += `${l}\n`), progress: () => undefined, isTTY: false });
  return { code, out, err };
}

describe("gauntlet soak (command line, before anything runs)", () => {
  test("--help prints the usage with the exit codes (exit 0)", async () => {
    const r = await cli(["--help"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/--duration DUR[\s\S]*--preset NAME[\s\S]*--resume RUN-DIR[\s\S]*Exit codes: 0 green, 1 red, 2 invalid/);
  });

  test("misuse is exit 2 with a message, before any server starts", async () => {
    const cases: [string[], RegExp][] = [
      [[], /give --duration/],
      [["--duration", "4 hours"], /90s, 10m, 4h/],
      [["--preset", "3h"], /unknown preset "3h".*2h, 4h/],
      [["--duration", "1m", "--gate", "memory_grwth_pct < 5"], /did you mean "memory_growth_pct"/],
      [["--duration", "1m", "--target", "http://10.1.2.3:8080"], /not a loopback address/],
      [["--duration", "1m", "--load", "/nonexistent"], /soak-profiles\.json: cannot be read/],
      [["--resume", mkdtempSync(join(tmpdir(), "soak-cli-"))], /has no soak journal/],
    ];
    for (const [argv, message] of cases) {
      const r = await cli(argv);
      expect(r.code, argv.join(" ")).toBe(2);
      expect(r.err, argv.join(" ")).toMatch(message);
    }
  });
});
