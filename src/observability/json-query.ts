/** The query parameters of GET /v1/metrics: ?format= and ?category=, checked with messages that say what is valid. */

export const FORMATS = ["json", "prometheus"] as const;
export type MetricsFormat = (typeof FORMATS)[number];

export const CATEGORIES = ["cache", "latency", "memory", "throughput", "requests"] as const;
export type Category = (typeof CATEGORIES)[number];

export type Parsed<K extends string, T> = ({ ok: true } & Record<K, T>) | { ok: false; message: string };

/** Quotes a client-supplied value briefly: enough to recognise it, never a long echo. */
const quote = (v: string) => JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);

export function parseFormat(raw: unknown): Parsed<"format", MetricsFormat> {
  if (raw === undefined) return { ok: true, format: "json" };
  if (typeof raw === "string" && (FORMATS as readonly string[]).includes(raw)) return { ok: true, format: raw as MetricsFormat };
  const given = typeof raw === "string" ? `${quote(raw)} is not one` : "give it once";
  return { ok: false, message: `format must be one of ${FORMATS.join(", ")} (${given}); the default is json` };
}

export function parseCategories(raw: unknown): Parsed<"categories", Category[]> {
  if (raw === undefined) return { ok: true, categories: [...CATEGORIES] };
  const parts = (Array.isArray(raw) ? raw : [raw]).flatMap((v) => (typeof v === "string" ? v.split(",") : [String(v)]));
  const out: Category[] = [];
  for (const part of parts.map((p) => p.trim())) {
    if (!(CATEGORIES as readonly string[]).includes(part)) {
      const what = part === "" ? "an empty category" : `unknown category ${quote(part)}`;
      return { ok: false, message: `${what}: category takes a comma-separated list of ${CATEGORIES.join(", ")}` };
    }
    if (!out.includes(part as Category)) out.push(part as Category);
  }
  return { ok: true, categories: out };
}
