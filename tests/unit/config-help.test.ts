import { describe, expect, test } from "vitest";
import { renderHelp } from "../../src/config/help.js";
import { OPTIONS, optionList } from "../../src/config/schema.js";

const EXPECTED_FLAGS = [
  "host", "port", "model", "model-preset", "cache-dir", "api-key", "slots", "queue", "threads", "context-size",
  "gpu", "timeout-ms", "shutdown-timeout-ms", "log-level", "body-limit", "max-tokens-limit", "cache",
  "cache-max-bytes", "cache-disk-max-bytes", "cache-quarantine-max-bytes", "cache-io-timeout-ms", "breaker", "breaker-failures", "breaker-successes",
  "breaker-cooldown-ms", "memory-clear-pct", "memory-reject-pct", "memory-check-ms", "retries", "retry-base-ms",
  "retry-jitter-pct",
];

/** A flag line starts with the flag followed by a space (value placeholder) or a comma (boolean negation). */
function flagLine(line: string, flag: string): boolean {
  return new RegExp(`^\\s+--${flag}[ ,]`).test(line);
}

describe("help", () => {
  const help = renderHelp();
  const lines = help.split("\n");

  test("the schema holds exactly the documented options", () => {
    expect(optionList().map((o) => o.flag).sort()).toEqual([...EXPECTED_FLAGS].sort());
  });

  test("every option is listed with its flag, environment name and default on one line", () => {
    for (const option of optionList()) {
      const line = lines.find((l) => flagLine(l, option.flag));
      expect(line, `--${option.flag}`).toBeDefined();
      expect(line).toContain(`env ${option.env}`);
      expect(line).toContain(`default ${option.defaultText}`);
    }
  });

  test("every option's description follows its flag line", () => {
    for (const option of optionList()) {
      const index = lines.findIndex((l) => flagLine(l, option.flag));
      expect(index).toBeGreaterThan(0);
      expect(lines[index + 1]?.trim()).toBe(option.description);
    }
  });

  test("options are grouped under headings in schema order", () => {
    const headings = lines.filter((l) => /^[A-Z][a-z]+( [a-z]+)*:$/.test(l));
    expect(headings).toEqual(["Server:", "Model:", "Engine:", "Limits:", "Logging:", "Cache:", "Circuit breaker:", "Memory:", "Retry:"]);
    const cacheHeading = lines.indexOf("Cache:");
    const breakerHeading = lines.indexOf("Circuit breaker:");
    const cacheMax = lines.findIndex((l) => l.includes("--cache-max-bytes"));
    expect(cacheMax).toBeGreaterThan(cacheHeading);
    expect(cacheMax).toBeLessThan(breakerHeading);
  });

  test("boolean options show their negated form", () => {
    expect(help).toContain("--cache, --no-cache");
    expect(help).toContain("--breaker, --no-breaker");
  });

  test("specific defaults are rendered readably", () => {
    expect(help).toMatch(/--port <int>.*env PORT.*default 8080/);
    expect(help).toMatch(/--model <path>.*env MODEL_PATH.*default none/);
    expect(help).toMatch(/--cache-dir <path>.*default \.gauntlet-cache/);
    expect(help).toMatch(/--gpu <false\|auto\|cuda\|vulkan\|metal>.*default false/);
    expect(help).toMatch(/--cache, --no-cache.*env CACHE_ENABLED.*default true/);
  });

  test("help starts with usage and explains precedence", () => {
    expect(lines[0]).toBe("Usage: gauntlet serve [options]");
    expect(help).toMatch(/flags win over environment variables/i);
  });

  test("the schema exposes options by id", () => {
    expect(OPTIONS.port.env).toBe("PORT");
    expect(OPTIONS.memoryRejectPct.flag).toBe("memory-reject-pct");
  });
});
