/**
 * A log destination that can fail without taking the server down: a full disk, a closed pipe or a
 * consumer that stopped reading drops the line and counts it; no exception and no unhandled
 * 'error' event ever escapes. Logging is best effort, serving requests is not.
 */

/** The part of a writable stream this needs (process.stdout, a file stream, a PassThrough ...). */
export interface LogTarget {
  write(chunk: string, cb?: (err?: Error | null) => void): unknown;
  on?(event: "error", listener: (err: Error) => void): unknown;
  off?(event: "error", listener: (err: Error) => void): unknown;
  readonly destroyed?: boolean;
  readonly writableEnded?: boolean;
  readonly writableLength?: number;
}

export interface SafeDestination {
  /** pino's destination interface. */
  write(line: string): void;
  /** Lines that could not be written. */
  readonly failures: number;
  /** Detaches from the target (the target is not closed: it may be shared, like stdout). */
  close(): void;
}

export interface SafeDestinationOptions {
  /** Called once per line that could not be written. */
  onFailure?: (err: unknown) => void;
  /** Lines are dropped while the target holds more than this many unwritten bytes (default 8 MiB). */
  maxBufferedBytes?: number;
}

export const DEFAULT_MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

export function createSafeDestination(target: LogTarget, opts: SafeDestinationOptions = {}): SafeDestination {
  const max = opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  let failures = 0;
  let broken = false;
  const fail = (err: unknown) => {
    failures++;
    try {
      opts.onFailure?.(err);
    } catch {
      // A failing hook must not turn a dropped log line into a crash.
    }
  };
  // Failures are counted per line through the write callback; the event only marks the target dead
  // (and, by being listened to, keeps an 'error' event from crashing the process).
  const onError = () => {
    broken = true;
  };
  target.on?.("error", onError);
  const afterWrite = (err?: Error | null) => {
    if (err) fail(err);
  };

  return {
    write(line) {
      if (broken || target.destroyed || target.writableEnded) return fail(new Error("the log destination is closed"));
      if ((target.writableLength ?? 0) > max) return fail(new Error("the log destination is not keeping up"));
      try {
        target.write(line, afterWrite);
      } catch (err) {
        fail(err);
      }
    },
    get failures() {
      return failures;
    },
    close() {
      target.off?.("error", onError);
    },
  };
}
