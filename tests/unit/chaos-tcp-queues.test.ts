/** Reading one connection's kernel queues out of /proc/net/tcp (the slow-reader case's evidence). */
import { describe, expect, test } from "vitest";
import { findQueues } from "../../src/harness/chaos/tcp-queues.js";

const TEXT = [
  "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
  "   0: 0100007F:46B5 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0",
  "   1: 0100007F:46B5 0100007F:D431 01 0004CFB2:00000000 01:00000014 00000000     0        0 2 1 0000000000000000 20 4 30 10 -1",
  "   2: 0100007F:D431 0100007F:46B5 01 00000000:0001A2D1 00:00000000 00000000     0        0 3 1 0000000000000000 20 4 0 10 -1",
].join("\n");

describe("chaos: TCP queues from /proc/net/tcp", () => {
  test("finds the server's side and the client's side of one connection by their ports", () => {
    // 0x46B5 = 18101 (server), 0xD431 = 54321 (client)
    expect(findQueues(TEXT, 18101, 54321)).toEqual({ tx: 0x4cfb2, rx: 0 });
    expect(findQueues(TEXT, 54321, 18101)).toEqual({ tx: 0, rx: 0x1a2d1 });
  });

  test("a connection that is not there is null (the listening socket is not a connection to that port)", () => {
    expect(findQueues(TEXT, 18101, 1)).toBeNull();
    expect(findQueues("", 1, 2)).toBeNull();
  });
});
