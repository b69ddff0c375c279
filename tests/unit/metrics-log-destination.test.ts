import { PassThrough, Writable } from "node:stream";
import { describe, expect, test } from "vitest";
import { createSafeDestination } from "../../src/observability/log-destination.js";

const tick = () => new Promise((r) => setImmediate(r));

describe("createSafeDestination", () => {
  test("passes lines through to a healthy stream", async () => {
    const out = new PassThrough();
    const chunks: string[] = [];
    out.on("data", (c: Buffer) => chunks.push(c.toString()));
    const d = createSafeDestination(out);
    d.write('{"a":1}\n');
    d.write('{"a":2}\n');
    await tick();
    expect(chunks.join("")).toBe('{"a":1}\n{"a":2}\n');
    expect(d.failures).toBe(0);
  });

  test("a stream whose writes fail (disk full) is counted, not thrown, and no error escapes", async () => {
    const failures: unknown[] = [];
    const full = new Writable({
      write(_chunk, _enc, cb) {
        cb(Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" }));
      },
    });
    const d = createSafeDestination(full, { onFailure: (e) => failures.push(e) });
    expect(() => d.write("line 1\n")).not.toThrow();
    await tick();
    expect(() => d.write("line 2\n")).not.toThrow();
    await tick();
    expect(d.failures).toBe(2);
    expect(failures).toHaveLength(2);
  });

  test("a destination that throws synchronously (closed pipe) is counted, not thrown", () => {
    const d = createSafeDestination({
      write() {
        throw Object.assign(new Error("EPIPE"), { code: "EPIPE" });
      },
    });
    expect(() => d.write("x\n")).not.toThrow();
    expect(d.failures).toBe(1);
  });

  test("a destroyed stream drops lines and counts them", async () => {
    const out = new PassThrough();
    out.destroy();
    await tick();
    const d = createSafeDestination(out);
    d.write("x\n");
    expect(d.failures).toBe(1);
  });

  test("a consumer that stopped reading makes lines drop beyond the buffer bound instead of growing memory", () => {
    const stalled = new Writable({ highWaterMark: 16, write() {} });
    const d = createSafeDestination(stalled, { maxBufferedBytes: 64 });
    for (let i = 0; i < 20; i++) d.write("0123456789\n");
    expect(stalled.writableLength).toBeLessThanOrEqual(64 + 11);
    expect(d.failures).toBeGreaterThan(0);
  });

  test("an onFailure hook that throws is itself contained", () => {
    const d = createSafeDestination(
      {
        write() {
          throw new Error("EIO");
        },
      },
      {
        onFailure: () => {
          throw new Error("hook bug");
        },
      },
    );
    expect(() => d.write("x\n")).not.toThrow();
  });

  test("close() detaches its error listener from the stream", () => {
    const out = new PassThrough();
    const before = out.listenerCount("error");
    const d = createSafeDestination(out);
    expect(out.listenerCount("error")).toBe(before + 1);
    d.close();
    expect(out.listenerCount("error")).toBe(before);
  });
});
