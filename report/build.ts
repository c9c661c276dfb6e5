// buildReport: the RunReport of a run from what the runtime has at its end (or mid-run): the
// director's context (or only its RunSummary), the LossRecorder, and what the cast knows
// (scenario, actors, hosts, transfer fidelity, benchmarks, notes). Pure; the result is plain
// JSON with every non-finite number turned into null.
import {
  METRICS,
  stagePlan,
  summarizeRun,
  type AttemptRecord,
  type DirectorContext,
  type Direction,
  type RunSummary,
  type StageRecord,
  type StageSummary,
} from "../actors/director/mod.js";
import { ReportInputError } from "./errors.js";
import {
  REPORT_FORMAT,
  type AttemptReport,
  type BenchmarkRow,
  type CastMember,
  type GateRow,
  type HostInfo,
  type LossRow,
  type RunReport,
  type ScenarioInfo,
  type StageReport,
  type TransferRow,
} from "./model.js";
import type { AttemptSeries, LossRecorder } from "../actors/director/mod.js";
import { architectureOf, calibrationOf, routeOf, transferRowsOf } from "./curriculum.js";

export interface ReportInput {
  /** The director's context: gives attempts, gates and evaluator details. Preferred. */
  readonly context?: DirectorContext | null;
  /** The run summary, when the context is not at hand; derived from `context` otherwise. */
  readonly summary?: RunSummary | null;
  readonly losses?: Pick<LossRecorder, "series"> | null;
  readonly scenario?: ScenarioInfo | null;
  readonly cast?: readonly CastMember[];
  readonly hosts?: readonly HostInfo[];
  readonly transfer?: readonly TransferRow[];
  readonly benchmarks?: readonly BenchmarkRow[];
  readonly notes?: readonly string[];
  /** When the report is made; default: now. */
  readonly generatedAt?: Date;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** A deep copy that JSON round-trips exactly: non-finite numbers → null, undefined and functions dropped. */
export function jsonSafe(v: unknown): Json {
  if (typeof v === "number") return Number.isFinite(v) ? v : null;
  if (typeof v === "string" || typeof v === "boolean" || v === null) return v;
  if (Array.isArray(v)) return v.map((x) => (x === undefined || typeof x === "function" ? null : jsonSafe(x)));
  if (typeof v === "object") {
    const out: { [k: string]: Json } = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (x !== undefined && typeof x !== "function" && typeof x !== "symbol") out[k] = jsonSafe(x);
    }
    return out;
  }
  return null;
}

function lossRow(values: Readonly<Record<string, number | undefined>> | null | undefined): LossRow | null {
  if (!values) return null;
  const out: Record<string, number | null> = {};
  for (const [k, v] of Object.entries(values)) if (v !== undefined) out[k] = Number.isFinite(v) ? v : null;
  return out;
}

function direction(ctx: DirectorContext | null, s: StageSummary): Direction | null {
  const planned = ctx ? stagePlan(ctx.plan, s.stage)?.gate.direction : undefined;
  return planned ?? (s.gate_metric ? (METRICS[s.gate_metric]?.direction ?? null) : null);
}

function attemptReport(a: AttemptRecord, now: number): AttemptReport {
  return {
    attempt: a.settings.attempt,
    outcome: a.outcome,
    planned_steps: a.settings.steps,
    steps: a.step,
    lr: a.settings.lr,
    seed: a.settings.seed,
    changes: { ...a.settings.changes },
    metric: a.metric,
    threshold: a.threshold,
    verdict: a.verdict,
    error: a.error ? { ...a.error } : null,
    losses_first: lossRow(a.losses.first),
    losses_last: lossRow(a.losses.last),
    losses_min: lossRow(a.losses.min) ?? {},
    wall_s: Math.round((a.endedAt ?? now) - a.startedAt) / 1000,
    restarts: a.restarts,
    checkpoint: a.checkpoint,
    details: a.details,
    evidence: a.evidence ?? null,
    checks: a.checks ?? [],
  };
}

function stageReport(s: StageSummary, record: StageRecord | undefined, ctx: DirectorContext | null, series: AttemptSeries[]): StageReport {
  const now = ctx ? (ctx.endedAt ?? ctx.clockAt) : 0;
  const gate: GateRow = {
    metric: s.gate_metric,
    direction: direction(ctx, s),
    threshold: s.threshold,
    value: s.metric,
    passed: s.passed,
    verdict: s.verdict,
  };
  return {
    ...s,
    losses: lossRow(s.losses),
    gate,
    attempt_reports: record ? record.attempts.map((a) => attemptReport(a, now)) : [],
    series,
  };
}

const isoTime = (d: Date | undefined): string =>
  (d instanceof Date && Number.isFinite(d.getTime()) ? d : new Date()).toISOString();

/** Builds the report. Throws ReportInputError when given neither a context nor a summary. */
export function buildReport(input: ReportInput): RunReport {
  const ctx = input.context ?? null;
  const summary = input.summary ?? (ctx ? summarizeRun(ctx) : null);
  if (!summary || !Array.isArray(summary.stages)) {
    throw new ReportInputError("buildReport needs the director's context or its run summary (neither was given)");
  }
  const stages = summary.stages.map((s) => {
    const record = ctx?.records.find((r) => r.stage === s.stage);
    let series: AttemptSeries[] = [];
    try {
      series = input.losses?.series(s.stage) ?? [];
    } catch {
      series = [];
    }
    return stageReport(s, record, ctx, series);
  });
  const report: RunReport = {
    format: REPORT_FORMAT,
    generated_at: isoTime(input.generatedAt),
    run_id: summary.run_id,
    outcome: summary.outcome,
    ...(summary.stopped ? { stopped: summary.stopped } : {}),
    wall_s: summary.wall_s,
    resumes: summary.resumes,
    scenario: input.scenario ?? null,
    stages,
    cast: input.cast ?? [],
    hosts: input.hosts ?? [],
    transfer: input.transfer && input.transfer.length > 0 ? input.transfer : transferRowsOf(stages),
    route: routeOf(stages),
    calibration: calibrationOf(stages),
    architecture: architectureOf(stages),
    benchmarks: input.benchmarks ?? [],
    notes: input.notes ?? [],
  };
  return jsonSafe(report) as unknown as RunReport;
}
