// Small validators with exact messages that name the key ("Expected data.block to be a
// positive integer, got -3"). Used for sampler options and the lanes config.
import { DataConfigError } from "./errors.js";

export function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return `an array (${JSON.stringify(value).slice(0, 60)})`;
  if (value === null || typeof value !== "object") return String(value);
  return "an object";
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function expectInt(key: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new DataConfigError(key, `expected an integer ${range}, got ${describe(value)}`);
  }
  return value;
}

export function expectNumber(key: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    throw new DataConfigError(key, `expected a number in [${min}, ${max}], got ${describe(value)}`);
  }
  return value;
}

export function expectString(key: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new DataConfigError(key, `expected a non-empty string, got ${describe(value)}`);
  }
  return value;
}

export function expectBool(key: string, value: unknown): boolean {
  if (typeof value !== "boolean") throw new DataConfigError(key, `expected true or false, got ${describe(value)}`);
  return value;
}

export function expectOneOf<T extends string>(key: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    throw new DataConfigError(key, `expected one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}, got ${describe(value)}`);
  }
  return value as T;
}

/** A list of strings; a single comma-separated string is accepted too ("a,b"). */
export function expectStringList(key: string, value: unknown): string[] {
  const list = typeof value === "string" ? value.split(",").map((s) => s.trim()).filter(Boolean) : value;
  if (!Array.isArray(list) || !list.every((x) => typeof x === "string" && x.length > 0)) {
    throw new DataConfigError(key, `expected a list of non-empty strings, got ${describe(value)}`);
  }
  return [...list] as string[];
}

/** Rejects keys that are not in `known` (typos in a scenario should not be ignored). */
export function expectKeys(key: string, value: Record<string, unknown>, known: readonly string[]): void {
  for (const k of Object.keys(value)) {
    if (!known.includes(k)) {
      throw new DataConfigError(`${key}.${k}`, `unknown key (expected one of ${known.join(", ")})`);
    }
  }
}
