/**
 * The one place errors become HTTP responses, in OpenAI's shape {error: {message, type, param, code}}.
 * Client mistakes are 4xx with a message that says what to fix; 5xx bodies never carry internals.
 */
import type { FastifyError, FastifyInstance, FastifyReply } from "fastify";
import { ApiError } from "../../errors.js";

export function toApiError(err: unknown, bodyLimitBytes: number): ApiError {
  if (err instanceof ApiError) return err;
  const e = err as Partial<FastifyError> & { name?: string; message?: string };
  switch (e.code) {
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new ApiError("unsupported_media_type", "Content-Type must be application/json; send the body as JSON with that header");
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new ApiError("payload_too_large", `the request body is larger than the limit of ${bodyLimitBytes} bytes; send a smaller body or raise --body-limit`);
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return new ApiError("invalid_json", "the request body is empty; send a JSON object such as {\"messages\": [...]}", { param: "body" });
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return new ApiError("invalid_request", "the Content-Length header does not match the body that was sent");
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return new ApiError("invalid_json", "the request body is not valid JSON; send a JSON object such as {\"messages\": [...]}", { param: "body" });
    default:
      break;
  }
  if (e.statusCode === 400 && (e.name === "SyntaxError" || /JSON|prototype/i.test(e.message ?? ""))) {
    // Never echo the parser's message: recent V8 versions quote the body (the prompt) in it.
    return new ApiError("invalid_json", "the request body is not valid JSON; send a JSON object such as {\"messages\": [...]}", { param: "body" });
  }
  if (typeof e.statusCode === "number" && e.statusCode >= 400 && e.statusCode < 500) {
    return new ApiError("invalid_request", "the request could not be read; check its headers and body");
  }
  return new ApiError("internal_error", "the server failed to handle the request; the details are in its log under this request's id");
}

export function sendApiError(reply: FastifyReply, err: ApiError): FastifyReply {
  if (err.retryAfterSeconds !== undefined) reply.header("retry-after", String(err.retryAfterSeconds));
  return reply.code(err.status).type("application/json").send(err.toBody());
}

export function registerErrorHandler(app: FastifyInstance, bodyLimitBytes: number): void {
  app.setErrorHandler((err, request, reply) => {
    const apiErr = toApiError(err, bodyLimitBytes);
    if (apiErr.status >= 500 && !(err instanceof ApiError)) {
      // The 500 body points here: the logger's err serializer keeps type, code, message and stack, without paths.
      request.log.error({ err }, "unhandled error");
    }
    return sendApiError(reply, apiErr);
  });
  app.setNotFoundHandler((request, reply) =>
    sendApiError(reply, new ApiError("not_found", `no route for ${request.method} ${request.url.split("?")[0] ?? ""}; see GET /v1/models, POST /v1/chat/completions, GET /health`)),
  );
}
