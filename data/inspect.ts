// A summary of a record set for `troupe data inspect`: counts per domain, difficulty and
// split, rendered token lengths, and how many records each lane would keep or skip.
import { resolveDataConfig, type LaneName } from "./lanes/config.js";
import { buildLanes, type LaneReport } from "./lanes/build.js";
import type { PromptRecord } from "./records.js";
import type { ChatTemplate } from "./template.js";

export interface RecordStats {
  readonly records: number;
  readonly byDomain: Record<string, number>;
  readonly byDifficulty: Record<string, number>;
  readonly bySplit: Record<string, number>;
  /** Rendered example length in tokens (template and end marker included). */
  readonly tokens: { min: number; mean: number; max: number };
  /** What each lane (default rules, given block) would keep from these records, all as one split. */
  readonly lanes: Record<LaneName, LaneReport>;
}

function count(m: Record<string, number>, key: string): void {
  m[key] = (m[key] ?? 0) + 1;
}

export function recordStats(records: readonly PromptRecord[], template: ChatTemplate, block = 64): RecordStats {
  const byDomain: Record<string, number> = {};
  const byDifficulty: Record<string, number> = {};
  const bySplit: Record<string, number> = {};
  let min = Infinity;
  let max = 0;
  let sum = 0;
  for (const r of records) {
    count(byDomain, r.metadata.domain);
    count(byDifficulty, r.metadata.difficulty ?? "unspecified");
    count(bySplit, r.metadata.split ?? "unspecified");
    const n = template.encodeExample(r.prompt, r.response).ids.length;
    min = Math.min(min, n);
    max = Math.max(max, n);
    sum += n;
  }
  const config = resolveDataConfig({ block });
  const lanes = buildLanes({ train: records, heldOut: [] }, config, template);
  return {
    records: records.length,
    byDomain,
    byDifficulty,
    bySplit,
    tokens: records.length ? { min, mean: sum / records.length, max } : { min: 0, mean: 0, max: 0 },
    lanes: {
      sft: lanes.sft.report,
      routing: lanes.routing.report,
      semantic: lanes.semantic.report,
      transfer: lanes.transfer.report,
    },
  };
}
