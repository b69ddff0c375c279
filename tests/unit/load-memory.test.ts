import { describe, expect, test } from "vitest";
import { createMemorySampler } from "../../src/harness/load/memory-sampler.js";
import { parseProcStatusRss, parsePrometheusRss, procMemorySource } from "../../src/harness/load/memory-source.js";

describe("parseProcStatusRss", () => {
  test("reads VmRSS in kB as bytes", () => {
    expect(parseProcStatusRss("Name:\tnode\nVmPeak:\t  900 kB\nVmRSS:\t  123456 kB\nThreads:\t7\n")).toBe(123456 * 1024);
    expect(parseProcStatusRss("Name:\tzombie\n")).toBeNull();
  });
});

describe("parsePrometheusRss", () => {
  test("reads process_resident_memory_bytes with or without labels and timestamps", () => {
    expect(parsePrometheusRss("# HELP x\nprocess_resident_memory_bytes 1.5e+08\n")).toBe(1.5e8);
    expect(parsePrometheusRss('process_resident_memory_bytes{instance="a"} 4096 1700000000\n')).toBe(4096);
  });

  test("is null when the metric is missing, never a guess", () => {
    expect(parsePrometheusRss("process_cpu_seconds_total 3\nprocess_resident_memory_bytes_max 5\n")).toBeNull();
  });
});

describe("procMemorySource", () => {
  test("reads this process's own RSS", async () => {
    expect(await procMemorySource(process.pid)()).toBeGreaterThan(0);
  });

  test("is null for a process that does not exist", async () => {
    expect(await procMemorySource(2 ** 30)()).toBeNull();
  });
});

describe("createMemorySampler", () => {
  test("keeps readings with their run time and drops unavailable ones", async () => {
    let t = 100;
    const values = [10, null, 30];
    const sampler = createMemorySampler(async () => values.shift() ?? null, { intervalMs: 60_000, clock: { now: () => t, sleep: async () => undefined }, origin: 50 });
    await sampler.start();
    t = 200;
    await sampler.stop();
    expect(sampler.samples()).toEqual([{ tMs: 50, rssBytes: 10 }]);
    expect(sampler.between(100, 100)).toHaveLength(1);
    expect(sampler.between(101, 300)).toHaveLength(0);
  });
});

describe("createMemorySampler.sampleNow", () => {
  test("adds a reading on demand, e.g. at the start and end of a measured phase", async () => {
    let t = 0;
    let v = 0;
    const sampler = createMemorySampler(async () => (v += 10), { intervalMs: 60_000, clock: { now: () => t, sleep: async () => undefined }, origin: 0 });
    await sampler.start();
    t = 5;
    await sampler.sampleNow();
    t = 9;
    await sampler.sampleNow();
    await sampler.stop();
    expect(sampler.samples()).toEqual([{ tMs: 0, rssBytes: 10 }, { tMs: 5, rssBytes: 20 }, { tMs: 9, rssBytes: 30 }]);
  });
});
