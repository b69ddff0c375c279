/** The first journal entry of a run and the gates it carries. */
import type { EnvironmentInfo } from "../report/types.js";
import type { GateDef, MetaLifetime, MetaStart, SoakTarget } from "./entries.js";
import type { SoakProfile } from "./profile-types.js";
import { SOAK_SCENARIO } from "./soak-report.js";

/** The profile's named gates, then each --gate expression as cli-1, cli-2, ... */
export function gateDefs(profile: SoakProfile, extra: readonly string[]): GateDef[] {
  return [
    ...Object.entries(profile.gates).map(([name, expression]) => ({ id: `${SOAK_SCENARIO}/${name}`, expression })),
    ...extra.map((expression, i) => ({ id: `${SOAK_SCENARIO}/cli-${i + 1}`, expression })),
  ];
}

export interface MetaStartInput {
  name: string;
  startedAt: Date;
  toolVersion: string;
  plannedDurationMs: number;
  profile: SoakProfile;
  target: SoakTarget;
  gates: GateDef[];
  environment: EnvironmentInfo;
}

export function metaStart(i: MetaStartInput): MetaStart {
  return {
    type: "meta", event: "start", v: 1, name: i.name, startedAt: i.startedAt.toISOString(), toolVersion: i.toolVersion,
    plannedDurationMs: i.plannedDurationMs, profile: i.profile, target: i.target, gates: i.gates, environment: i.environment,
  };
}

export function metaLifetime(lifetime: number, atMs: number, at: Date, reason: MetaLifetime["reason"], server: MetaLifetime["server"]): MetaLifetime {
  return { type: "meta", event: "lifetime", lifetime, atMs, at: at.toISOString(), reason, server };
}
