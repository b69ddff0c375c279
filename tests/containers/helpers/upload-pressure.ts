/**
 * Memory pressure a client can take away again: request bodies uploaded part way and then held. The server
 * buffers what it has received of each body (up to its body limit) until the request completes or the
 * connection goes, so every holder keeps `bytesEach` of the server's memory in use; release() closes the
 * connections and the server frees it. Nothing is held past release(), also when a test fails.
 */
import net from "node:net";

export interface UploadPressure {
  /**
   * Opens one more connection and uploads `bytesEach` of a body that is never finished: "held", or the status
   * line the server answered with instead (e.g. a 503 once its memory guard refuses new requests).
   */
  add(): Promise<string>;
  readonly holders: number;
  /** Closes every held connection. */
  release(): void;
}

export function uploadPressure(url: string, bytesEach: number, declaredBytes: number): UploadPressure {
  const { hostname, port } = new URL(url);
  const sockets: net.Socket[] = [];
  const chunk = Buffer.alloc(1 << 20, "a");
  return {
    get holders() {
      return sockets.length;
    },
    add() {
      return new Promise<string>((resolve, reject) => {
        const s = net.connect(Number(port), hostname === "localhost" ? "127.0.0.1" : hostname);
        sockets.push(s);
        s.setTimeout(60_000, () => s.destroy());
        s.once("error", reject);
        // An answer before the body is complete (413, 503...) means the server did not hold it.
        s.once("data", (d: Buffer) => resolve(d.toString("latin1").split("\r\n")[0] ?? "?"));
        s.once("connect", () => {
          s.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: ${declaredBytes}\r\n\r\n`);
          s.write('{"messages":[{"role":"user","content":"');
          let sent = 0;
          const pump = () => {
            while (sent < bytesEach) {
              sent += chunk.length;
              if (!s.write(chunk)) {
                s.once("drain", pump);
                return;
              }
            }
            // Give the server a moment to read what was sent (it answers at once if it refuses).
            setTimeout(() => resolve("held"), 300);
          };
          pump();
        });
      });
    },
    release() {
      for (const s of sockets.splice(0)) s.destroy();
    },
  };
}
