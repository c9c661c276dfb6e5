// Builds the data lanes of a run from its data config: load the source records, apply each
// lane's rules (rules.ts) to both splits, then the lane-level steps (routing balance, limit).
// Every record not kept is accounted for in the lane's report.
import { loadTextCorpus, type TextCorpus } from "../corpus.js";
import type { PromptRecord } from "../records.js";
import { createRng, deriveSeed } from "../rng.js";
import { createSkipLog, type SkipSummary } from "../skips.js";
import type { ChatTemplate } from "../template.js";
import { templateFor } from "../tokenizers/chat.js";
import { byteTokenizer, type Tokenizer } from "../tokenizer.js";
import { LANE_NAMES, resolveDataConfig, type DataConfig, type LaneName } from "./config.js";
import { judge, type LaneItem } from "./rules.js";
import { loadSource, type SourceReport } from "./source.js";

export interface LaneReport {
  readonly lane: LaneName;
  readonly enabled: boolean;
  readonly kept: { train: number; heldOut: number };
  /** Not selected by the lane's config (domain, difficulty, balance, limit), by reason. */
  readonly filtered: Record<string, number>;
  /** Unusable for this lane, by reason, with the first few. */
  readonly skipped: SkipSummary;
  /** SFT examples shortened by the truncate rule. */
  readonly truncated: number;
  /** Semantic labels not in the vocabulary (dropped from their records), by label. */
  readonly unknownLabels: Record<string, number>;
}

export interface Lane {
  readonly name: LaneName;
  readonly train: LaneItem[];
  readonly heldOut: LaneItem[];
  readonly report: LaneReport;
  /** Column names of `item.labels` (semantic lane); empty elsewhere. */
  readonly vocabulary: string[];
}

export type Lanes = Record<LaneName, Lane>;

export interface RecordSplits {
  readonly train: readonly PromptRecord[];
  readonly heldOut: readonly PromptRecord[];
}

/** `k` of `items` chosen by a seeded shuffle, returned in their original order. */
function pick<T>(items: readonly T[], k: number, seed: number): T[] {
  if (k >= items.length) return [...items];
  const chosen = createRng(seed).shuffle(Array.from(items.keys())).slice(0, k).sort((a, b) => a - b);
  return chosen.map((i) => items[i]!);
}

function bump(m: Record<string, number>, key: string, n = 1): void {
  if (n > 0) m[key] = (m[key] ?? 0) + n;
}

export function buildLane(name: LaneName, records: RecordSplits, config: DataConfig, template: ChatTemplate): Lane {
  const cfg = config.lanes[name];
  const filtered: Record<string, number> = {};
  const unknownLabels: Record<string, number> = {};
  const skips = createSkipLog();
  let truncated = 0;

  const run = (split: "train" | "heldout", list: readonly PromptRecord[]): LaneItem[] => {
    if (!cfg.enabled) return [];
    let kept: LaneItem[] = [];
    for (const r of list) {
      const v = judge(name, config.lanes, r, template);
      if (v.kind === "filter") bump(filtered, v.reason);
      else if (v.kind === "skip") {
        skips.skip({ line: r.line ?? 0, reason: v.reason, split, ...(v.detail !== undefined ? { detail: v.detail } : {}) });
      } else {
        kept.push(v.item);
        if (v.truncated) truncated++;
        for (const l of v.unknownLabels) bump(unknownLabels, l);
      }
    }
    const seed = (what: string) => deriveSeed(config.seed, "lane", name, split, what);
    if (name === "routing" && config.lanes.routing.balance) {
      const easy = kept.filter((it) => it.difficulty === "easy");
      const hard = kept.filter((it) => it.difficulty === "hard");
      let m = Math.min(easy.length, hard.length);
      if (cfg.limit !== null) m = Math.min(m, Math.floor(cfg.limit / 2));
      const keep = new Set([...pick(easy, m, seed("easy")), ...pick(hard, m, seed("hard"))]);
      bump(filtered, "balance easy/hard", kept.length - keep.size);
      kept = kept.filter((it) => keep.has(it));
    } else if (cfg.limit !== null && kept.length > cfg.limit) {
      bump(filtered, "over limit", kept.length - cfg.limit);
      kept = pick(kept, cfg.limit, seed("limit"));
    }
    return kept;
  };

  const train = run("train", records.train);
  const heldOut = run("heldout", records.heldOut);
  return {
    name,
    train,
    heldOut,
    vocabulary: name === "semantic" ? [...config.lanes.semantic.vocabulary] : [],
    report: {
      lane: name,
      enabled: cfg.enabled,
      kept: { train: train.length, heldOut: heldOut.length },
      filtered,
      skipped: skips.summary(),
      truncated,
      unknownLabels,
    },
  };
}

export function buildLanes(records: RecordSplits, config: DataConfig, template: ChatTemplate): Lanes {
  const out = {} as Lanes;
  for (const name of LANE_NAMES) out[name] = buildLane(name, records, config, template);
  return out;
}

export interface DataSet {
  readonly config: DataConfig;
  readonly tokenizer: Tokenizer;
  readonly template: ChatTemplate;
  readonly source: SourceReport;
  /** The held-out records as loaded (for exact-match evaluation with `score`). */
  readonly records: RecordSplits;
  readonly lanes: Lanes;
  readonly corpus: TextCorpus | null;
}

export interface LoadDataOptions {
  /** The tokenizer every lane and the corpus use (default: bytes). */
  readonly tokenizer?: Tokenizer;
  /** The chat template (default: the tokenizer's own, see templateFor). */
  readonly template?: ChatTemplate;
}

/** Validates `raw` (a scenario's `data:` section), loads its sources and builds every lane. */
export async function loadData(raw: unknown = {}, options: LoadDataOptions = {}): Promise<DataSet> {
  const config = resolveDataConfig(raw);
  const tokenizer = options.template?.tokenizer ?? options.tokenizer ?? byteTokenizer();
  const template = options.template ?? templateFor(tokenizer);
  const source = await loadSource(config.source, config.seed);
  const records = { train: source.train, heldOut: source.heldOut };
  const lanes = buildLanes(records, config, template);
  const corpus = config.corpus ? await loadTextCorpus(config.corpus.path, { tokenizer, valFraction: config.corpus.valFraction }) : null;
  return { config, tokenizer, template, source: source.report, records, lanes, corpus };
}
