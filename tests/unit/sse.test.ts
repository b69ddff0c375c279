import { describe, expect, test } from "vitest";
import { createSseParser, sseData, sseDone, sseEvent } from "../../src/server/sse.js";

describe("SSE framing", () => {
  test("frames a JSON object as one data event ending in a blank line", () => {
    expect(sseData({ a: 1 })).toBe('data: {"a":1}\n\n');
  });

  test("frames a named event", () => {
    expect(sseEvent("error", { error: { message: "x" } })).toBe('event: error\ndata: {"error":{"message":"x"}}\n\n');
  });

  test("ends a stream with [DONE]", () => {
    expect(sseDone()).toBe("data: [DONE]\n\n");
  });

  test("JSON text with newlines never breaks the framing", () => {
    const frame = sseData({ content: "line1\nline2\r\n\n" });
    expect(frame.slice(0, -2)).not.toMatch(/\n/);
  });
});

describe("createSseParser", () => {
  test("reassembles events split at every possible byte boundary", () => {
    const stream = sseData({ n: 1 }) + sseEvent("error", { m: "é👋" }) + ": comment\n\n" + sseDone();
    const bytes = Buffer.from(stream);
    for (let cut = 1; cut < bytes.length; cut++) {
      const events: Array<{ event: string | null; data: string }> = [];
      const p = createSseParser((e) => events.push(e));
      p.push(bytes.subarray(0, cut));
      p.push(bytes.subarray(cut));
      p.end();
      expect(events).toEqual([
        { event: null, data: '{"n":1}' },
        { event: "error", data: '{"m":"é👋"}' },
        { event: null, data: "[DONE]" },
      ]);
    }
  });

  test("accepts CRLF line endings and multi-line data", () => {
    const events: Array<{ event: string | null; data: string }> = [];
    const p = createSseParser((e) => events.push(e));
    p.push("data: a\r\ndata: b\r\n\r\n");
    expect(events).toEqual([{ event: null, data: "a\nb" }]);
  });

  test("drops an unterminated trailing event and reports it", () => {
    const events: unknown[] = [];
    const p = createSseParser((e) => events.push(e));
    p.push('data: {"x":1}\n\ndata: {"tor');
    expect(p.end()).toEqual({ incomplete: true });
    expect(events).toHaveLength(1);
  });
});
