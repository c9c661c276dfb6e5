// The run summary: what the run report renders and `troupe run` prints as JSON. A pure
// function of the director's context (final or not). Keys are snake_case because this is a
// document format (`{"stages":[{"stage":0,"passed":true,...}],"wall_s":12.5}`), not an API.
import type { Evidence } from "../../data/mod.js";
import type { DirectorContext, RunOutcome, StageRecord, StageStatus, StopKind } from "./context.js";
import type { GateCheck } from "./gate.js";
import type { LossTerm, ModuleName, StageId } from "./stages.js";
import type { LossValues } from "./work.js";

export interface StageSummary {
  readonly stage: StageId;
  readonly name: string;
  readonly status: StageStatus;
  readonly passed: boolean;
  /** Gate metric name and the last measured value vs the threshold it was held to. */
  readonly gate_metric: string | null;
  readonly metric: number | null;
  readonly threshold: number | null;
  readonly verdict: string | null;
  /**
   * What the gate's metric was measured against, for a gain: the score, every reference (the
   * named one and the trivial ones), the best of them and the gain's confidence interval.
   * (Absent in summaries written before it existed.)
   */
  readonly evidence?: Evidence | null;
  /** The gate's required checks as measured (stage 0: record complete, split layer found). */
  readonly checks?: readonly GateCheck[];
  readonly attempts: number;
  readonly retries: number;
  /** Steps trained, summed over attempts. */
  readonly steps: number;
  readonly trains: readonly ModuleName[];
  readonly loss_terms: readonly LossTerm[];
  /** Last reported losses of the last attempt. */
  readonly losses: LossValues | null;
  readonly wall_s: number | null;
  /** Times the director resumed from its snapshot during this stage. */
  readonly restarts: number;
  readonly note: string | null;
}

export interface RunSummary {
  readonly run_id: string;
  readonly outcome: RunOutcome;
  readonly stages: readonly StageSummary[];
  readonly stopped?: { readonly stage: StageId | null; readonly kind: StopKind; readonly reason: string };
  readonly wall_s: number;
  readonly resumes: number;
}

const seconds = (ms: number): number => Math.round(ms) / 1000;

export function summarizeStage(r: StageRecord, now: number): StageSummary {
  const last = r.attempts[r.attempts.length - 1];
  const gate = last?.metric !== null && last?.metric !== undefined ? last : [...r.attempts].reverse().find((a) => a.metric !== null);
  return {
    stage: r.stage,
    name: r.name,
    status: r.status,
    passed: r.status === "passed" || r.status === "passed_off_path",
    gate_metric: null,
    metric: gate?.metric ?? null,
    threshold: gate?.threshold ?? null,
    verdict: last?.verdict ?? last?.error?.message ?? null,
    evidence: gate?.evidence ?? null,
    checks: gate?.checks ?? [],
    attempts: r.attempts.length,
    retries: Math.max(0, r.attempts.length - 1),
    steps: r.attempts.reduce((n, a) => n + a.step, 0),
    trains: r.trains,
    loss_terms: r.lossTerms,
    losses: last?.losses.last ?? null,
    wall_s: r.attempts.length === 0 && r.status !== "running" ? null : seconds((r.endedAt ?? now) - r.startedAt),
    restarts: r.attempts.reduce((n, a) => n + a.restarts, 0),
    note: r.note,
  };
}

export function summarizeRun(ctx: DirectorContext): RunSummary {
  const now = ctx.endedAt ?? ctx.clockAt;
  const stages = ctx.records.map((r) => {
    const s = summarizeStage(r, now);
    const gate = ctx.plan.stages.find((p) => p.stage === r.stage)?.gate.metric ?? null;
    return { ...s, gate_metric: gate };
  });
  return {
    run_id: ctx.runId,
    outcome: ctx.outcome,
    stages,
    ...(ctx.stopped ? { stopped: { stage: ctx.stopped.stage, kind: ctx.stopped.kind, reason: ctx.stopped.reason } } : {}),
    wall_s: seconds(now - ctx.startedAt),
    resumes: ctx.resumes.length,
  };
}
