/** GET /v1/models and GET /v1/models/:id in the OpenAI list format. */
import type { FastifyInstance } from "fastify";
import { ApiError } from "../../errors.js";

export function registerModelRoutes(app: FastifyInstance, deps: { modelId: () => string; createdAt: number }): void {
  const entry = () => ({ id: deps.modelId(), object: "model", created: deps.createdAt, owned_by: "gauntlet" });
  app.get("/v1/models", async () => ({ object: "list", data: [entry()] }));
  app.get<{ Params: { id: string } }>("/v1/models/:id", async (request) => {
    if (request.params.id !== deps.modelId()) {
      throw new ApiError("not_found", `no model named '${request.params.id.slice(0, 100)}'; GET /v1/models lists the served model`, { param: "model" });
    }
    return entry();
  });
}
