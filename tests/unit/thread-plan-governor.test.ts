import { describe, expect, test } from "vitest";
import { createThreadChooser, createThreadGovernor } from "../../src/engine/thread-plan-governor.js";

/** Feeds the governor decodes that take `msFor(threads)` each; returns the thread counts it chose. */
function drive(gov: ReturnType<typeof createThreadGovernor>, wanted: number, n: number, msFor: (threads: number) => number): number[] {
  const chosen: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = gov.choose(wanted);
    chosen.push(t);
    gov.record(t, msFor(t));
  }
  return chosen;
}

describe("createThreadGovernor", () => {
  test("uses the planned thread count when it is the minimum (nothing to decide)", () => {
    const gov = createThreadGovernor({ min: 1 });
    expect(drive(gov, 1, 50, () => 1)).toEqual(Array(50).fill(1));
  });

  test("keeps the larger thread count while it is faster", () => {
    const gov = createThreadGovernor({ min: 1 });
    const chosen = drive(gov, 2, 400, (t) => (t === 2 ? 1.5 : 3));
    const share = chosen.slice(100).filter((t) => t === 2).length / 300;
    expect(share).toBeGreaterThan(0.95);
  });

  test("keeps the minimum when more threads win by less than the margin (a tiny model: the spinning threads cost the server's own thread more than they save)", () => {
    // minUsefulMs 0: the margin alone decides here.
    const gov = createThreadGovernor({ min: 1, minUsefulMs: 0 });
    // bench:engine, tiny model: 2 threads were ~9% faster per decode in-process, yet the HTTP server was 6-15%
    // slower with them than with 1 (they take the core the main thread needs for HTTP, JSON and the token loop).
    const chosen = drive(gov, 2, 600, (t) => (t === 2 ? 1.1 : 1.2));
    const late = chosen.slice(100);
    expect(late.filter((t) => t === 1).length / late.length).toBeGreaterThan(0.95);
  });

  test("stays at the minimum when a decode there is already short (under 1 ms): more threads cannot pay for the core they take", () => {
    // bench:engine, tiny model over HTTP: 1 thread matched llama-server (0.98-1.13 of its requests/s at 1, 2 and
    // 8 connections) where the governed 2-thread plan fell to 0.83-0.86 at 8, though 2 threads decoded faster alone.
    const gov = createThreadGovernor({ min: 1 });
    const chosen = drive(gov, 2, 2000, (t) => (t === 2 ? 0.05 : 0.08));
    expect(chosen.slice(10).filter((t) => t === 2)).toHaveLength(0);
    // A decode that takes longer at the minimum (a bigger model, a busy machine) brings the larger count back.
    const later = drive(gov, 2, 600, (t) => (t === 2 ? 3 : 6));
    expect(later.slice(-100).filter((t) => t === 2).length).toBeGreaterThan(95);
  });

  test("uses more threads once they win by more than the margin, and a custom margin moves the line", () => {
    // The medium model: 2 threads ~25-30% faster per decode.
    expect(drive(createThreadGovernor({ min: 1 }), 2, 600, (t) => (t === 2 ? 4.5 : 6)).slice(100).filter((t) => t === 2).length).toBeGreaterThan(475);
    expect(drive(createThreadGovernor({ min: 1, margin: 0 }), 2, 600, (t) => (t === 2 ? 1.1 : 1.2)).slice(100).filter((t) => t === 2).length).toBeGreaterThan(475);
  });

  test("falls back to the minimum when more threads collapse (busy-waiting on an oversubscribed machine)", () => {
    const gov = createThreadGovernor({ min: 1 });
    const chosen = drive(gov, 2, 2000, (t) => (t === 2 ? 20 : 0.3));
    const late = chosen.slice(200);
    expect(late.filter((t) => t === 1).length / late.length).toBeGreaterThan(0.99);
  });

  test("probes the larger count again and returns to it once it is faster again", () => {
    // Timings under 1 ms at the minimum would end the probing (minUsefulMs): this test is about probing.
    const gov = createThreadGovernor({ min: 1, maxProbeInterval: 64, minUsefulMs: 0 });
    drive(gov, 2, 500, (t) => (t === 2 ? 20 : 0.3));
    const chosen = drive(gov, 2, 600, (t) => (t === 2 ? 0.15 : 0.3));
    expect(chosen.slice(-100).filter((t) => t === 2).length).toBeGreaterThan(95);
  });

  test("a rare slow decode at the faster count (the core taken for a moment) does not send it back to the slower count", () => {
    // gauntlet serve, medium model, 2 cores: 2 threads take ~3.4 ms per token and 1 thread ~5.3 ms, but now and then
    // a 2-thread decode waits for a preempted thread (20 ms). With a mean that one sample decided, the governor ran
    // 1589 of 2885 decodes on 1 thread and served 20% fewer requests/s than fixed 2 threads.
    const gov = createThreadGovernor({ min: 1 });
    let twos = 0;
    const chosen = drive(gov, 2, 3000, (t) => (t === 2 ? (++twos % 20 === 0 ? 20 : 3.4) : 5.3));
    const late = chosen.slice(200);
    expect(late.filter((t) => t === 2).length / late.length).toBeGreaterThan(0.95);
  });

  test("one lucky probe at the slower count does not switch: a probe is several decodes", () => {
    // 1 thread is slower (6 ms) except the first decode after a switch, which found the core free (2 ms).
    const gov = createThreadGovernor({ min: 1, minUsefulMs: 0 });
    let last = 0;
    const chosen: number[] = [];
    for (let i = 0; i < 3000; i++) {
      const t = gov.choose(2);
      chosen.push(t);
      gov.record(t, t === 2 ? 3.4 : last === 1 ? 6 : 2);
      last = t;
    }
    const late = chosen.slice(200);
    expect(late.filter((t) => t === 2).length / late.length).toBeGreaterThan(0.95);
  });

  test("the chooser never spends a probe on a prompt decode (its time is not a step's time and is not recorded)", () => {
    const chooser = createThreadChooser({ threads: 1, maxThreads: 2, governed: true, busySlots: () => 1 });
    const contexts = chooser("contexts");
    const counts = { prompt: new Map<number, number>() };
    for (let i = 0; i < 2000; i++) {
      // One prompt decode, then 30 generation steps: 2 threads 3 ms, 1 thread 6 ms.
      const p = contexts.acquire(0);
      counts.prompt.set(p.threads, (counts.prompt.get(p.threads) ?? 0) + 1);
      p.done(40);
      for (let k = 0; k < 30; k++) {
        const l = contexts.acquire(1);
        l.done(l.threads === 2 ? 3 : 6);
      }
    }
    // Every prompt decode after the first few used the faster count: probes go to generation steps only.
    expect(counts.prompt.get(1) ?? 0).toBeLessThanOrEqual(2);
    expect(chooser.snapshot("contexts")[1]).toBeCloseTo(6, 5);
  });

  test("reports its estimates per thread count", () => {
    const gov = createThreadGovernor({ min: 1 });
    drive(gov, 2, 300, (t) => (t === 2 ? 0.2 : 0.4));
    const s = gov.snapshot();
    expect(s[2]).toBeCloseTo(0.2, 5);
    expect(s[1]).toBeCloseTo(0.4, 5);
  });
});
