/**
 * The kernel's queues of one TCP connection, from /proc/net/tcp and /proc/net/tcp6 (Linux): bytes written
 * but not yet acknowledged by the peer (tx) and bytes received but not yet read by the application (rx).
 * On loopback the peer acknowledges what fits its receive buffer at once, so a sender's tx queue that stays
 * non-empty while the receiver's rx queue does not move means the receive window is closed: the reader is
 * slower than both socket buffers and the sender is held back.
 */
import { readFile } from "node:fs/promises";

export interface TcpQueues {
  tx: number;
  rx: number;
}

/** Parses /proc/net/tcp{,6} text: the queues of the connection from local port `local` to remote port `remote`. */
export function findQueues(text: string, local: number, remote: number): TcpQueues | null {
  for (const line of text.split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 5) continue;
    const port = (addr: string | undefined) => parseInt(addr?.slice(addr.lastIndexOf(":") + 1) ?? "", 16);
    if (port(cols[1]) !== local || port(cols[2]) !== remote) continue;
    const [tx, rx] = (cols[4] ?? "").split(":").map((h) => parseInt(h, 16));
    if (Number.isFinite(tx) && Number.isFinite(rx)) return { tx: tx!, rx: rx! };
  }
  return null;
}

/** The queues of the loopback connection local -> remote, or null when /proc cannot tell. */
export async function tcpQueues(local: number, remote: number): Promise<TcpQueues | null> {
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    try {
      const found = findQueues(await readFile(file, "utf8"), local, remote);
      if (found) return found;
    } catch {
      // not Linux, or no IPv6
    }
  }
  return null;
}
