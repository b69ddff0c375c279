import { describe, expect, test } from "vitest";
import { planThreads, requestedThreadsFrom } from "../../src/engine/thread-plan.js";

describe("planThreads", () => {
  test("gives each slot one thread on the prebuilt binaries by default", () => {
    const plan = planThreads({ build: "prebuilt", cores: 8, slots: 2 });
    expect(plan.threadsPerSlot).toBe(1);
    expect(plan.totalThreads).toBe(2);
    expect(plan.warnings).toEqual([]);
  });

  test("keeps a user's request for more threads on the prebuilt but warns that it collapses", () => {
    const plan = planThreads({ build: "prebuilt", cores: 8, slots: 1, requestedThreads: 4 });
    expect(plan.threadsPerSlot).toBe(4);
    expect(plan.warnings).toHaveLength(1);
    expect(plan.warnings[0]).toMatch(/prebuilt/);
    expect(plan.warnings[0]).toMatch(/gauntlet engine build/);
  });

  test("does not warn when a user asks for exactly one thread on the prebuilt", () => {
    expect(planThreads({ build: "prebuilt", cores: 8, slots: 1, requestedThreads: 1 }).warnings).toEqual([]);
  });

  test("leaves the libuv pool alone on the prebuilt while it has a worker per slot", () => {
    expect(planThreads({ build: "prebuilt", cores: 2, slots: 4 }).uvThreadpoolSize).toBeNull();
  });

  test("grows the libuv pool on the prebuilt when there are more slots than its 4 default workers", () => {
    expect(planThreads({ build: "prebuilt", cores: 16, slots: 8 }).uvThreadpoolSize).toBe(8);
  });

  test("splits the cores between the slots on the local build", () => {
    expect(planThreads({ build: "local", cores: 2, slots: 1 }).threadsPerSlot).toBe(2);
    expect(planThreads({ build: "local", cores: 8, slots: 2 }).threadsPerSlot).toBe(4);
    expect(planThreads({ build: "local", cores: 8, slots: 3 }).threadsPerSlot).toBe(2);
  });

  test("never plans fewer than one thread per slot, even with more slots than cores", () => {
    const plan = planThreads({ build: "local", cores: 2, slots: 4 });
    expect(plan.threadsPerSlot).toBe(1);
    expect(plan.totalThreads).toBe(4);
    expect(plan.warnings.join(" ")).toMatch(/more threads \(4\) than cores \(2\)/);
  });

  test("gives the local build one libuv worker per slot, so each OpenMP team lives on one worker", () => {
    expect(planThreads({ build: "local", cores: 2, slots: 1 }).uvThreadpoolSize).toBe(1);
    expect(planThreads({ build: "local", cores: 8, slots: 2 }).uvThreadpoolSize).toBe(2);
  });

  test("with several slots on the local build, OpenMP's idle threads spin before they sleep (several teams count as oversubscribed)", () => {
    // Two libuv workers = two OpenMP teams: libgomp counts 4 threads on 2 cores as oversubscribed and lets an idle
    // thread spin only 100 times before it sleeps, so every decode of a lone 2-thread request had to wake its
    // helper (medium model: 5.2-5.7 ms per token against 3.9 with OMP_WAIT_POLICY=ACTIVE, which allows 1000;
    // GOMP_SPINCOUNT=300000 keeps libgomp's own default where the cores are not oversubscribed).
    expect(planThreads({ build: "local", cores: 2, slots: 2 }).openMpEnv).toEqual({ OMP_WAIT_POLICY: "ACTIVE", GOMP_SPINCOUNT: "300000" });
    expect(planThreads({ build: "local", cores: 8, slots: 4 }).openMpEnv).toEqual({ OMP_WAIT_POLICY: "ACTIVE", GOMP_SPINCOUNT: "300000" });
    // One team, or no OpenMP at all: libgomp's defaults.
    expect(planThreads({ build: "local", cores: 2, slots: 1 }).openMpEnv).toEqual({});
    expect(planThreads({ build: "prebuilt", cores: 2, slots: 2 }).openMpEnv).toEqual({});
  });

  test("follows a user's thread request on the local build and warns when it oversubscribes the cores", () => {
    const ok = planThreads({ build: "local", cores: 8, slots: 2, requestedThreads: 3 });
    expect(ok.threadsPerSlot).toBe(3);
    expect(ok.warnings).toEqual([]);
    const over = planThreads({ build: "local", cores: 2, slots: 1, requestedThreads: 4 });
    expect(over.threadsPerSlot).toBe(4);
    expect(over.warnings).toHaveLength(1);
    expect(over.warnings[0]).toMatch(/spin/);
  });

  test("treats an unknown or zero core count as one core", () => {
    expect(planThreads({ build: "local", cores: 0, slots: 1 }).threadsPerSlot).toBe(1);
    expect(planThreads({ build: "local", cores: Number.NaN, slots: 1 }).threadsPerSlot).toBe(1);
  });

  test("rejects a slot count or thread request below one", () => {
    expect(() => planThreads({ build: "local", cores: 2, slots: 0 })).toThrow(RangeError);
    expect(() => planThreads({ build: "prebuilt", cores: 2, slots: 1, requestedThreads: 0 })).toThrow(RangeError);
  });

  test("lets a lone generation on the local build use every core while the other slots are idle", () => {
    expect(planThreads({ build: "local", cores: 4, slots: 2 }).maxThreadsPerSlot).toBe(4);
    expect(planThreads({ build: "local", cores: 4, slots: 1 }).maxThreadsPerSlot).toBe(4);
  });

  test("keeps the thread count fixed on the prebuilt or when the user chose it", () => {
    expect(planThreads({ build: "prebuilt", cores: 4, slots: 2 }).maxThreadsPerSlot).toBe(1);
    expect(planThreads({ build: "local", cores: 4, slots: 2, requestedThreads: 1 }).maxThreadsPerSlot).toBe(1);
  });

  test("summarises the build and the plan in one line for the start-up log", () => {
    const plan = planThreads({ build: "local", cores: 2, slots: 2 });
    expect(plan.summary).toBe("local OpenMP build, 2 slot(s) x 1 thread(s) (up to 2 for a lone request) on 2 core(s), UV_THREADPOOL_SIZE=2");
    expect(planThreads({ build: "prebuilt", cores: 2, slots: 1 }).summary).toBe("prebuilt binaries, 1 slot(s) x 1 thread(s) on 2 core(s)");
  });
});

describe("requestedThreadsFrom", () => {
  test("reads --threads from argv in both spellings", () => {
    expect(requestedThreadsFrom(["--threads", "3"], {}, 3)).toBe(3);
    expect(requestedThreadsFrom(["--port", "1", "--threads=2"], {}, 2)).toBe(2);
  });

  test("reads the THREADS environment variable", () => {
    expect(requestedThreadsFrom([], { THREADS: "2" }, 2)).toBe(2);
  });

  test("says nothing was requested when neither is set, or the variable is empty", () => {
    expect(requestedThreadsFrom(["--slots", "2"], {}, 1)).toBeUndefined();
    expect(requestedThreadsFrom([], { THREADS: "" }, 1)).toBeUndefined();
  });
});
