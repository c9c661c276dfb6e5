// Where a lane's records come from: the built-in pack, or the users' JSONL. Both end up as
// train and held-out PromptRecord lists. For JSONL without a held-out file, a record goes to
// the split its `metadata.split` names, else to held-out when the hash of its prompt falls
// below `heldOutFraction` (stable under reordering; identical prompts land together).
// Training records whose prompt also appears in held-out are skipped and counted, so the two
// splits never overlap.
import { loadJsonl, type LoadedRecords } from "../jsonl.js";
import { generatePack, type PackCell } from "../pack/generate.js";
import type { PromptRecord } from "../records.js";
import { hashString } from "../rng.js";
import { createSkipLog, mergeSkips, type SkipSummary } from "../skips.js";
import type { SourceConfig } from "./config.js";

export interface SourceReport {
  readonly kind: SourceConfig["kind"];
  readonly train: number;
  readonly heldOut: number;
  /** Bad JSONL lines and train/held-out overlaps. */
  readonly skipped: SkipSummary;
  readonly files?: { file: string; lines: number; blank: number; records: number }[];
  readonly cells?: PackCell[];
}

export interface SourceRecords {
  readonly train: PromptRecord[];
  readonly heldOut: PromptRecord[];
  readonly report: SourceReport;
}

/** True when the prompt hashes into the held-out fraction (seeded, so runs can vary it). */
export function hashHeldOut(prompt: string, fraction: number, seed: number): boolean {
  return hashString(prompt, (0x811c9dc5 ^ seed) >>> 0) / 4294967296 < fraction;
}

/** Splits records by `metadata.split`, else by prompt hash. */
export function splitRecords(records: readonly PromptRecord[], fraction: number, seed: number): { train: PromptRecord[]; heldOut: PromptRecord[] } {
  const train: PromptRecord[] = [];
  const heldOut: PromptRecord[] = [];
  for (const r of records) {
    const split = r.metadata.split ?? (hashHeldOut(r.prompt, fraction, seed) ? "heldout" : "train");
    (split === "heldout" ? heldOut : train).push(r);
  }
  return { train, heldOut };
}

/** Drops training records whose prompt is held out; returns the kept ones and a skip report. */
export function removeOverlap(
  train: readonly PromptRecord[],
  heldOut: readonly PromptRecord[],
  file?: string,
): { train: PromptRecord[]; skipped: SkipSummary } {
  const held = new Set(heldOut.map((r) => r.prompt));
  const skips = createSkipLog();
  const kept = train.filter((r) => {
    if (!held.has(r.prompt)) return true;
    skips.skip({ line: r.line ?? 0, reason: "prompt also in held-out", split: "train", ...(file ? { file } : {}) });
    return false;
  });
  return { train: kept, skipped: skips.summary() };
}

function fileInfo(l: LoadedRecords) {
  return { file: l.file ?? "", lines: l.lines, blank: l.blank, records: l.records.length };
}

export async function loadSource(source: SourceConfig, seed: number): Promise<SourceRecords> {
  if (source.kind === "pack") {
    const { kind: _kind, ...opts } = source;
    const pack = generatePack(opts);
    const report = { kind: source.kind, train: pack.train.length, heldOut: pack.heldOut.length, skipped: mergeSkips([]), cells: pack.cells };
    return { train: pack.train, heldOut: pack.heldOut, report };
  }
  const opts = { strict: source.strict };
  const main = await loadJsonl(source.train, opts);
  const files = [main];
  let split: { train: PromptRecord[]; heldOut: PromptRecord[] };
  if (source.heldOut !== null) {
    const held = await loadJsonl(source.heldOut, opts);
    files.push(held);
    split = { train: main.records, heldOut: held.records };
  } else {
    split = splitRecords(main.records, source.heldOutFraction, seed);
  }
  const { train, skipped } = removeOverlap(split.train, split.heldOut, main.file);
  return {
    train,
    heldOut: split.heldOut,
    report: {
      kind: source.kind,
      train: train.length,
      heldOut: split.heldOut.length,
      skipped: mergeSkips([...files.map((f) => f.skipped), skipped]),
      files: files.map(fileInfo),
    },
  };
}
