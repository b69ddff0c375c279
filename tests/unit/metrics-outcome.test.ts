import { describe, expect, test } from "vitest";
import { classifyOutcome, OUTCOMES } from "../../src/observability/outcome.js";

describe("classifyOutcome", () => {
  test("a 2xx response that finished is a success", () => {
    expect(classifyOutcome({ status: 200 })).toBe("success");
  });

  test("a client that went away is aborted whatever the status says", () => {
    expect(classifyOutcome({ status: 200, aborted: true })).toBe("aborted");
    expect(classifyOutcome({ status: 499 })).toBe("aborted");
  });

  test("the error code decides before the status does", () => {
    expect(classifyOutcome({ status: 503, errorCode: "queue_full" })).toBe("rejected");
    expect(classifyOutcome({ status: 503, errorCode: "model_not_ready" })).toBe("unavailable");
    expect(classifyOutcome({ status: 503, errorCode: "memory_pressure" })).toBe("rejected");
    expect(classifyOutcome({ status: 504, errorCode: "request_timeout" })).toBe("timeout");
    expect(classifyOutcome({ status: 401, errorCode: "invalid_api_key" })).toBe("unauthorized");
    expect(classifyOutcome({ status: 400, errorCode: "context_length_exceeded" })).toBe("invalid");
    // A failure reported inside a 200 stream (SSE error event) is still a failure.
    expect(classifyOutcome({ status: 200, errorCode: "engine_error" })).toBe("error");
  });

  test("without an error code the status class decides", () => {
    expect(classifyOutcome({ status: 400 })).toBe("invalid");
    expect(classifyOutcome({ status: 415 })).toBe("invalid");
    expect(classifyOutcome({ status: 401 })).toBe("unauthorized");
    expect(classifyOutcome({ status: 503 })).toBe("unavailable");
    expect(classifyOutcome({ status: 504 })).toBe("timeout");
    expect(classifyOutcome({ status: 500 })).toBe("error");
  });

  test("every result is one of the documented label values", () => {
    for (const status of [200, 204, 400, 401, 404, 413, 499, 500, 503, 504]) {
      for (const errorCode of [null, "queue_full", "internal_error", "made_up"]) {
        expect(OUTCOMES).toContain(classifyOutcome({ status, errorCode }));
      }
    }
  });
});
