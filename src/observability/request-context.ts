/**
 * Request and session ids on every log line written while a request is served, through
 * AsyncLocalStorage and a pino mixin. Lines from `request.log` get them from the request the logger
 * belongs to; lines from any other logger (app.log, a service's logger) get them from the store,
 * so concurrent requests never see each other's ids.
 *
 * Fastify runs onRequest inside our store, but body parsing continues from the socket's own async
 * context, so the store is entered again before validation (as @fastify/request-context does).
 */
import { AsyncLocalStorage, AsyncResource } from "node:async_hooks";
import type { FastifyInstance, FastifyRequest } from "fastify";

export interface RequestIds {
  reqId?: string;
  sessionId?: string;
}

interface Bindable {
  bindings?: () => Record<string, unknown>;
}

export interface RequestContext {
  /** The pino mixin: adds reqId/sessionId to lines written in a request's context. */
  mixin(mergeObject: object, level: number, logger?: unknown): RequestIds;
  /** Registers the hooks; call before any other onRequest hook so every line is covered. */
  register(app: FastifyInstance): void;
  /** The request whose context the caller runs in, if any. */
  current(): FastifyRequest | undefined;
  /** Runs fn in the request's context (for callbacks fired from outside it, e.g. socket events). */
  runIn<T>(request: FastifyRequest, fn: () => T): T;
}

export function createRequestContext(): RequestContext {
  const storage = new AsyncLocalStorage<FastifyRequest>();
  const owners = new WeakMap<object, FastifyRequest>();
  const resources = new WeakMap<FastifyRequest, AsyncResource>();
  const sessionOf = (r: FastifyRequest) => (typeof r.sessionId === "string" && r.sessionId !== "" ? r.sessionId : undefined);

  return {
    mixin(_obj, _level, logger) {
      const owner = typeof logger === "object" && logger !== null ? owners.get(logger) : undefined;
      // A request's own logger already binds reqId (fastify's child bindings).
      if (owner) return { sessionId: sessionOf(owner) };
      const r = storage.getStore();
      if (!r) return {};
      const bound = typeof (logger as Bindable | undefined)?.bindings === "function" && "reqId" in (logger as Required<Bindable>).bindings();
      return bound ? { sessionId: sessionOf(r) } : { reqId: r.id, sessionId: sessionOf(r) };
    },
    register(app) {
      app.addHook("onRequest", (request, _reply, done) => {
        owners.set(request.log, request);
        storage.run(request, () => {
          const resource = new AsyncResource("gauntlet-request");
          resources.set(request, resource);
          resource.runInAsyncScope(done);
        });
      });
      app.addHook("preValidation", (request, _reply, done) => {
        const resource = resources.get(request);
        if (resource) resource.runInAsyncScope(done);
        else done();
      });
    },
    current: () => storage.getStore(),
    runIn(request, fn) {
      const resource = resources.get(request);
      return resource ? resource.runInAsyncScope(fn) : storage.run(request, fn);
    },
  };
}
