// configDigest: a short, stable fingerprint of a resolved run configuration (the RunPlan), so
// two reports can be told apart or matched at a glance. Keys are sorted before hashing, so the
// order a loader happened to build an object in does not change the digest.
import { createHash } from "node:crypto";

/** JSON with object keys sorted at every level; undefined members are left out as JSON does. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value)) ?? "null";
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object" && typeof (v as { toJSON?: unknown }).toJSON !== "function") {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(Object.keys(o).sort().map((k) => [k, sortKeys(o[k])]));
  }
  return v;
}

/** "sha256:" + the first 16 hex digits of SHA-256 over canonicalJson(config). */
export function configDigest(config: unknown): string {
  return `sha256:${createHash("sha256").update(canonicalJson(config)).digest("hex").slice(0, 16)}`;
}
