// The data configuration: a plain JSON object (a scenario's `data:` section maps onto it),
// validated with errors that name the offending key, e.g.
//   data.lanes.sft.maxTokens: expected an integer in [2, 64], got 300
//
//   { seed: 1234, block: 64,
//     source: { kind: "pack", domains: ["arithmetic"], trainPerCell: 300, heldOutPerCell: 50 }
//           | { kind: "jsonl", train: "train.jsonl", heldOut?: "heldout.jsonl", heldOutFraction: 0.1 },
//     corpus?: { path: "…/input.txt", valFraction: 0.1 },
//     lanes: { sft:      { domains?, exclude?, difficulties?, responseLength?, maxTokens?, limit?, overflow: "skip" },
//              routing:  { …, balance: true },
//              semantic: { …, vocabulary?: [...] },
//              transfer: { …, requireResponse: false } } }
import { DataConfigError } from "../errors.js";
import { checkDifficulties, resolvePackOptions, type ResolvedPackOptions } from "../pack/generate.js";
import { SEMANTIC_LABELS } from "../pack/labels.js";
import type { Difficulty } from "../records.js";
import { OVERFLOW_RULES, type OverflowRule } from "../sft.js";
import { describe, expectBool, expectInt, expectKeys, expectNumber, expectOneOf, expectString, expectStringList, isPlainObject } from "../validate.js";

export const LANE_NAMES = ["sft", "routing", "semantic", "transfer"] as const;
export type LaneName = (typeof LANE_NAMES)[number];

export const DEFAULT_BLOCK = 64;
export const DEFAULT_DATA_SEED = 1234;
export const DEFAULT_HELD_OUT_FRACTION = 0.1;

export interface LaneSelection {
  enabled: boolean;
  /** Only these domains (null: all). */
  domains: string[] | null;
  exclude: string[];
  /** Only these difficulties (null: all, including records without one). */
  difficulties: Difficulty[] | null;
  /**
   * Only records whose expected response has this many characters (after trimming), e.g. a
   * held-out cut of longer strings than the training lane has (null: any length).
   */
  responseLength: { min: number; max: number | null } | null;
  /** Longest rendered example (template + end marker) the lane accepts. */
  maxTokens: number;
  /** Keep at most this many records per split (seeded choice; null: no limit). */
  limit: number | null;
}

export interface SftLaneConfig extends LaneSelection {
  overflow: OverflowRule;
}
export interface RoutingLaneConfig extends LaneSelection {
  /** Downsample so easy and hard are equally many in each split. */
  balance: boolean;
}
export interface SemanticLaneConfig extends LaneSelection {
  /** Label vocabulary, i.e. the head's output columns (default: SEMANTIC_LABELS). */
  vocabulary: string[];
}
export interface TransferLaneConfig extends LaneSelection {
  /** Skip records with an empty response (default false: prompts are enough). */
  requireResponse: boolean;
}

export interface LanesConfig {
  sft: SftLaneConfig;
  routing: RoutingLaneConfig;
  semantic: SemanticLaneConfig;
  transfer: TransferLaneConfig;
}

export type PackSource = { kind: "pack" } & ResolvedPackOptions;
export interface JsonlSource {
  kind: "jsonl";
  train: string;
  /** A separate held-out file; without it, records are split by `metadata.split` or by prompt hash. */
  heldOut: string | null;
  heldOutFraction: number;
  /** Throw on the first bad record instead of skipping it. */
  strict: boolean;
}
export type SourceConfig = PackSource | JsonlSource;

export interface CorpusConfig {
  path: string;
  valFraction: number;
}

export interface DataConfig {
  seed: number;
  block: number;
  source: SourceConfig;
  corpus: CorpusConfig | null;
  lanes: LanesConfig;
}

function responseLength(key: string, raw: unknown): LaneSelection["responseLength"] {
  if (raw === undefined || raw === null) return null;
  if (!isPlainObject(raw)) throw new DataConfigError(key, `expected {min?, max?}, got ${describe(raw)}`);
  expectKeys(key, raw, ["min", "max"]);
  const min = raw.min === undefined ? 0 : expectInt(`${key}.min`, raw.min, 0);
  const max = raw.max === undefined || raw.max === null ? null : expectInt(`${key}.max`, raw.max, 0);
  if (max !== null && max < min) throw new DataConfigError(key, `max (${max}) is below min (${min})`);
  return { min, max };
}

function selection(key: string, raw: Record<string, unknown>, block: number): LaneSelection {
  return {
    enabled: raw.enabled === undefined ? true : expectBool(`${key}.enabled`, raw.enabled),
    domains: raw.domains === undefined || raw.domains === null ? null : expectStringList(`${key}.domains`, raw.domains),
    exclude: raw.exclude === undefined ? [] : expectStringList(`${key}.exclude`, raw.exclude),
    difficulties: raw.difficulties === undefined || raw.difficulties === null ? null : checkDifficulties(`${key}.difficulties`, raw.difficulties),
    responseLength: responseLength(`${key}.responseLength`, raw.responseLength),
    maxTokens: raw.maxTokens === undefined ? block : expectInt(`${key}.maxTokens`, raw.maxTokens, 2, block),
    limit: raw.limit === undefined || raw.limit === null ? null : expectInt(`${key}.limit`, raw.limit, 0),
  };
}

const COMMON = ["enabled", "domains", "exclude", "difficulties", "responseLength", "maxTokens", "limit"];

/** `true`/absent → defaults, `false` → disabled, object → validated. */
function laneObject(key: string, raw: unknown): Record<string, unknown> {
  if (raw === undefined || raw === true) return {};
  if (raw === false) return { enabled: false };
  if (!isPlainObject(raw)) throw new DataConfigError(key, `expected an object or a boolean, got ${describe(raw)}`);
  return raw;
}

function lanes(key: string, raw: unknown, block: number): LanesConfig {
  const r = raw === undefined ? {} : raw;
  if (!isPlainObject(r)) throw new DataConfigError(key, `expected an object, got ${describe(raw)}`);
  expectKeys(key, r, LANE_NAMES);

  const sft = laneObject(`${key}.sft`, r.sft);
  expectKeys(`${key}.sft`, sft, [...COMMON, "overflow"]);
  const routing = laneObject(`${key}.routing`, r.routing);
  expectKeys(`${key}.routing`, routing, [...COMMON, "balance"]);
  const semantic = laneObject(`${key}.semantic`, r.semantic);
  expectKeys(`${key}.semantic`, semantic, [...COMMON, "vocabulary"]);
  const transfer = laneObject(`${key}.transfer`, r.transfer);
  expectKeys(`${key}.transfer`, transfer, [...COMMON, "requireResponse"]);

  const vocabulary = semantic.vocabulary === undefined ? [...SEMANTIC_LABELS] : expectStringList(`${key}.semantic.vocabulary`, semantic.vocabulary);
  if (new Set(vocabulary).size !== vocabulary.length) throw new DataConfigError(`${key}.semantic.vocabulary`, "labels must be unique");
  return {
    sft: {
      ...selection(`${key}.sft`, sft, block),
      overflow: sft.overflow === undefined ? "skip" : expectOneOf(`${key}.sft.overflow`, sft.overflow, OVERFLOW_RULES),
    },
    routing: {
      ...selection(`${key}.routing`, routing, block),
      balance: routing.balance === undefined ? true : expectBool(`${key}.routing.balance`, routing.balance),
    },
    semantic: { ...selection(`${key}.semantic`, semantic, block), vocabulary },
    transfer: {
      ...selection(`${key}.transfer`, transfer, block),
      requireResponse: transfer.requireResponse === undefined ? false : expectBool(`${key}.transfer.requireResponse`, transfer.requireResponse),
    },
  };
}

function source(key: string, raw: unknown): SourceConfig {
  const r = raw === undefined ? { kind: "pack" } : raw;
  if (!isPlainObject(r)) throw new DataConfigError(key, `expected an object, got ${describe(raw)}`);
  const kind = expectOneOf(`${key}.kind`, r.kind ?? "pack", ["pack", "jsonl"] as const);
  if (kind === "pack") return { kind, ...resolvePackOptions(r, key) };
  expectKeys(key, r, ["kind", "train", "heldOut", "heldOutFraction", "strict"]);
  return {
    kind,
    train: expectString(`${key}.train`, r.train),
    heldOut: r.heldOut === undefined || r.heldOut === null ? null : expectString(`${key}.heldOut`, r.heldOut),
    heldOutFraction: r.heldOutFraction === undefined ? DEFAULT_HELD_OUT_FRACTION : expectNumber(`${key}.heldOutFraction`, r.heldOutFraction, 0, 0.9),
    strict: r.strict === undefined ? false : expectBool(`${key}.strict`, r.strict),
  };
}

function corpus(key: string, raw: unknown): CorpusConfig | null {
  if (raw === undefined || raw === null) return null;
  const r = typeof raw === "string" ? { path: raw } : raw;
  if (!isPlainObject(r)) throw new DataConfigError(key, `expected a path or {path, valFraction}, got ${describe(raw)}`);
  expectKeys(key, r, ["path", "valFraction"]);
  return {
    path: expectString(`${key}.path`, r.path),
    valFraction: r.valFraction === undefined ? 0.1 : expectNumber(`${key}.valFraction`, r.valFraction, 0, 0.9),
  };
}

/** Validates a plain data config and fills every default; the result is plain JSON too. */
export function resolveDataConfig(raw: unknown = {}, key = "data"): DataConfig {
  if (!isPlainObject(raw)) throw new DataConfigError(key, `expected an object, got ${describe(raw)}`);
  expectKeys(key, raw, ["seed", "block", "source", "corpus", "lanes"]);
  const block = raw.block === undefined ? DEFAULT_BLOCK : expectInt(`${key}.block`, raw.block, 2, 1 << 20);
  return {
    seed: raw.seed === undefined ? DEFAULT_DATA_SEED : expectInt(`${key}.seed`, raw.seed, 0),
    block,
    source: source(`${key}.source`, raw.source),
    corpus: corpus(`${key}.corpus`, raw.corpus),
    lanes: lanes(`${key}.lanes`, raw.lanes, block),
  };
}
