/** Starts the server image built by global setup under testcontainers, through its mapped port. */
import { GenericContainer, Wait } from "testcontainers";
import type { StartedTestContainer } from "testcontainers";
import { inject } from "vitest";
import { CONTAINER_LABEL } from "./docker-client.js";

export const SERVER_PORT = 8080;

export interface ServerContainerOptions {
  /** Memory cap in MiB (Docker HostConfig.Memory); none = unlimited. */
  memoryMb?: number;
  /** Extra environment (the server's config env vars). */
  env?: Record<string, string>;
  /** A host directory mounted read-write at /data, the server's CACHE_DIR. */
  dataDir?: string;
  /** Shown in the container's label, to tell leftovers apart. */
  name?: string;
}

export interface ServerContainer {
  container: StartedTestContainer;
  id: string;
  /** http://host:mappedPort */
  url: string;
}

/** Starts a server container and waits until /health/ready answers 200 through the mapped port. */
export async function startServerContainer(opts: ServerContainerOptions = {}): Promise<ServerContainer> {
  let builder = new GenericContainer(inject("serverImage"))
    .withExposedPorts(SERVER_PORT)
    .withLabels({ [CONTAINER_LABEL]: opts.name ?? "server" })
    .withEnvironment({ LOG_LEVEL: "warn", ...opts.env })
    // The image has no shell: the default listening-port wait would exec one inside it.
    .withWaitStrategy(Wait.forHttp("/health/ready", SERVER_PORT).forStatusCode(200))
    .withStartupTimeout(90_000);
  if (opts.memoryMb !== undefined) builder = builder.withResourcesQuota({ memory: opts.memoryMb / 1024 });
  if (opts.dataDir !== undefined) builder = builder.withBindMounts([{ source: opts.dataDir, target: "/data", mode: "rw" }]);
  const container = await builder.start();
  return { container, id: container.getId(), url: `http://${container.getHost()}:${container.getMappedPort(SERVER_PORT)}` };
}
