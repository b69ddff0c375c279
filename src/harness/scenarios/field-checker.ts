/** Collects "file: $.path: problem" messages while reading a JSON object field by field. */
import { closestMatch } from "../../config/suggest.js";

export type Json = Record<string, unknown>;

export function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (typeof v === "object") return "an object";
  return String(v);
}

export const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

export class FieldChecker {
  readonly errors: string[] = [];

  constructor(private readonly file: string) {}

  fail(path: string, problem: string): void {
    this.errors.push(`${this.file}: ${path}: ${problem}`);
  }

  /** Flags fields not in `known` (keys starting with "$" are comments and allowed). */
  unknownKeys(obj: Json, path: string, known: readonly string[]): void {
    for (const key of Object.keys(obj)) {
      if (key.startsWith("$") || known.includes(key)) continue;
      const guess = closestMatch(key, known);
      this.fail(`${path}.${key}`, `unknown field${guess ? ` (did you mean ${JSON.stringify(guess)}?)` : `; known fields: ${known.join(", ")}`}`);
    }
  }

  int(obj: Json, key: string, path: string, min: number, max: number, fallback?: number): number {
    const v = obj[key];
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v === "number" && Number.isInteger(v) && v >= min && v <= max) return v;
    this.fail(`${path}.${key}`, v === undefined ? `is required: an integer from ${min} to ${max}` : `must be an integer from ${min} to ${max}, got ${describeValue(v)}`);
    return fallback ?? min;
  }

  num(obj: Json, key: string, path: string, min: number, max: number, fallback: number): number {
    const v = obj[key];
    if (v === undefined) return fallback;
    if (typeof v === "number" && Number.isFinite(v) && v >= min && v <= max) return v;
    this.fail(`${path}.${key}`, `must be a number from ${min} to ${max}, got ${describeValue(v)}`);
    return fallback;
  }

  str(obj: Json, key: string, path: string, fallback?: string): string {
    const v = obj[key];
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v === "string" && v !== "") return v;
    this.fail(`${path}.${key}`, v === undefined ? "is required: a non-empty string" : `must be a non-empty string, got ${describeValue(v)}`);
    return fallback ?? "";
  }

  bool(obj: Json, key: string, path: string, fallback: boolean): boolean {
    const v = obj[key];
    if (v === undefined) return fallback;
    if (typeof v === "boolean") return v;
    this.fail(`${path}.${key}`, `must be true or false, got ${describeValue(v)}`);
    return fallback;
  }

  choice<T extends string>(obj: Json, key: string, path: string, choices: readonly T[], fallback: T): T {
    const v = obj[key];
    if (v === undefined) return fallback;
    if (typeof v === "string" && (choices as readonly string[]).includes(v)) return v as T;
    this.fail(`${path}.${key}`, `must be one of ${choices.map((c) => JSON.stringify(c)).join(", ")}, got ${describeValue(v)}`);
    return fallback;
  }

  strings(obj: Json, key: string, path: string): string[] {
    const v = obj[key];
    if (v === undefined) return [];
    if (Array.isArray(v) && v.every((s) => typeof s === "string")) return v as string[];
    this.fail(`${path}.${key}`, `must be a list of strings, got ${describeValue(v)}`);
    return [];
  }
}
