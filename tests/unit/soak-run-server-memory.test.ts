import { describe, expect, test } from "vitest";
import { createServerMemoryReader, parseMetricsMemory } from "../../src/harness/soak-run/server-memory.js";

const MiB = 1024 * 1024;
const body = (memory: unknown) => ({ timestamp: "x", memory });

describe("soak-run server memory", () => {
  test("reads rss, heap and external (MB) from the /v1/metrics JSON memory section", () => {
    expect(parseMetricsMemory(body({ rss_mb: 200.5, heap_used_mb: 33.25, external_mb: 6.5 }))).toEqual({ rss: 200.5 * MiB, heapUsed: 33.25 * MiB, external: 6.5 * MiB });
    expect(parseMetricsMemory(body({ rss_mb: null, heap_used_mb: null, external_mb: null }))).toBeNull();
    expect(parseMetricsMemory({})).toBeNull();
    expect(parseMetricsMemory("nope")).toBeNull();
  });

  test("bundled server: RSS from /proc, heap and external from /v1/metrics", async () => {
    const r = await createServerMemoryReader({ pid: 42, readProcRss: async () => 300 * MiB, fetchJson: async () => body({ rss_mb: 290, heap_used_mb: 30, external_mb: 5 }), fetchText: async () => null });
    expect(r.detail).toBe("rss+heap+external");
    expect(r.note).toMatch(/\/proc\/42/);
    expect(await r.read()).toEqual({ rss: 300 * MiB, heapUsed: 30 * MiB, external: 5 * MiB });
  });

  test("degrades to RSS only, and says so, when the server has no /v1/metrics memory section", async () => {
    const r = await createServerMemoryReader({ pid: 42, readProcRss: async () => 300 * MiB, fetchJson: async () => null, fetchText: async () => null });
    expect(r.detail).toBe("rss");
    expect(r.note).toMatch(/RSS only/);
    expect(await r.read()).toEqual({ rss: 300 * MiB, heapUsed: null, external: null });
  });

  test("a --target: everything from /v1/metrics, or RSS from Prometheus /metrics, or nothing", async () => {
    const full = await createServerMemoryReader({ pid: null, readProcRss: async () => null, fetchJson: async () => body({ rss_mb: 100, heap_used_mb: 10, external_mb: 1 }), fetchText: async () => null });
    expect(full.detail).toBe("rss+heap+external");
    expect(await full.read()).toEqual({ rss: 100 * MiB, heapUsed: 10 * MiB, external: 1 * MiB });
    const prom = await createServerMemoryReader({ pid: null, readProcRss: async () => null, fetchJson: async () => null, fetchText: async () => "process_resident_memory_bytes 123456\n" });
    expect(prom.detail).toBe("rss");
    expect(await prom.read()).toEqual({ rss: 123456, heapUsed: null, external: null });
    const none = await createServerMemoryReader({ pid: null, readProcRss: async () => null, fetchJson: async () => null, fetchText: async () => null });
    expect(none.detail).toBe("none");
    expect(await none.read()).toBeNull();
  });

  test("a failed /v1/metrics read during the run keeps RSS and leaves heap/external unknown for that sample", async () => {
    let n = 0;
    const r = await createServerMemoryReader({ pid: 1, readProcRss: async () => 10 * MiB, fetchJson: async () => (n++ === 0 ? body({ rss_mb: 10, heap_used_mb: 1, external_mb: 1 }) : null), fetchText: async () => null });
    expect(await r.read()).toEqual({ rss: 10 * MiB, heapUsed: null, external: null });
  });
});
