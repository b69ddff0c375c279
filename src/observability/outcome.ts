/**
 * How a finished chat-completion request ended, as one closed set of label values
 * (`gauntlet_requests_total{outcome}`): bounded cardinality, stable across releases.
 */

export const OUTCOMES = ["success", "invalid", "unauthorized", "rejected", "unavailable", "timeout", "aborted", "error"] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface OutcomeInput {
  /** The HTTP status sent (200 for a stream, even one that later carried an error event). */
  status: number;
  /** The project error code (src/errors.ts) of the failure, when there was one. */
  errorCode?: string | null | undefined;
  /** The client went away before the response was complete. */
  aborted?: boolean | undefined;
}

const BY_CODE: Readonly<Record<string, Outcome>> = {
  queue_full: "rejected",
  memory_pressure: "rejected",
  model_not_ready: "unavailable",
  shutting_down: "unavailable",
  request_timeout: "timeout",
  invalid_api_key: "unauthorized",
};

export function classifyOutcome(input: OutcomeInput): Outcome {
  const { status, errorCode } = input;
  if (input.aborted || status === 499) return "aborted";
  if (errorCode) {
    const known = BY_CODE[errorCode];
    if (known) return known;
    return status >= 400 && status < 500 ? "invalid" : "error";
  }
  if (status < 400) return "success";
  if (status === 401) return "unauthorized";
  if (status < 500) return "invalid";
  if (status === 503) return "unavailable";
  if (status === 504) return "timeout";
  return "error";
}
