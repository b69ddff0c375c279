/** Checks that host:port can be listened on before the server starts, and explains why not. */
import { createServer } from "node:net";

export interface PortCheckFailure {
  ok: false;
  /** The system error code, e.g. "EADDRINUSE", "EACCES", "EADDRNOTAVAIL". */
  code: string;
  /** A port that was free on the same host, offered when the port is in use. */
  suggestion?: number;
}

export type PortCheckResult = { ok: true } | PortCheckFailure;

type BindOutcome = { ok: true; port: number } | { ok: false; code: string };

/** Listens on host:port (0 = any free port), then closes again at once. */
function tryBind(host: string, port: number): Promise<BindOutcome> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", (error: NodeJS.ErrnoException) => resolve({ ok: false, code: error.code ?? "UNKNOWN" }));
    server.listen({ host, port, exclusive: true }, () => {
      const address = server.address();
      const bound = address !== null && typeof address === "object" ? address.port : port;
      server.close(() => resolve({ ok: true, port: bound }));
    });
  });
}

export async function checkPortAvailable(host: string, port: number): Promise<PortCheckResult> {
  const outcome = await tryBind(host, port);
  if (outcome.ok) return { ok: true };
  if (outcome.code !== "EADDRINUSE") return { ok: false, code: outcome.code };
  const free = await tryBind(host, 0);
  return free.ok ? { ok: false, code: outcome.code, suggestion: free.port } : { ok: false, code: outcome.code };
}

/** One sentence saying what is wrong and which flag to change. */
export function describePortProblem(result: PortCheckFailure, port: number): string {
  switch (result.code) {
    case "EADDRINUSE":
      return result.suggestion === undefined
        ? `port ${port} is already in use; choose another with --port`
        : `port ${port} is already in use; try --port ${result.suggestion}`;
    case "EACCES":
      return `port ${port} needs elevated privileges; use a port from 1024 up, e.g. --port 8080`;
    case "EADDRNOTAVAIL":
      return "the address given with --host is not available on this machine; use 127.0.0.1 or 0.0.0.0";
    default:
      return `cannot listen on port ${port} (${result.code}); check --host and --port`;
  }
}
