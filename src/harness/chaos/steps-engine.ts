/**
 * Engine faults, through the server's test-only tagged chaos engine (GAUNTLET_DEBUG_ENGINE_FAULT=tagged):
 * a request whose last message starts with `[chaos:<fault>] ` makes the engine throw, hang, stay
 * stuck or crawl for that request only, so one server runs every engine case.
 */
import { performance } from "node:perf_hooks";
import type { CaseSpec } from "./case-recorder.js";
import type { ChaosStep } from "./case-runner.js";
import { ask, chat, judgeAnswer, judgeError, reference, tagged, verifyService } from "./main-context.js";
import type { MainContext } from "./main-context.js";
import { REQUEST_TIMEOUT_MS } from "./settings.js";

const spec = (name: string, description: string, expected: string, detectWithinMs: number, recoverWithinMs = 15_000): CaseSpec => ({
  name,
  description,
  expected,
  detectWithinMs,
  recoverWithinMs,
});

const engineThrows: ChaosStep<MainContext> = {
  cases: [spec("engine-throw", "the engine throws before any token (plain and streamed requests)", "a clean 500 with an error body (never a 200, never cached as an answer); then normal service (detect: the error answer)", 10_000)],
  timeoutMs: 60_000,
  async run(ctx, rec) {
    const r = rec("engine-throw");
    const body = tagged(ask(ctx, "engine throws"), "throw");
    const t0 = performance.now();
    const plain = await chat(ctx, body);
    r.detected(plain.ms);
    judgeError(r, plain, [500, 503], "plain request");
    judgeError(r, await chat(ctx, body, { stream: true }), [500, 503], "streamed request");
    const again = await chat(ctx, body);
    judgeError(r, again, [500, 503], "the same request again (a failure is never cached)");
    await verifyService(ctx, r, t0);
  },
};

const engineThrowsMidStream: ChaosStep<MainContext> = {
  cases: [
    spec(
      "engine-throw-mid-stream",
      "the engine throws after 3 chunks of a streamed answer",
      "the stream ends with an SSE error event after text that is a prefix of the reference answer; nothing partial is cached; then normal service",
      10_000,
    ),
  ],
  timeoutMs: 60_000,
  async run(ctx, rec) {
    const r = rec("engine-throw-mid-stream");
    const body = tagged(ask(ctx, "engine throws mid-stream", 16), "throw:3");
    const ref = await reference(ctx, body);
    const t0 = performance.now();
    const reply = await chat(ctx, body, { stream: true });
    r.detected(reply.ms);
    const clean = reply.status === 200 && reply.streamError && reply.text !== null && ref.startsWith(reply.text);
    r.request(clean ? "ok" : reply.status === 200 && reply.text !== null && !ref.startsWith(reply.text) ? "wrong" : "failed", reply.ms, `status-${reply.status ?? reply.network}`);
    r.check(clean, "200, text that is a prefix of the reference, then an SSE error event", `status ${reply.status ?? reply.network}, stream error ${reply.streamError}, ${reply.text?.length ?? 0} chars`);
    const again = await chat(ctx, body, { stream: true });
    r.check(again.cacheHit !== true && again.streamError, "the same request again fails the same way (the partial answer was not cached)", `x-cache-hit ${again.cacheHit}, stream error ${again.streamError}`);
    r.request(again.streamError ? "ok" : "failed", again.ms, "cached-partial");
    await verifyService(ctx, r, t0);
  },
};

const engineHangs: ChaosStep<MainContext> = {
  cases: [
    spec(
      "engine-hang",
      "the engine produces nothing (it honours cancellation), for a plain and a streamed request at once",
      "504 request_timeout after about --timeout-ms (detect: within --timeout-ms + 2 s), both slots freed (requestsInFlight 0), then normal service",
      REQUEST_TIMEOUT_MS + 2000,
    ),
  ],
  timeoutMs: 60_000,
  async run(ctx, rec) {
    const r = rec("engine-hang");
    const body = tagged(ask(ctx, "engine hangs"), "hang");
    const t0 = performance.now();
    const [plain, streamed] = await Promise.all([chat(ctx, body), chat(ctx, tagged(ask(ctx, "engine hangs streamed"), "hang"), { stream: true })]);
    r.detected(Math.max(plain.ms, streamed.ms));
    judgeError(r, plain, [504], "plain request");
    judgeError(r, streamed, [504], "streamed request");
    r.note(`the 504s came after ${Math.round(plain.ms)} and ${Math.round(streamed.ms)} ms (server timeout ${ctx.requestTimeoutMs} ms)`);
    await verifyService(ctx, r, t0);
  },
};

const engineStuck: ChaosStep<MainContext> = {
  cases: [
    spec(
      "engine-stuck",
      "the engine ignores cancellation: it stays stuck in one call for --timeout-ms + 4 s (a native call that cannot be interrupted)",
      "504 request_timeout about --timeout-ms after the request (detect: within --timeout-ms + 2 s), not when the engine finally returns; then normal service",
      REQUEST_TIMEOUT_MS + 2000,
    ),
  ],
  timeoutMs: 60_000,
  async run(ctx, rec) {
    const r = rec("engine-stuck");
    const body = tagged(ask(ctx, "engine stuck"), `stuck:${ctx.requestTimeoutMs + 4000}`);
    const t0 = performance.now();
    const reply = await chat(ctx, body, { timeoutMs: ctx.requestTimeoutMs + 15_000 });
    r.detected(reply.ms);
    judgeError(r, reply, [504], "a request to a stuck engine");
    r.check(reply.ms <= ctx.requestTimeoutMs + 2000, "the timeout answered within --timeout-ms + 2 s", `answered after ${Math.round(reply.ms)} ms, timeout ${ctx.requestTimeoutMs} ms`);
    await verifyService(ctx, r, t0, 20_000);
  },
};

const engineSlow: ChaosStep<MainContext> = {
  cases: [
    spec(
      "engine-slow",
      "the engine emits one chunk every 40 ms for a streamed 16-token answer, while another client asks",
      "the slow answer is complete and equals the reference; the other client is served meanwhile (detect: the first slow token)",
      5_000,
    ),
  ],
  timeoutMs: 60_000,
  async run(ctx, rec) {
    const r = rec("engine-slow");
    const body = tagged(ask(ctx, "engine slow", 16), "slow:40");
    const ref = await reference(ctx, body);
    const t0 = performance.now();
    const slow = chat(ctx, body, { stream: true, onText: () => r.detected(performance.now() - t0) });
    const other = ask(ctx, "beside a slow engine");
    judgeAnswer(r, await chat(ctx, other), await reference(ctx, other), "another client meanwhile");
    const slowReply = await slow;
    judgeAnswer(r, slowReply, ref, "the slow streamed answer");
    r.note(`the slow answer took ${Math.round(slowReply.ms)} ms`);
    await verifyService(ctx, r, performance.now());
  },
};

export function engineSteps(quick: boolean): ChaosStep<MainContext>[] {
  return quick ? [engineThrows, engineThrowsMidStream, engineHangs] : [engineThrows, engineThrowsMidStream, engineHangs, engineSlow, engineStuck];
}
