import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { readMemoryLimit, readMemoryUsage } from "../../src/resilience/memory-limit.js";
import type { MemoryFs } from "../../src/resilience/memory-limit.js";

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/cgroup/${name}`, import.meta.url));
const GiB = 1024 ** 3;
const totalmem = (): number => 16 * GiB;
const rss = (): number => 99_000_000;

describe("memory-limit", () => {
  test("a cgroup v2 memory.max is the limit", async () => {
    expect(await readMemoryLimit({ root: fixture("v2"), totalmem })).toEqual({ bytes: 536870912, source: "cgroup-v2" });
  });

  test("cgroup v2 memory.max of max means unlimited, so the machine's memory is the limit", async () => {
    expect(await readMemoryLimit({ root: fixture("v2-max"), totalmem })).toEqual({ bytes: 16 * GiB, source: "machine" });
  });

  test("a cgroup v1 memory.limit_in_bytes is the limit", async () => {
    expect(await readMemoryLimit({ root: fixture("v1"), totalmem })).toEqual({ bytes: GiB, source: "cgroup-v1" });
  });

  test("the huge cgroup v1 value that means unlimited falls back to the machine", async () => {
    expect(await readMemoryLimit({ root: fixture("v1-unlimited"), totalmem })).toEqual({
      bytes: 16 * GiB,
      source: "machine",
    });
  });

  test("without cgroup files the machine's total memory is the limit", async () => {
    expect(await readMemoryLimit({ root: fixture("none"), totalmem })).toEqual({ bytes: 16 * GiB, source: "machine" });
  });

  test("a root that does not exist or unparseable files fall back to the machine", async () => {
    expect((await readMemoryLimit({ root: fixture("does-not-exist"), totalmem })).source).toBe("machine");
    expect((await readMemoryLimit({ root: fixture("garbage"), totalmem })).source).toBe("machine");
  });

  test("a cgroup limit above the machine's memory is the machine's memory", async () => {
    expect(await readMemoryLimit({ root: fixture("v1"), totalmem: () => GiB / 2 })).toEqual({
      bytes: GiB / 2,
      source: "machine",
    });
  });

  test("cgroup v2 and v1 both present: a real v1 limit is used when v2 says max", async () => {
    const files: Record<string, string> = {
      "/cg/memory.max": "max\n",
      "/cg/memory/memory.limit_in_bytes": "2147483648\n",
    };
    const fs: MemoryFs = {
      readFile: async (path) => {
        const text = files[path];
        if (text === undefined) throw Object.assign(new Error("ENOENT"), { code: "ENOENT" });
        return text;
      },
    };
    expect(await readMemoryLimit({ root: "/cg", fs, totalmem })).toEqual({ bytes: 2 * GiB, source: "cgroup-v1" });
  });

  test("an fs that fails with EACCES or EIO falls back instead of throwing", async () => {
    const fs: MemoryFs = { readFile: () => Promise.reject(Object.assign(new Error("EIO"), { code: "EIO" })) };
    expect(await readMemoryLimit({ root: "/cg", fs, totalmem })).toEqual({ bytes: 16 * GiB, source: "machine" });
    expect(await readMemoryUsage({ root: "/cg", fs, rss })).toEqual({ bytes: 99_000_000, source: "process-rss" });
  });

  test("current usage comes from memory.current under cgroup v2", async () => {
    expect(await readMemoryUsage({ root: fixture("v2"), rss })).toEqual({ bytes: 134217728, source: "cgroup-v2" });
  });

  test("current usage comes from memory.usage_in_bytes under cgroup v1", async () => {
    expect(await readMemoryUsage({ root: fixture("v1"), rss })).toEqual({ bytes: 314572800, source: "cgroup-v1" });
  });

  test("without cgroup files, or with garbage in them, usage is the process RSS", async () => {
    expect(await readMemoryUsage({ root: fixture("none"), rss })).toEqual({ bytes: 99_000_000, source: "process-rss" });
    expect(await readMemoryUsage({ root: fixture("garbage"), rss })).toEqual({
      bytes: 99_000_000,
      source: "process-rss",
    });
  });

  describe("the process's own cgroup (from /proc/self/cgroup)", () => {
    const nested = (name: string) => ({ root: fixture(`${name}/root`), selfCgroup: fixture(`${name}/self-cgroup`), totalmem });

    test("cgroup v2: a limit set on a parent group applies when the own group says max", async () => {
      expect(await readMemoryLimit(nested("v2-nested"))).toEqual({ bytes: GiB, source: "cgroup-v2" });
    });

    test("cgroup v2: the own group's lower limit wins over its parent's", async () => {
      expect(await readMemoryLimit(nested("v2-nested-own"))).toEqual({ bytes: 256 * 1024 ** 2, source: "cgroup-v2" });
    });

    test("cgroup v2: usage is the own group's memory.current", async () => {
      expect(await readMemoryUsage({ ...nested("v2-nested"), rss })).toEqual({ bytes: 209715200, source: "cgroup-v2" });
    });

    test("cgroup v1: the memory controller's line (even in a combined hierarchy) leads to the own group's limit", async () => {
      expect(await readMemoryLimit(nested("v1-nested"))).toEqual({ bytes: 512 * 1024 ** 2, source: "cgroup-v1" });
      expect(await readMemoryUsage({ ...nested("v1-nested"), rss })).toEqual({ bytes: 157286400, source: "cgroup-v1" });
    });

    test("cgroup v1 in a container: the host path does not exist under the mount, so the mount's own limit applies", async () => {
      expect(await readMemoryLimit(nested("v1-container"))).toEqual({ bytes: 300 * 1024 ** 2, source: "cgroup-v1" });
      expect(await readMemoryUsage({ ...nested("v1-container"), rss })).toEqual({ bytes: 52428800, source: "cgroup-v1" });
    });

    test("an unreadable or garbled /proc/self/cgroup falls back to the mount root", async () => {
      expect(await readMemoryLimit({ root: fixture("v2"), selfCgroup: fixture("does-not-exist"), totalmem })).toEqual({ bytes: 536870912, source: "cgroup-v2" });
      expect(await readMemoryLimit({ root: fixture("v2"), selfCgroup: fixture("garbage/memory.max"), totalmem })).toEqual({ bytes: 536870912, source: "cgroup-v2" });
    });

    test("a path in /proc/self/cgroup cannot climb out of the mount", async () => {
      const files: Record<string, string> = { "/proc/self/cgroup": "0::/../../etc\n", "/cg/memory.max": "1073741824\n", "/etc/memory.max": "1\n" };
      const fs: MemoryFs = { readFile: async (path) => files[path] ?? Promise.reject(Object.assign(new Error("ENOENT"), { code: "ENOENT" })) };
      expect(await readMemoryLimit({ root: "/cg", selfCgroup: "/proc/self/cgroup", fs, totalmem })).toEqual({ bytes: GiB, source: "cgroup-v2" });
    });
  });
});
