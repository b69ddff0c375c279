import { describe, expect, test } from "vitest";
import { parseArgv, wantsHelp } from "../../src/config/argv.js";
import { makeEcho } from "../../src/config/echo.js";

const echo = makeEcho(null);

describe("argv", () => {
  test("raw values are recorded with the flag that set them", () => {
    const parsed = parseArgv(["--port", "9000", "--gpu=auto", "--no-cache"]);
    expect(parsed.values.get("port")).toEqual({ raw: "9000", label: "--port" });
    expect(parsed.values.get("gpu")).toEqual({ raw: "auto", label: "--gpu" });
    expect(parsed.values.get("cacheEnabled")).toEqual({ raw: "false", label: "--cache" });
    expect(parsed.errors).toEqual([]);
  });

  test("a negative number is taken as a value, not as an option", () => {
    expect(parseArgv(["--port", "-5"]).values.get("port")?.raw).toBe("-5");
  });

  test("a single-dash option is unknown", () => {
    const parsed = parseArgv(["-p", "9000"]);
    expect(parsed.errors).toHaveLength(1);
    expect(parsed.errors[0]?.(echo)).toMatch(/^unknown option -p/);
  });

  test("arguments after -- are unexpected", () => {
    const parsed = parseArgv(["--", "x", "--port"]);
    expect(parsed.errors.map((m) => m(echo))).toEqual([
      "unexpected argument 'x'; serve takes only --options (see gauntlet serve --help)",
      "unexpected argument '--port'; serve takes only --options (see gauntlet serve --help)",
    ]);
    expect(parsed.values.has("port")).toBe(false);
  });

  test("a missing value still marks the option as touched so env cannot stand in", () => {
    const parsed = parseArgv(["--port"]);
    expect(parsed.touched.has("port")).toBe(true);
    expect(parsed.values.has("port")).toBe(false);
  });

  test("wantsHelp finds --help or -h before a --", () => {
    expect(wantsHelp(["--port", "1", "--help"])).toBe(true);
    expect(wantsHelp(["-h"])).toBe(true);
    expect(wantsHelp(["--", "--help"])).toBe(false);
    expect(wantsHelp(["--port", "1"])).toBe(false);
  });
});
