// Everything in the director's context is plain JSON, so a persisted snapshot survives
// JSON.stringify/parse (JetStream KV stores bytes) and resumes unchanged.
export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export function isJsonObject(x: unknown): x is JsonObject {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}
