/** X-Session-Id: accepted when well-formed, generated (UUID) when missing, echoed on every response. */
import { randomUUID } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { ApiError } from "../../errors.js";

declare module "fastify" {
  interface FastifyRequest {
    sessionId: string;
  }
}

const VALID = /^[A-Za-z0-9._:-]{1,128}$/;

export function registerSessionId(app: FastifyInstance): void {
  app.decorateRequest("sessionId", "");
  app.addHook("onRequest", async (request, reply) => {
    const raw = request.headers["x-session-id"];
    const given = Array.isArray(raw) ? raw[0] : raw;
    if (given === undefined || given === "") {
      request.sessionId = randomUUID();
    } else if (VALID.test(given)) {
      request.sessionId = given;
    } else {
      request.sessionId = randomUUID();
      reply.header("x-session-id", request.sessionId);
      throw new ApiError("invalid_request", "X-Session-Id must be 1 to 128 characters of letters, digits, '.', '_', ':' or '-'", { param: "X-Session-Id" });
    }
    reply.header("x-session-id", request.sessionId);
  });
}
