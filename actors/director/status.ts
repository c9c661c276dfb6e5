// `troupe status`: where a run is, from its persisted director snapshot alone (the CLI reads
// it from KV; nothing here does I/O). statusOf() builds a JSON view; formatStatus() prints it.
import type { DirectorContext, RunOutcome, StopRecord } from "./context.js";
import { DirectorSnapshotError } from "./errors.js";
import type { Lambdas } from "./lambdas.js";
import { stagePlan } from "./plan.js";
import { stageInfo, type StageId } from "./stages.js";
import type { PersistedDirectorSnapshot } from "./store.js";
import { summarizeRun, type StageSummary } from "./summary.js";
import type { LossValues } from "./work.js";

export interface StatusView {
  readonly run_id: string;
  /** Dotted state path, e.g. "stage1.training" or "stopped". */
  readonly state: string;
  readonly outcome: RunOutcome;
  readonly stage: { readonly id: StageId; readonly name: string } | null;
  readonly attempt: { readonly n: number; readonly max: number } | null;
  readonly step: { readonly done: number; readonly total: number } | null;
  readonly losses: LossValues | null;
  readonly lambdas: Lambdas | null;
  readonly stages: readonly StageSummary[];
  readonly stopped: StopRecord | null;
  readonly wall_s: number;
  readonly resumes: number;
}

/** "stage1.training" for { stage1: "training" }; "done" for "done". */
export function stateName(value: unknown): string {
  if (typeof value === "string") return value;
  if (value && typeof value === "object") {
    const [k, v] = Object.entries(value as Record<string, unknown>)[0] ?? [];
    if (k !== undefined) return v === undefined || v === null ? k : `${k}.${stateName(v)}`;
  }
  return String(value);
}

export function statusOf(snapshot: PersistedDirectorSnapshot): StatusView {
  const ctx: DirectorContext | undefined = snapshot?.context;
  if (!ctx || typeof ctx !== "object" || !Array.isArray(ctx.records)) {
    throw new DirectorSnapshotError("not a director snapshot (no context with stage records)");
  }
  const summary = summarizeRun(ctx);
  const running = ctx.outcome === "running";
  const plan = running ? stagePlan(ctx.plan, ctx.stage) : undefined;
  const progress = running && ctx.progress && ctx.progress.stage === ctx.stage ? ctx.progress : null;
  return {
    run_id: ctx.runId,
    state: stateName(snapshot.value),
    outcome: ctx.outcome,
    stage: running ? { id: ctx.stage, name: stageInfo(ctx.stage).name } : null,
    attempt: plan ? { n: ctx.attempt, max: 1 + plan.retry.max } : null,
    step: progress ? { done: progress.step, total: progress.steps } : null,
    losses: progress ? progress.losses : null,
    lambdas: progress ? progress.lambdas : null,
    stages: summary.stages,
    stopped: ctx.stopped,
    wall_s: summary.wall_s,
    resumes: summary.resumes,
  };
}

const num = (x: number): string => (Number.isInteger(x) ? String(x) : Number(x.toPrecision(4)).toString());

function pairs(values: Partial<Record<string, number>>, skipZero: boolean): string {
  return Object.entries(values)
    .filter(([, v]) => typeof v === "number" && (!skipZero || v !== 0))
    .map(([k, v]) => `${k} ${num(v as number)}`)
    .join("  ");
}

/** Human-readable status, a few lines. */
export function formatStatus(v: StatusView): string {
  const lines: string[] = [];
  const head = [`run ${v.run_id}`, v.outcome.replace("_", " ")];
  if (v.stage) head.push(`stage ${v.stage.id} (${v.stage.name})`, v.state.split(".").slice(1).join(".") || v.state);
  if (v.attempt) head.push(`attempt ${v.attempt.n}/${v.attempt.max}`);
  if (v.step) head.push(`step ${v.step.done}/${v.step.total}`);
  head.push(`${num(v.wall_s)} s`);
  lines.push(head.join(" · "));
  if (v.losses && Object.keys(v.losses).length > 0) lines.push(`  losses  ${pairs(v.losses, false)}`);
  if (v.lambdas) lines.push(`  λ       ${pairs(v.lambdas, true) || "(all 0)"}`);
  lines.push("  stage                       status         gate");
  for (const s of v.stages) {
    const label = `${s.stage} ${s.name}`.padEnd(26);
    const gate = s.verdict ?? s.note ?? "";
    const tries = s.attempts > 1 ? `  (${s.attempts} attempts)` : "";
    lines.push(`  ${label}  ${s.status.padEnd(13)}  ${gate}${tries}`);
  }
  if (v.stopped) lines.push(`  stopped: ${v.stopped.reason}`);
  if (v.resumes > 0) lines.push(`  director resumed ${v.resumes}× from its snapshot`);
  return lines.join("\n");
}
