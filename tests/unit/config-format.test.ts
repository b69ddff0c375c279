import { describe, expect, test } from "vitest";
import { formatConfigErrors } from "../../src/config/format.js";

describe("format", () => {
  test("errors are listed with a count and a pointer to help", () => {
    const text = formatConfigErrors(["PORT must be an integer from 1 to 65535, got 'abc'", "unknown option --prot"], []);
    expect(text).toBe(
      [
        "gauntlet: 2 configuration errors:",
        "  - PORT must be an integer from 1 to 65535, got 'abc'",
        "  - unknown option --prot",
        "Run 'gauntlet serve --help' to see every option.",
      ].join("\n"),
    );
  });

  test("a single error uses the singular", () => {
    expect(formatConfigErrors(["x"], [])).toMatch(/^gauntlet: 1 configuration error:\n/);
  });

  test("warnings are listed after errors", () => {
    const text = formatConfigErrors(["bad"], ["careful"]);
    const lines = text.split("\n");
    expect(lines.indexOf("  - bad")).toBeLessThan(lines.indexOf("warning: careful"));
  });

  test("warnings alone have no error header or help pointer", () => {
    expect(formatConfigErrors([], ["a", "b"])).toBe("warning: a\nwarning: b");
  });

  test("nothing to report gives an empty string", () => {
    expect(formatConfigErrors([], [])).toBe("");
  });
});
