import { describe, expect, test } from "vitest";
import { loadConfig } from "../../src/config/load-config.js";
import type { ConfigResult, LoadConfigInput } from "../../src/config/load-config.js";
import type { Config } from "../../src/config/types.js";
import { memoryFs as fakeFs } from "../../src/config/memory-fs.js";

const CWD = "/srv/app";

function load(input: Partial<LoadConfigInput>): ConfigResult {
  return loadConfig({ env: {}, argv: [], fs: fakeFs({}), cwd: CWD, ...input });
}

function okConfig(input: Partial<LoadConfigInput>): Readonly<Config> {
  const result = load(input);
  if (!result.ok) throw new Error(`expected ok, got errors: ${result.errors.join(" | ")}`);
  return result.config;
}

function errorsOf(input: Partial<LoadConfigInput>): string[] {
  const result = load(input);
  if (result.ok) throw new Error("expected errors, got ok");
  return result.errors;
}

describe("load-config", () => {
  test("no flags and no env gives every documented default", () => {
    const config = okConfig({});
    expect(config).toEqual({
      host: "127.0.0.1",
      port: 8080,
      modelPath: null,
      modelPreset: "tiny",
      cacheDir: "/srv/app/.gauntlet-cache",
      apiKey: null,
      slots: 1,
      queueMax: 64,
      threads: 1,
      contextSize: 2048,
      gpu: false,
      timeoutMs: 60000,
      shutdownTimeoutMs: 10000,
      logLevel: "info",
      bodyLimitBytes: 1048576,
      maxTokensLimit: 4096,
      cache: { enabled: true, maxBytes: 67108864, quarantineMaxBytes: 16777216, diskMaxBytes: 268435456, ioTimeoutMs: 1000 },
      breaker: { enabled: true, failureThreshold: 5, successThreshold: 10, cooldownMs: 30000 },
      memory: { clearPct: 90, rejectPct: 95, checkMs: 1000 },
      retry: { maxRetries: 3, baseMs: 100, jitterPct: 20 },
    });
  });

  test("a clean default load has no warnings", () => {
    const result = load({});
    expect(result.warnings).toEqual([]);
  });

  test("both --flag value and --flag=value forms are accepted", () => {
    const config = okConfig({ argv: ["--port", "9000", "--host=0.0.0.0", "--slots=4", "--threads", "1"] });
    expect(config.port).toBe(9000);
    expect(config.host).toBe("0.0.0.0");
    expect(config.slots).toBe(4);
  });

  test("environment variables set options", () => {
    const config = okConfig({
      env: { PORT: "9100", LOG_LEVEL: "debug", CACHE_MAX_BYTES: "1024", BREAKER_COOLDOWN_MS: "500", ENGINE_RETRIES: "0" },
    });
    expect(config.port).toBe(9100);
    expect(config.logLevel).toBe("debug");
    expect(config.cache.maxBytes).toBe(1024);
    expect(config.breaker.cooldownMs).toBe(500);
    expect(config.retry.maxRetries).toBe(0);
  });

  test("flags win over environment variables", () => {
    const config = okConfig({ env: { PORT: "9100", HOST: "10.0.0.1" }, argv: ["--port", "9200"] });
    expect(config.port).toBe(9200);
    expect(config.host).toBe("10.0.0.1");
  });

  test("an invalid env value is ignored when a flag overrides it", () => {
    const config = okConfig({ env: { PORT: "abc" }, argv: ["--port=9300"] });
    expect(config.port).toBe(9300);
  });

  test("an empty environment variable counts as unset", () => {
    expect(okConfig({ env: { PORT: "" } }).port).toBe(8080);
  });

  test("a bare boolean flag means true and --no-flag means false", () => {
    expect(okConfig({ env: { CACHE_ENABLED: "false" }, argv: ["--cache"] }).cache.enabled).toBe(true);
    expect(okConfig({ argv: ["--no-cache", "--no-breaker"] }).cache.enabled).toBe(false);
    expect(okConfig({ argv: ["--no-breaker"] }).breaker.enabled).toBe(false);
  });

  test("boolean flags also take an explicit value in either form", () => {
    expect(okConfig({ argv: ["--cache", "off"] }).cache.enabled).toBe(false);
    expect(okConfig({ argv: ["--cache=NO"] }).cache.enabled).toBe(false);
    expect(okConfig({ argv: ["--breaker=Yes"] }).breaker.enabled).toBe(true);
  });

  test.each([
    ["1", true],
    ["true", true],
    ["YES", true],
    ["On", true],
    ["0", false],
    ["False", false],
    ["no", false],
    ["OFF", false],
  ])("boolean env value %s parses as %s", (raw, expected) => {
    expect(okConfig({ env: { BREAKER_ENABLED: raw } }).breaker.enabled).toBe(expected);
  });

  test("a bad boolean lists the accepted values", () => {
    const errors = errorsOf({ env: { CACHE_ENABLED: "maybe" } });
    expect(errors).toEqual([
      "CACHE_ENABLED must be a boolean (1, true, yes, on or 0, false, no, off), got 'maybe'",
    ]);
  });

  test("--no-flag with a value is an error", () => {
    expect(errorsOf({ argv: ["--no-cache=true"] })[0]).toMatch(/--no-cache takes no value/);
  });

  test("a non-integer gives the range in the message", () => {
    expect(errorsOf({ env: { PORT: "abc" } })).toEqual(["PORT must be an integer from 1 to 65535, got 'abc'"]);
    expect(errorsOf({ argv: ["--port", "80.5"] })).toEqual([
      "--port must be an integer from 1 to 65535, got '80.5'",
    ]);
  });

  test("an out-of-range integer is an error", () => {
    expect(errorsOf({ argv: ["--slots", "65"] })).toEqual(["--slots must be an integer from 1 to 64, got '65'"]);
    expect(errorsOf({ env: { CONTEXT_SIZE: "64" } })).toEqual([
      "CONTEXT_SIZE must be an integer from 128 to 131072, got '64'",
    ]);
  });

  test("a bad choice lists the choices", () => {
    expect(errorsOf({ argv: ["--gpu", "opencl"] })).toEqual([
      "--gpu must be one of false, auto, cuda, vulkan, metal, got 'opencl'",
    ]);
  });

  test("choices are case-insensitive and gpu false becomes the boolean false", () => {
    const config = okConfig({ argv: ["--gpu=CUDA", "--log-level", "WARN", "--model-preset=Small"] });
    expect(config.gpu).toBe("cuda");
    expect(config.logLevel).toBe("warn");
    expect(config.modelPreset).toBe("small");
    expect(okConfig({ env: { GPU: "false" } }).gpu).toBe(false);
  });

  test("an unknown option suggests the closest known option", () => {
    expect(errorsOf({ argv: ["--prot", "9000"] })).toEqual([
      "unknown option --prot; did you mean --port? (see gauntlet serve --help)",
    ]);
    expect(errorsOf({ argv: ["--breaker-failure=3"] })[0]).toMatch(/did you mean --breaker-failures\?/);
  });

  test("an unknown option far from every known one gets no suggestion", () => {
    const errors = errorsOf({ argv: ["--zzzzzzzzzzzz"] });
    expect(errors).toEqual(["unknown option --zzzzzzzzzzzz (see gauntlet serve --help)"]);
  });

  test("a missing value is an error", () => {
    expect(errorsOf({ argv: ["--port"] })).toEqual(["--port needs a value (an integer from 1 to 65535)"]);
    expect(errorsOf({ argv: ["--host", "--port", "9000"] })).toEqual(["--host needs a value"]);
    expect(errorsOf({ argv: ["--host="] })).toEqual(["--host needs a value"]);
  });

  test("a stray positional argument is an error", () => {
    expect(errorsOf({ argv: ["extra"] })[0]).toMatch(/unexpected argument 'extra'/);
  });

  test("a repeated flag uses the last value and warns", () => {
    const result = load({ argv: ["--port", "9000", "--port", "9001"] });
    expect(result.ok && result.config.port).toBe(9001);
    expect(result.warnings).toEqual(["--port was given more than once; using the last value"]);
  });

  test("every problem is reported at once", () => {
    const errors = errorsOf({
      env: { PORT: "abc", GPU: "opencl" },
      argv: ["--slots", "0", "--prot", "1", "--cache=maybe", "--model", "./missing.gguf", "--timeout-ms"],
    });
    expect(errors).toHaveLength(7);
    expect(errors.join("\n")).toMatch(/--cache must be a boolean/);
    expect(errors.join("\n")).toMatch(/unknown option --prot/);
    expect(errors.join("\n")).toMatch(/--timeout-ms needs a value/);
    expect(errors.join("\n")).toMatch(/PORT must be an integer/);
    expect(errors.join("\n")).toMatch(/--slots must be an integer from 1 to 64, got '0'/);
    expect(errors.join("\n")).toMatch(/GPU must be one of/);
    expect(errors.join("\n")).toMatch(/model file '.\/missing.gguf' does not exist/);
  });

  test("memory reject pct must be above clear pct", () => {
    expect(errorsOf({ argv: ["--memory-clear-pct", "95", "--memory-reject-pct", "90"] })).toEqual([
      "--memory-reject-pct (90) must be greater than --memory-clear-pct (95)",
    ]);
    expect(errorsOf({ env: { MEMORY_CLEAR_PCT: "95" } })).toEqual([
      "--memory-reject-pct (default 95) must be greater than MEMORY_CLEAR_PCT (95)",
    ]);
  });

  test("a privileged port is a warning, not an error", () => {
    const result = load({ argv: ["--port", "80"] });
    expect(result.ok).toBe(true);
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toMatch(/port 80 is privileged/);
    expect(result.warningDetails.map((w) => w.code)).toEqual(["privileged-port"]);
  });

  test("more than one thread gives a distinct warning code", () => {
    const result = load({ env: { THREADS: "2" } });
    expect(result.ok).toBe(true);
    expect(result.warningDetails.map((w) => w.code)).toEqual(["threads-slow-prebuilt"]);
    expect(result.warnings[0]).toMatch(/the prebuilt engine slows down sharply above 1 thread per slot/);
  });

  test("warnings survive alongside errors", () => {
    const result = load({ argv: ["--port", "80", "--slots", "0"] });
    expect(result.ok).toBe(false);
    expect(result.warnings[0]).toMatch(/privileged/);
  });

  test("an api key shorter than 8 characters is an error that never echoes the key", () => {
    const errors = errorsOf({ argv: ["--api-key", "s3cr"] });
    expect(errors).toEqual(["--api-key must be at least 8 characters long (got 4)"]);
    expect(errors.join("")).not.toContain("s3cr");
  });

  test("a valid api key is kept in the config", () => {
    expect(okConfig({ env: { API_KEY: "abcdefgh" } }).apiKey).toBe("abcdefgh");
  });

  test("the api key never appears in any message even when misused elsewhere", () => {
    const key = "hunter2hunter2";
    const result = load({ argv: ["--api-key", key, "--port", key, "--host=" + key, "--gpu", `x${key}`] });
    const all = [...(result.ok ? [] : result.errors), ...result.warnings].join("\n");
    expect(result.ok).toBe(false);
    expect(all).not.toContain(key);
  });

  test("an unknown option swallows its value so it is neither echoed nor reported twice", () => {
    const errors = errorsOf({ argv: ["--apikey", "topsecretvalue"] });
    expect(errors).toEqual(["unknown option --apikey; did you mean --api-key? (see gauntlet serve --help)"]);
  });

  test("an absolute path given as a bad value is not echoed", () => {
    const errors = errorsOf({ argv: ["--port", "/home/me/secret"] });
    expect(errors[0]).not.toContain("/home");
    expect(errors[0]).toMatch(/got '<path>'/);
  });

  test("cache dir resolves relative to cwd and keeps absolute paths", () => {
    expect(okConfig({ argv: ["--cache-dir", "var/c"] }).cacheDir).toBe("/srv/app/var/c");
    expect(okConfig({ env: { CACHE_DIR: "/tmp/c" } }).cacheDir).toBe("/tmp/c");
  });

  test("a valid model file resolves to an absolute path", () => {
    const fs = fakeFs({ "/srv/app/m.gguf": { kind: "file", head: "GGUF\x03\x00" } });
    const config = okConfig({ argv: ["--model=./m.gguf"], fs });
    expect(config.modelPath).toBe("/srv/app/m.gguf");
  });

  test("an explicit preset next to --model warns that it is ignored", () => {
    const fs = fakeFs({ "/srv/app/m.gguf": { kind: "file", head: "GGUF" } });
    const result = load({ argv: ["--model=m.gguf", "--model-preset", "small"], fs });
    expect(result.ok).toBe(true);
    expect(result.warningDetails.map((w) => w.code)).toEqual(["preset-ignored"]);
  });

  test("the config object is deeply frozen", () => {
    const config = okConfig({}) as Config;
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(() => {
      (config.cache as { enabled: boolean }).enabled = false;
    }).toThrow(TypeError);
  });

  test("unknown environment variables are ignored", () => {
    expect(load({ env: { PATH: "/usr/bin", PROT: "1" } }).ok).toBe(true);
  });
});
