/** The requests a scenario sends: prompt number and max_tokens cycle with the request index. */
import type { ScenarioDef } from "./types.js";
import { distinctRequestCount } from "./validate-scenario.js";

export interface ChatBody {
  model?: string;
  messages: { role: "system" | "user"; content: string }[];
  max_tokens: number;
  temperature: number;
  stream: boolean;
  stream_options?: { include_usage: true };
}

export interface PlannedRequest {
  /** 0-based over warm-up and measured requests. */
  index: number;
  /** Identifies the request's content: requests with the same key must get the same answer at temperature 0. */
  key: string;
  body: ChatBody;
}

/** `model` is sent when known (some servers require it); null leaves the field out. */
export function planRequest(s: ScenarioDef, index: number, model: string | null): PlannedRequest {
  const promptNo = index % s.distinctPrompts;
  const maxTokens = s.maxTokens[index % s.maxTokens.length] ?? 1;
  const messages: ChatBody["messages"] = [];
  if (s.system !== null) messages.push({ role: "system", content: s.system });
  messages.push({ role: "user", content: s.prompt.replaceAll("{i}", String(promptNo)) });
  const body: ChatBody = {
    ...(model === null ? {} : { model }),
    messages,
    max_tokens: maxTokens,
    temperature: s.temperature,
    stream: s.stream,
    ...(s.stream ? { stream_options: { include_usage: true as const } } : {}),
  };
  return { index, key: `p${promptNo}-t${maxTokens}`, body };
}

/** One request per distinct key the scenario can send, in order of first use. */
export function referenceRequests(s: ScenarioDef, model: string | null): PlannedRequest[] {
  const n = distinctRequestCount(s);
  const seen = new Map<string, PlannedRequest>();
  for (let i = 0; seen.size < n; i++) {
    const p = planRequest(s, i, model);
    if (!seen.has(p.key)) seen.set(p.key, p);
  }
  return [...seen.values()];
}
