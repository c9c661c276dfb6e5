// Prompt/response records in the shape users already have:
//   {"prompt": "...", "response": "...", "metadata": {"domain": "...", "difficulty": "easy"|"hard", ...}}
// `validateRecord` checks one parsed JSON value and says exactly what is wrong with it.
// Unknown metadata keys are kept as they are.

export const DIFFICULTIES = ["easy", "hard"] as const;
export type Difficulty = (typeof DIFFICULTIES)[number];

export const SPLITS = ["train", "heldout"] as const;
export type Split = (typeof SPLITS)[number];

/** The domain given to records whose metadata names none. */
export const DEFAULT_DOMAIN = "unspecified";

export interface RecordMetadata {
  domain: string;
  difficulty?: Difficulty;
  /** Semantic labels (primitives/invariants) for the semantic lane. */
  labels?: string[];
  /** Which split the record belongs to, when the file says so (the pack export does). */
  split?: Split;
  [key: string]: unknown;
}

export interface PromptRecord {
  prompt: string;
  response: string;
  metadata: RecordMetadata;
  /** Where it came from: 1-based JSONL line or generated record number. Not exported. */
  line?: number;
}

export type RecordCheck =
  | { readonly ok: true; readonly record: PromptRecord }
  | { readonly ok: false; readonly reason: string; readonly detail?: string };

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

function bad(reason: string, detail?: string): RecordCheck {
  return detail === undefined ? { ok: false, reason } : { ok: false, reason, detail };
}

/** Checks one parsed JSONL value. Empty responses pass here: whether they are usable is a lane rule. */
export function validateRecord(value: unknown, line?: number): RecordCheck {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return bad("not an object", `got ${typeName(value)}`);
  }
  const v = value as Record<string, unknown>;
  if (!("prompt" in v)) return bad("missing prompt");
  if (typeof v.prompt !== "string") return bad("prompt is not a string", `got ${typeName(v.prompt)}`);
  if (v.prompt.trim().length === 0) return bad("empty prompt");
  if (!("response" in v)) return bad("missing response");
  if (typeof v.response !== "string") return bad("response is not a string", `got ${typeName(v.response)}`);

  const rawMeta = v.metadata ?? {};
  if (typeof rawMeta !== "object" || rawMeta === null || Array.isArray(rawMeta)) {
    return bad("metadata is not an object", `got ${typeName(rawMeta)}`);
  }
  const meta = { ...(rawMeta as Record<string, unknown>) };
  if (meta.domain === undefined) meta.domain = DEFAULT_DOMAIN;
  else if (typeof meta.domain !== "string" || meta.domain.trim() === "") {
    return bad("bad metadata.domain", `expected a non-empty string, got ${JSON.stringify(meta.domain)}`);
  }
  if (meta.difficulty !== undefined && !(DIFFICULTIES as readonly unknown[]).includes(meta.difficulty)) {
    return bad("bad metadata.difficulty", `expected "easy" or "hard", got ${JSON.stringify(meta.difficulty)}`);
  }
  if (meta.labels !== undefined && !(Array.isArray(meta.labels) && meta.labels.every((l) => typeof l === "string"))) {
    return bad("bad metadata.labels", `expected an array of strings, got ${JSON.stringify(meta.labels)}`);
  }
  if (meta.split !== undefined && !(SPLITS as readonly unknown[]).includes(meta.split)) {
    return bad("bad metadata.split", `expected "train" or "heldout", got ${JSON.stringify(meta.split)}`);
  }
  const record: PromptRecord = { prompt: v.prompt, response: v.response, metadata: meta as RecordMetadata };
  if (line !== undefined) record.line = line;
  return { ok: true, record };
}

/** The record as written to JSONL (no `line`). */
export function toJsonRecord(r: PromptRecord): { prompt: string; response: string; metadata: RecordMetadata } {
  return { prompt: r.prompt, response: r.response, metadata: r.metadata };
}
