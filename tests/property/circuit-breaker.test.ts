import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { CircuitBreaker } from "../../src/resilience/circuit-breaker.js";
import type { BreakerEdge, BreakerState } from "../../src/resilience/circuit-breaker.js";

type Op =
  | { kind: "begin" }
  | { kind: "end"; outcome: "success" | "failure" | "release" }
  | { kind: "late"; outcome: "success" | "failure" }
  | { kind: "advance"; ms: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.constant<Op>({ kind: "begin" }),
  fc.constantFrom<Op>(
    { kind: "end", outcome: "success" },
    { kind: "end", outcome: "failure" },
    { kind: "end", outcome: "failure" },
    { kind: "end", outcome: "release" },
  ),
  fc.constantFrom<Op>({ kind: "late", outcome: "success" }, { kind: "late", outcome: "failure" }),
  fc.integer({ min: 0, max: 150 }).map((ms): Op => ({ kind: "advance", ms })),
);

const config = fc.record({
  failureThreshold: fc.integer({ min: 1, max: 6 }),
  successThreshold: fc.integer({ min: 1, max: 6 }),
  cooldownMs: fc.integer({ min: 1, max: 100 }),
  halfOpenMaxTrials: fc.integer({ min: 1, max: 3 }),
});

const VALID: Record<BreakerEdge, { from: BreakerState; to: BreakerState; by: string[] }> = {
  "closed->open": { from: "closed", to: "open", by: ["failure"] },
  "open->half-open": { from: "open", to: "half-open", by: ["begin", "read"] },
  "half-open->closed": { from: "half-open", to: "closed", by: ["success"] },
  "half-open->open": { from: "half-open", to: "open", by: ["failure"] },
};

describe("CircuitBreaker (state machine)", () => {
  test("only valid transitions happen, counts stay consistent, and it ends closed once errors stop", () => {
    fc.assert(
      fc.property(config, fc.array(op, { maxLength: 120 }), (cfg, ops) => {
        let t = 0;
        let cause = "read";
        let openedAt = 0;
        const breaker = new CircuitBreaker({ ...cfg, now: () => t });
        const events: BreakerEdge[] = [];
        let last: BreakerState = "closed";
        breaker.onTransition((from, to) => {
          const edge = `${from}->${to}` as BreakerEdge;
          expect(Object.keys(VALID)).toContain(edge);
          expect(from).toBe(last);
          expect(VALID[edge].by).toContain(cause);
          if (edge === "open->half-open") expect(t - openedAt).toBeGreaterThanOrEqual(cfg.cooldownMs);
          if (to === "open") openedAt = t;
          last = to;
          events.push(edge);
        });
        let inFlight = 0;
        let recorded = 0;

        const check = (): void => {
          cause = "read";
          const s = breaker.stats;
          expect(s.state).toBe(last);
          for (const edge of Object.keys(VALID) as BreakerEdge[]) {
            expect(s.transitions[edge]).toBe(events.filter((e) => e === edge).length);
          }
          const tr = s.transitions;
          // entries minus exits of each state: 1 for the current state, 0 for the others
          expect(1 + tr["half-open->closed"] - tr["closed->open"]).toBe(s.state === "closed" ? 1 : 0);
          expect(tr["closed->open"] + tr["half-open->open"] - tr["open->half-open"]).toBe(s.state === "open" ? 1 : 0);
          expect(tr["open->half-open"] - tr["half-open->closed"] - tr["half-open->open"]).toBe(
            s.state === "half-open" ? 1 : 0,
          );
          expect(s.successes + s.failures).toBe(recorded);
          expect(s.trialsInFlight).toBeLessThanOrEqual(cfg.halfOpenMaxTrials);
          if (s.state === "closed") expect(s.consecutiveFailures).toBeLessThan(cfg.failureThreshold);
          if (s.state === "half-open") {
            expect(s.consecutiveFailures).toBe(0);
            expect(s.consecutiveSuccesses).toBeLessThan(cfg.successThreshold);
          }
        };

        const record = (outcome: "success" | "failure" | "release"): void => {
          cause = outcome;
          if (outcome === "success") breaker.recordSuccess();
          else if (outcome === "failure") breaker.recordFailure();
          else breaker.release();
          if (outcome !== "release") recorded++;
        };

        for (const o of ops) {
          if (o.kind === "advance") t += o.ms;
          else if (o.kind === "begin") {
            cause = "begin";
            const before = breaker.state;
            cause = "begin";
            const allowed = breaker.canRequest();
            if (before === "closed") expect(allowed).toBe(true);
            if (allowed) inFlight++;
          } else if (o.kind === "end") {
            if (inFlight > 0) {
              inFlight--;
              record(o.outcome);
            }
          } else record(o.outcome);
          check();
        }

        // Errors stop: what is in flight succeeds, a cooldown passes, then requests keep succeeding.
        while (inFlight > 0) {
          inFlight--;
          record("success");
        }
        t += cfg.cooldownMs;
        for (let i = 0; i < cfg.successThreshold; i++) {
          cause = "begin";
          expect(breaker.canRequest()).toBe(true);
          record("success");
          check();
        }
        expect(breaker.state).toBe("closed");
      }),
      { numRuns: 300 },
    );
  });
});
