import { describe, expect, test } from "vitest";
import { serializeError } from "../../src/observability/logger.js";

describe("serializeError (the err of every log line)", () => {
  test("keeps type, code, status and message, with absolute paths replaced", () => {
    const err = Object.assign(new TypeError("cannot open /home/someone/models/secret.gguf for reading"), { code: "ENOENT", statusCode: 500 });
    const s = serializeError(err);
    expect(s).toMatchObject({ type: "TypeError", code: "ENOENT", statusCode: 500, message: "cannot open <path> for reading" });
    expect(s.stack).toMatch(/^\s+at /);
    expect(s.stack).not.toContain(process.cwd());
  });

  test("drops a SyntaxError's message: JSON.parse quotes the text it failed on", () => {
    let caught: unknown;
    try {
      JSON.parse('{"messages": "a secret prompt');
    } catch (err) {
      caught = err;
    }
    const s = serializeError(caught);
    expect(s.type).toBe("SyntaxError");
    expect(s.message).toBe("(omitted)");
    expect(JSON.stringify(s)).not.toContain("secret prompt");
  });

  test("accepts anything thrown, not only errors", () => {
    expect(serializeError("plain string at /etc/passwd")).toMatchObject({ type: "Error", message: "plain string at <path>", stack: "" });
    expect(serializeError(null).type).toBe("Error");
  });
});
