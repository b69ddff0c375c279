import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { loadConfig } from "../../src/config/load-config.js";
import { memoryFs } from "../../src/config/memory-fs.js";
import { optionList } from "../../src/config/schema.js";

const fs = memoryFs({ "/srv/app/m.gguf": { kind: "file", head: "GGUF" } });
const flags = optionList().flatMap((o) => (o.kind === "bool" ? [`--${o.flag}`, `--no-${o.flag}`] : [`--${o.flag}`]));
const envNames = optionList().map((o) => o.env);

const token = fc.oneof(
  fc.string(),
  fc.constantFrom(...flags),
  fc.constantFrom(...flags).chain((f) => fc.string().map((v) => `${f}=${v}`)),
  fc.constantFrom("--", "-", "--=", "-1", "0", "65536", "true", "off", "m.gguf", "/abs/path"),
);

describe("load-config (properties)", () => {
  test("arbitrary argv and env never make loadConfig throw", () => {
    fc.assert(
      fc.property(
        fc.array(token, { maxLength: 12 }),
        fc.dictionary(fc.constantFrom(...envNames), fc.string(), { maxKeys: 6 }),
        (argv, env) => {
          const result = loadConfig({ argv, env, fs, cwd: "/srv/app" });
          if (result.ok) {
            expect(Object.isFrozen(result.config)).toBe(true);
          } else {
            expect(result.errors.length).toBeGreaterThan(0);
            for (const e of result.errors) expect(typeof e).toBe("string");
          }
          for (const w of result.warnings) expect(typeof w).toBe("string");
        },
      ),
      { numRuns: 300 },
    );
  });

  test("every valid port round-trips through both flag forms and env", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 65535 }), (port) => {
        for (const input of [
          { argv: ["--port", String(port)], env: {} },
          { argv: [`--port=${port}`], env: {} },
          { argv: [], env: { PORT: String(port) } },
        ]) {
          const result = loadConfig({ ...input, fs, cwd: "/srv/app" });
          expect(result.ok && result.config.port).toBe(port);
        }
      }),
      { numRuns: 200 },
    );
  });

  test("every integer outside an option's range is an error naming that option", () => {
    const ints = optionList().filter((o) => o.kind === "int");
    fc.assert(
      fc.property(
        fc.constantFrom(...ints),
        fc.boolean(),
        fc.integer({ min: 1, max: 1_000_000 }),
        (option, below, offset) => {
          if (option.kind !== "int") return;
          const value = below ? option.min - offset : option.max + offset;
          const result = loadConfig({ argv: [`--${option.flag}=${value}`], env: {}, fs, cwd: "/srv/app" });
          expect(result.ok).toBe(false);
          expect(!result.ok && result.errors.join("\n")).toContain(`--${option.flag} must be an integer`);
        },
      ),
      { numRuns: 200 },
    );
  });

  test("the api key never appears in any message", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 8, maxLength: 20 }).filter((k) => !k.startsWith("-") && k.trim().length === k.length && /[A-Za-z]{4}/.test(k)),
        fc.array(fc.constantFrom("--port", "--host", "--gpu", "--slots", "--prot", "--cache"), { maxLength: 4 }),
        (key, flagsUsingKey) => {
          const argv = ["--api-key", key, ...flagsUsingKey.flatMap((f) => [f, `${key}x`])];
          const result = loadConfig({ argv, env: {}, fs, cwd: "/srv/app" });
          const messages = [...(result.ok ? [] : result.errors), ...result.warnings].join("\n");
          expect(messages).not.toContain(key);
        },
      ),
      { numRuns: 200 },
    );
  });
});
