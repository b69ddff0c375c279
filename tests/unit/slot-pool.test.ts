import { describe, expect, test } from "vitest";
import { ApiError } from "../../src/errors.js";
import { createSlotPool } from "../../src/engine/slot-pool.js";

describe("createSlotPool", () => {
  test("hands out free slots at once and reports them busy", async () => {
    const pool = createSlotPool({ slots: 2, queueMax: 4 });
    const a = await pool.acquire();
    const b = await pool.acquire();
    expect(new Set([a.slot, b.slot])).toEqual(new Set([0, 1]));
    expect(pool.stats()).toMatchObject({ busy: 2, waiting: 0 });
  });

  test("queues requests past the slot count and serves them in arrival order", async () => {
    const pool = createSlotPool({ slots: 1, queueMax: 4 });
    const first = await pool.acquire();
    const order: number[] = [];
    const p2 = pool.acquire().then((l) => { order.push(2); return l; });
    const p3 = pool.acquire().then((l) => { order.push(3); return l; });
    expect(pool.stats().waiting).toBe(2);
    first.release();
    const l2 = await p2;
    l2.release();
    const l3 = await p3;
    expect(order).toEqual([2, 3]);
    expect(l3.slot).toBe(0);
    l3.release();
    expect(pool.stats()).toMatchObject({ busy: 0, waiting: 0 });
  });

  test("rejects with a 503 queue_full error and Retry-After when the queue is full", async () => {
    const pool = createSlotPool({ slots: 1, queueMax: 1 });
    await pool.acquire();
    void pool.acquire();
    const err = await pool.acquire().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(503);
    expect((err as ApiError).code).toBe("queue_full");
    expect((err as ApiError).retryAfterSeconds).toBeGreaterThan(0);
  });

  test("a queue of zero rejects as soon as every slot is busy", async () => {
    const pool = createSlotPool({ slots: 1, queueMax: 0 });
    await pool.acquire();
    await expect(pool.acquire()).rejects.toMatchObject({ code: "queue_full" });
  });

  test("an aborted waiter leaves the queue and never takes a slot", async () => {
    const pool = createSlotPool({ slots: 1, queueMax: 4 });
    const first = await pool.acquire();
    const ac = new AbortController();
    const waiting = pool.acquire({ signal: ac.signal });
    ac.abort(new Error("client went away"));
    await expect(waiting).rejects.toThrow("client went away");
    expect(pool.stats().waiting).toBe(0);
    first.release();
    expect(pool.stats().busy).toBe(0);
  });

  test("an already aborted signal is rejected without queueing", async () => {
    const pool = createSlotPool({ slots: 1, queueMax: 4 });
    await expect(pool.acquire({ signal: AbortSignal.abort(new Error("gone")) })).rejects.toThrow("gone");
    expect(pool.stats()).toMatchObject({ busy: 0, waiting: 0 });
  });

  test("releasing twice frees the slot only once", async () => {
    const pool = createSlotPool({ slots: 2, queueMax: 4 });
    const a = await pool.acquire();
    await pool.acquire();
    a.release();
    a.release();
    expect(pool.stats().busy).toBe(1);
  });

  test("the chooser picks among free slots", async () => {
    const pool = createSlotPool({ slots: 3, queueMax: 4 });
    const lease = await pool.acquire({ choose: (free) => free[free.length - 1]! });
    expect(lease.slot).toBe(2);
  });

  test("measures how long a request waited for its slot", async () => {
    let t = 1000;
    const pool = createSlotPool({ slots: 1, queueMax: 4, now: () => t });
    const first = await pool.acquire();
    expect(first.queuedMs).toBe(0);
    const p = pool.acquire();
    t += 250;
    first.release();
    expect((await p).queuedMs).toBe(250);
  });

  test("close rejects every waiter with shutting_down and refuses new requests", async () => {
    const pool = createSlotPool({ slots: 1, queueMax: 4 });
    await pool.acquire();
    const w = pool.acquire();
    pool.close();
    await expect(w).rejects.toMatchObject({ code: "shutting_down" });
    await expect(pool.acquire()).rejects.toMatchObject({ code: "shutting_down" });
  });

  test("idle resolves once every slot is free", async () => {
    const pool = createSlotPool({ slots: 2, queueMax: 4 });
    const a = await pool.acquire();
    let idle = false;
    const p = pool.idle().then(() => { idle = true; });
    await Promise.resolve();
    expect(idle).toBe(false);
    a.release();
    await p;
    expect(idle).toBe(true);
  });
});
