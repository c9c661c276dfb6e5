// What the control-plane drills check after a run, read from the run's KV: the stage jobs
// (none cancelled, each done job's final checkpoint at its last step) and the stages' gates.
// Pure readers, so the drills' counters can be shown moving the other way in tests.
import type { NatsConnection } from "../../hosts/mod.js";
import type { RunSummary } from "../director/mod.js";
import { type JobState, openJobStates } from "../cast/mod.js";

export interface JobAudit {
  readonly jobs: number;
  /** Jobs cancelled, or with a cancel request standing (no drill may cancel anything). */
  readonly cancelled_jobs: number;
  /** Done jobs whose final checkpoint is not at the job's last step. */
  readonly stale_final: number;
  /** Jobs recorded failed (an outage or a second director must never fail a job). */
  readonly failed_jobs: number;
  /** Cancels the trainer refused because they came from a director that had lost the run. */
  readonly refused_cancels: number;
  readonly by_job: readonly { readonly job: string; readonly state: string; readonly steps: number; readonly final: number | null; readonly deliveries: number }[];
}

export function auditJobStates(states: readonly JobState[]): JobAudit {
  let cancelled = 0;
  let stale = 0;
  let refused = 0;
  let failed = 0;
  for (const s of states) {
    if (s.state === "failed") failed++;
    if (s.state === "cancelled" || s.cancel) cancelled++;
    if (s.state === "done" && (s.result === null || s.result.final.step !== s.steps)) stale++;
    refused += s.refusedCancels ?? 0;
  }
  return {
    jobs: states.length,
    cancelled_jobs: cancelled,
    stale_final: stale,
    failed_jobs: failed,
    refused_cancels: refused,
    by_job: states.map((s) => ({ job: s.jobId, state: s.state, steps: s.steps, final: s.result?.final.step ?? null, deliveries: s.deliveries })),
  };
}

export async function auditJobs(nc: NatsConnection, runId: string): Promise<JobAudit> {
  const states = await openJobStates(nc, runId);
  const all: JobState[] = [];
  for (const k of await states.keys()) {
    const s = await states.get(k);
    if (s) all.push(s.value);
  }
  return auditJobStates(all);
}

/** Every listed stage has a measured gate metric and a verdict (passed or failed). */
export function gatesDecided(summary: RunSummary | null, listed: readonly number[]): boolean {
  if (!summary) return false;
  return listed.every((st) => {
    const s = summary.stages.find((x) => x.stage === st);
    return !!s && s.metric !== null && (s.status === "passed" || s.status === "failed");
  });
}

/** The parts of a run report (the report layer's readReport, passed in from above) the curve check reads. */
export type ReportReader = (file: string) => Promise<{
  readonly stages: readonly {
    readonly stage: number;
    readonly attempt_reports: readonly { readonly attempt: number; readonly steps: number; readonly details?: unknown }[];
    readonly series: readonly { readonly attempt: number; readonly terms: Readonly<Record<string, { readonly points: readonly { readonly step: number }[] } | undefined>> }[];
  }[];
}>;

/**
 * Steps missing from the loss curves of a stage's trained attempts in a run's report (every
 * step 1..steps of each attempt that trained): the director follows the trainer's progress
 * stream, and an outage must not cut the curve.
 */
export async function missingCurveSteps(reportFile: string | null, stage: number, read: ReportReader | undefined): Promise<number | null> {
  if (!reportFile || !read) return null;
  const r = await read(reportFile);
  const s = r.stages.find((x) => x.stage === stage);
  if (!s) return null;
  let missing = 0;
  for (const a of s.attempt_reports) {
    if (a.steps === 0) continue;
    const seen = new Set(s.series.find((x) => x.attempt === a.attempt)?.terms.total?.points.map((p) => p.step) ?? []);
    for (let k = 1; k <= a.steps; k++) if (!seen.has(k)) missing++;
  }
  return missing;
}

/**
 * Steps of a stage's loss curves (every trained attempt) that appear more than once in the run's
 * report: a progress event delivered or stored twice.
 */
export async function duplicateCurveSteps(reportFile: string | null, stage: number, read: ReportReader | undefined): Promise<number | null> {
  if (!reportFile || !read) return null;
  const r = await read(reportFile);
  const s = r.stages.find((x) => x.stage === stage);
  if (!s) return null;
  return duplicatedSteps(s.series.map((x) => x.terms.total?.points.map((p) => p.step) ?? []));
}

/** Steps recorded more than once, over each curve's list of steps (pure). */
export function duplicatedSteps(curves: readonly (readonly number[])[]): number {
  return curves.reduce((n, steps) => n + steps.length - new Set(steps).size, 0);
}

/** The resume steps a stage's evaluator details recorded (from the trainer's job state), in a run's report. */
export async function resumedStepsInReport(reportFile: string | null, stage: number, read: ReportReader | undefined): Promise<number[]> {
  if (!reportFile || !read) return [];
  const r = await read(reportFile);
  const steps = new Set<number>();
  for (const a of r.stages.find((x) => x.stage === stage)?.attempt_reports ?? []) {
    const t = (a.details as { training?: { resumed_from_steps?: number[] } } | null | undefined)?.training;
    for (const n of t?.resumed_from_steps ?? []) steps.add(n);
  }
  return [...steps].sort((a, b) => a - b);
}
