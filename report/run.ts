// The run report at the end (or at a stage's end) of a run: the director's context from its
// last stored snapshot, the loss curves it recorded (KV), what was cast, and notes on what
// this run did beyond the stages (the base, roles left uncast).
import { join } from "node:path";
import { type BaseRecord, type BaselineRecord, type PoolRecord, RUN_KEYS, type ReportOptions, type RunRecord } from "../actors/cast/mod.js";
import { type DirectorContext, type LossRecorderState, createLossRecorder } from "../actors/director/mod.js";
import { buildReport } from "./build.js";
import { type ReportPaths, writeReport } from "./files.js";
import type { RunReport } from "./model.js";
import { poolReport } from "./pools.js";

function fixed(x: number | null | undefined, d = 3): string {
  return typeof x === "number" && Number.isFinite(x) ? x.toFixed(d) : "–";
}

/** What the run's KV says about the base and the baseline, as report notes. */
async function recordNotes(record: RunRecord): Promise<string[]> {
  const notes: string[] = [];
  const base = await record.get<BaseRecord>(RUN_KEYS.base);
  if (base) {
    const p = base.pretrain;
    notes.push(
      base.cached
        ? `Base ${base.digest}: found in the cache (troupe_shared_bases), not retrained.`
        : p.lane
          ? `Base ${base.digest}: pretrained ${p.steps} steps on lane "${p.lane}" (${p.examples ?? "?"} examples), loss ${fixed(p.firstLoss)} → ${fixed(p.trainLoss)}, ` +
            `${Math.round(p.tokensPerS ?? 0)} tok/s, ${fixed((p.wallMs ?? 0) / 1000, 1)} s` +
            (p.resumedFrom.length ? `; the trainer was restarted and resumed from step ${p.resumedFrom.join(", ")}` : "") + "."
          : `Base ${base.digest}: the seeded random initialisation (the scenario pretrains nothing).`,
    );
  }
  const baseline = await record.get<BaselineRecord>(RUN_KEYS.baseline);
  if (baseline) {
    const m = baseline.map;
    const split = (s: number | null) => (s === null ? "none" : `after block ${s}`);
    const perDomain = Object.entries(m.byDomain).map(([d, a]) => `${d} ${split(a.split)}`).join(", ");
    notes.push(
      `Split-layer map (logit-lens agreement with the final layer ≥ ${m.bar} on ${m.overall.tokens} response tokens): ` +
        `overall ${split(m.overall.split)} (${m.layers.map((l) => `${l}: ${fixed(m.overall.agreement[String(l)], 2)}`).join(", ")}); ${perDomain}.`,
    );
    notes.push(
      `Baseline on "${baseline.evalLane}": exact match ${fixed(baseline.baseline.exactMatch)}, loss ${fixed(baseline.baseline.loss)}; ` +
        Object.entries(baseline.baseline.byDomain).map(([d, s]) => `${d} ${fixed(s.exactMatch, 2)} / ${fixed(s.loss, 2)}`).join(", ") + ".",
    );
  }
  return notes;
}

export async function buildRunReport(o: ReportOptions): Promise<RunReport> {
  const restore = await o.record.get<LossRecorderState>(RUN_KEYS.losses);
  const losses = createLossRecorder({ restore });
  // the teacher's and the evaluator's pools, when they ran on one
  const pools = (await Promise.all([RUN_KEYS.poolTeacher, RUN_KEYS.poolEvaluator].map((k) => o.record.get<PoolRecord>(k)))).filter((p): p is PoolRecord => p !== null).map(poolReport);
  return buildReport({
    benchmarks: pools.flatMap((p) => p.rows),
    ...(o.snapshot ? { context: o.snapshot.context as DirectorContext } : { summary: o.summary }),
    losses,
    scenario: { name: o.spec.name, file: o.file, digest: o.spec.digest },
    cast: o.cast,
    hosts: o.hosts,
    notes: [...o.notes, ...(await recordNotes(o.record)), ...pools.map((p) => p.note)],
  });
}

export async function writeRunReport(o: ReportOptions): Promise<ReportPaths & { report: RunReport }> {
  const report = await buildRunReport(o);
  const paths = await writeReport(join(o.spec.outDir, o.spec.runId), report);
  return { ...paths, report };
}
