/**
 * Client faults against the running server: bodies that are not JSON, not UTF-8, too big or
 * dripped byte by byte; a client that leaves mid-stream or reads very slowly; thousands of idle
 * connections. Each case ends by checking that normal service is back (verifyService).
 */
import net from "node:net";
import { performance } from "node:perf_hooks";
import type { CaseSpec } from "./case-recorder.js";
import type { ChaosStep } from "./case-runner.js";
import { errorCodeOf, sendRaw } from "./http-client.js";
import type { RawReply } from "./http-client.js";
import { ask, chat, inFlight, judgeAnswer, judgeError, reference, tagged, verifyService, waitUntil } from "./main-context.js";
import type { MainContext } from "./main-context.js";
import { SLOW_READER_TOKENS } from "./settings.js";
import { tcpQueues } from "./tcp-queues.js";

const json = { "content-type": "application/json" };
const asError = (r: RawReply) => ({ status: r.status, errorCode: errorCodeOf(r.body), ms: r.ms, network: r.network });
const spec = (name: string, description: string, expected: string, detectWithinMs = 10_000, recoverWithinMs = 15_000): CaseSpec => ({
  name,
  description,
  expected,
  detectWithinMs,
  recoverWithinMs,
});

const malformed: ChaosStep<MainContext> = {
  cases: [spec("client-malformed-json", "bodies that are not JSON, not an object, or of the wrong types", "400 with an OpenAI error body for each; normal service right after (detect: the first 400)")],
  timeoutMs: 60_000,
  async run(ctx, rec) {
    const r = rec("client-malformed-json");
    const t0 = performance.now();
    const bodies = ['{"messages": [', "[1,2,3]", '{"messages":"hello","max_tokens":"many"}', "null"];
    for (const [i, body] of bodies.entries()) {
      const reply = await sendRaw(ctx.server.baseUrl, { path: "/v1/chat/completions", headers: json, parts: [Buffer.from(body)] });
      judgeError(r, asError(reply), [400], `malformed body ${i + 1}`);
      if (i === 0 && reply.status === 400) r.detected(performance.now() - t0);
    }
    await verifyService(ctx, r, t0);
  },
};

const invalidUtf8: ChaosStep<MainContext> = {
  cases: [
    spec(
      "client-invalid-utf8",
      "a JSON body whose message holds bytes that are not UTF-8 (0xFF 0xFE, a truncated sequence)",
      "a clean 400, or 200 with exactly the answer to the text as the server decodes it (U+FFFD replacements); then normal service",
    ),
  ],
  timeoutMs: 60_000,
  async run(ctx, rec) {
    const r = rec("client-invalid-utf8");
    const content = Buffer.concat([Buffer.from("bad bytes "), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from(` here (${ctx.runTag})`)]);
    const pre = Buffer.from('{"messages":[{"role":"user","content":"');
    const post = Buffer.from('"}],"max_tokens":8,"temperature":0}');
    const t0 = performance.now();
    const reply = await sendRaw(ctx.server.baseUrl, { path: "/v1/chat/completions", headers: json, parts: [Buffer.concat([pre, content, post])], keepBytes: 1 << 16 });
    r.detected(performance.now() - t0);
    if (reply.status === 400) judgeError(r, asError(reply), [400], "invalid UTF-8 body");
    else {
      const decoded = { messages: [{ role: "user", content: content.toString("utf8") }], max_tokens: 8, temperature: 0 };
      let text: string | null = null;
      try {
        text = (JSON.parse(reply.body) as { choices?: { message?: { content?: string } }[] }).choices?.[0]?.message?.content ?? null;
      } catch {
        text = null;
      }
      judgeAnswer(r, { status: reply.status, cacheHit: null, text, errorCode: null, streamError: false, network: reply.network, ms: reply.ms, body: reply.body, bytes: reply.body.length }, await reference(ctx, decoded), "invalid UTF-8 body");
    }
    await verifyService(ctx, r, t0);
  },
};

const hugeBody: ChaosStep<MainContext> = {
  cases: [spec("client-huge-body", "a 2 MiB body (twice the server's 1 MiB limit), with Content-Length and chunked", "413 payload_too_large for both, the connection freed; then normal service (detect: the first 413)")],
  timeoutMs: 60_000,
  async run(ctx, rec) {
    const r = rec("client-huge-body");
    const big = Buffer.from(JSON.stringify({ messages: [{ role: "user", content: "x".repeat(2 << 20) }], max_tokens: 8, temperature: 0 }));
    const t0 = performance.now();
    // The server may refuse on the headers alone and close: a client still pushing the body then gets EPIPE
    // or a reset instead of the answer. So the body follows a first piece after a pause, as a real client's
    // would while the answer is already on its way.
    const sized = await sendRaw(ctx.server.baseUrl, { path: "/v1/chat/completions", headers: { ...json, "content-length": big.length }, parts: [big.subarray(0, 64 << 10), big.subarray(64 << 10)], gapMs: 300 });
    if (sized.status === 413) r.detected(performance.now() - t0);
    judgeError(r, asError(sized), [413], "2 MiB body with Content-Length");
    const pieces = Array.from({ length: 32 }, (_, i) => big.subarray((i * big.length) / 32, ((i + 1) * big.length) / 32));
    const chunked = await sendRaw(ctx.server.baseUrl, { path: "/v1/chat/completions", headers: { ...json, "transfer-encoding": "chunked" }, parts: pieces, gapMs: 10 });
    judgeError(r, asError(chunked), [413], "2 MiB chunked body");
    await verifyService(ctx, r, t0);
  },
};

const slowDrip: ChaosStep<MainContext> = {
  cases: [
    spec(
      "client-slow-drip-body",
      "a request body dripped in 12 pieces, 150 ms apart, while another client asks normally",
      "both answered 200 with their reference answers; the drip blocks nobody (detect: the dripped request's answer)",
    ),
  ],
  timeoutMs: 60_000,
  async run(ctx, rec) {
    const r = rec("client-slow-drip-body");
    const body = ask(ctx, "slow drip");
    const bytes = Buffer.from(JSON.stringify(body));
    const parts = Array.from({ length: 12 }, (_, i) => bytes.subarray(Math.floor((i * bytes.length) / 12), Math.floor(((i + 1) * bytes.length) / 12)));
    const t0 = performance.now();
    const dripped = sendRaw(ctx.server.baseUrl, { path: "/v1/chat/completions", headers: { ...json, "content-length": bytes.length }, parts, gapMs: 150, timeoutMs: 20_000, keepBytes: 1 << 16 });
    await new Promise((res) => setTimeout(res, 300));
    const other = ask(ctx, "while another drips");
    const otherReply = await chat(ctx, other);
    const otherAt = performance.now() - t0;
    const drip = await dripped;
    r.detected(drip.ms);
    judgeAnswer(r, otherReply, await reference(ctx, other), "a normal request during the drip");
    r.note(`the normal request was answered ${Math.round(otherAt)} ms into the drip; the dripped one after ${Math.round(drip.ms)} ms`);
    let text: string | null = null;
    try {
      text = (JSON.parse(drip.body) as { choices?: { message?: { content?: string } }[] }).choices?.[0]?.message?.content ?? null;
    } catch {
      text = null;
    }
    judgeAnswer(r, { status: drip.status, cacheHit: null, text, errorCode: errorCodeOf(drip.body), streamError: false, network: drip.network, ms: drip.ms, body: drip.body, bytes: drip.body.length }, await reference(ctx, body), "the dripped request");
    await verifyService(ctx, r, performance.now());
  },
};

const disconnect: ChaosStep<MainContext> = {
  cases: [
    spec(
      "client-disconnect-mid-stream",
      "a streaming client drops its connection after the first tokens of a slow (25 ms/token) 32-token answer",
      "the server notices, frees the slot (/health requestsInFlight back to 0: detect), caches nothing partial (the same request later is generated afresh and complete)",
      5_000,
    ),
  ],
  timeoutMs: 60_000,
  async run(ctx, rec) {
    const r = rec("client-disconnect-mid-stream");
    const body = tagged(ask(ctx, "disconnect mid-stream", 32), "slow:25");
    let droppedAt = 0;
    const dropped = await chat(ctx, body, {
      stream: true,
      onText: (_t, abort) => {
        droppedAt = performance.now();
        abort();
      },
    });
    r.check(dropped.network === "aborted" && droppedAt > 0, "the client left after the first tokens", `status ${dropped.status}, ${dropped.network ?? "complete"}`);
    r.request(dropped.network === "aborted" ? "ok" : "failed", dropped.ms, "did-not-stream");
    const idle = await waitUntil(async () => (await inFlight(ctx)) === 0, 10_000);
    if (idle !== null) r.detected(performance.now() - droppedAt);
    r.check(idle !== null, "the server freed the request (requestsInFlight 0)");
    const again = await chat(ctx, body, { stream: true });
    r.check(again.cacheHit === false, "the abandoned generation was not cached (the same request later: x-cache-hit false)", `x-cache-hit ${again.cacheHit}`);
    judgeAnswer(r, again, await reference(ctx, body), "the same request, read to the end");
    await verifyService(ctx, r, droppedAt);
  },
};

/** How long the server's send queue must sit still, non-empty, to count as held back by the reader. */
const STALL_MS = 1000;
/** An upper bound of what the paused reader's HTTP client buffers itself (its response stream and one socket read). */
const CLIENT_BUFFERS = 128 << 10;

const slowReader: ChaosStep<MainContext> = {
  cases: [
    spec(
      "client-slow-reader",
      `a streaming client stops reading after the first bytes of a long answer (${SLOW_READER_TOKENS} tokens, about 450 KiB of SSE) until the connection's buffers are full, while another client asks`,
      `the reader falls behind: its receive window closes and the server's send queue fills and stands still for ${STALL_MS} ms (TCP backpressure on the server's socket; detect: from the pause until then); the other client is served meanwhile; the slow reader then gets the complete reference answer (recover: from its resume to the end of the answer)`,
    ),
  ],
  timeoutMs: 60_000,
  async run(ctx, rec) {
    const r = rec("client-slow-reader");
    const body = ask(ctx, "slow reader", SLOW_READER_TOKENS);
    const ref = await reference(ctx, body);
    const serverPort = Number(new URL(ctx.server.baseUrl).port);
    let stall: { at: number; tx: number; rx: number } | null = null;
    let observed = false;
    let resumedAt = 0;
    let readBeforePause = 0;
    const watch = async (clientPort: number, bytesSoFar: number) => {
      readBeforePause = bytesSoFar;
      const pausedAt = performance.now();
      let last: { tx: number; rx: number; since: number } | null = null;
      // Until the queues have stood still for STALL_MS (bounded), then a little longer, then read on.
      while (performance.now() - pausedAt < 15_000 && !ctx.signal.aborted) {
        const server = await tcpQueues(serverPort, clientPort);
        const client = await tcpQueues(clientPort, serverPort);
        if (server && client) {
          observed = true;
          const now = performance.now();
          if (last === null || server.tx !== last.tx || client.rx !== last.rx) last = { tx: server.tx, rx: client.rx, since: now };
          else if (server.tx > 0 && now - last.since >= STALL_MS) {
            stall = { at: now - pausedAt, tx: server.tx, rx: client.rx };
            r.detected(stall.at);
            break;
          }
        }
        await new Promise((res) => setTimeout(res, 50));
      }
      resumedAt = performance.now();
    };
    const slow = chat(ctx, body, { stream: true, pauseAfterFirstBytes: watch, timeoutMs: 40_000 });
    await new Promise((res) => setTimeout(res, 200));
    const other = ask(ctx, "beside a slow reader");
    judgeAnswer(r, await chat(ctx, other), await reference(ctx, other), "another client while one reads slowly");
    const slowReply = await slow;
    const s = stall as { at: number; tx: number; rx: number } | null;
    r.check(
      s !== null,
      "the reader fell behind: its receive window closed and the server's send queue stood still, non-empty (the server's socket was held back)",
      observed ? "the queues never stood still with data waiting: the answer fit in the buffers" : "the connection's queues could not be read from /proc/net/tcp",
      s ? `after ${Math.round(s.at)} ms: ${Math.round(s.tx / 1024)} KiB waiting in the server's send queue, ${Math.round(s.rx / 1024)} KiB unread in the reader's` : "",
    );
    if (s) {
      // Where the answer waited. Linux grows a sender's buffer up to net.ipv4.tcp_wmem's maximum (4 MiB by
      // default), more than the tiny model's longest answer: the kernel, not the server process, holds the rest.
      const inServer = Math.max(0, slowReply.bytes - readBeforePause - s.tx - s.rx - CLIENT_BUFFERS);
      r.note(
        `of the ${Math.round(slowReply.bytes / 1024)} KiB answer, ${Math.round(s.tx / 1024)} KiB waited in the server's send queue and ${Math.round(s.rx / 1024)} KiB in the reader's receive queue; ` +
          (inServer > 0 ? `at least ${Math.round(inServer / 1024)} KiB more waited in the server process` : "the rest fit in the reader's own buffers: the server process never had to hold data back"),
      );
    }
    if (judgeAnswer(r, slowReply, ref, "the slow reader, once it reads again")) r.recovered(performance.now() - resumedAt);
    r.note(`the answer is ${slowReply.text?.length ?? 0} characters (${Math.round(slowReply.bytes / 1024)} KiB of SSE); the slow request took ${Math.round(slowReply.ms)} ms`);
    await verifyService(ctx, r, performance.now());
  },
};

function idleConnections(count: number): ChaosStep<MainContext> {
  return {
    cases: [
      spec(
        "client-idle-connections",
        `${count} idle TCP connections opened and held while a client asks, then closed`,
        "the server accepts them (detect: all open), keeps answering meanwhile, and is back to normal once they close",
        20_000,
      ),
    ],
    timeoutMs: 90_000,
    async run(ctx, rec) {
      const r = rec("client-idle-connections");
      const port = Number(new URL(ctx.server.baseUrl).port);
      const sockets: net.Socket[] = [];
      let failures = 0;
      const t0 = performance.now();
      try {
        for (let batch = 0; batch < count; batch += 100) {
          await Promise.all(
            Array.from({ length: Math.min(100, count - batch) }, () =>
              new Promise<void>((resolve) => {
                const s = net.connect({ host: "127.0.0.1", port });
                sockets.push(s);
                s.once("connect", () => resolve());
                s.once("error", () => {
                  failures++;
                  resolve();
                });
                s.setTimeout(15_000, () => s.destroy());
              }),
            ),
          );
        }
        r.detected(performance.now() - t0);
        r.check(failures === 0, `all ${count} connections were accepted`, `${failures} failed`);
        const body = ask(ctx, "among idle connections");
        judgeAnswer(r, await chat(ctx, body), await reference(ctx, body), `a request while ${count} connections idle`);
      } finally {
        for (const s of sockets) s.destroy();
      }
      await verifyService(ctx, r, performance.now());
    },
  };
}

export function clientSteps(quick: boolean): ChaosStep<MainContext>[] {
  return quick
    ? [malformed, invalidUtf8, hugeBody, slowDrip, disconnect, idleConnections(500)]
    : [malformed, invalidUtf8, hugeBody, slowDrip, disconnect, slowReader, idleConnections(2000)];
}
