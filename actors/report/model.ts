// The run report as a document: what `runs/<run>/report.json` holds and `report.html` draws.
// A report is a superset of the director's RunSummary (a reader of the summary reads a report),
// plus per-stage loss series, per-attempt evaluations, the gate of every stage, the scenario
// and cast, and sections later stages fill (transfer fidelity, benchmarks, notes). Keys are
// snake_case (a document format, like RunSummary); every number is finite or null, so
// JSON.stringify/parse gives the same object back.
import type { Direction, Evidence, GateCheck, JsonObject, LossTerm, RunSummary, StageSummary } from "../director/mod.js";
import type { AttemptSeries } from "./recorder.js";

/** Bump the number when a reader of the old format could misread the new one. */
export const REPORT_FORMAT = "troupe-report/1";
export type ReportFormat = typeof REPORT_FORMAT;

/** A loss name: a term of L, or `total` (the composite L). */
export type LossName = LossTerm | "total";

/** Loss values by name; a value that was NaN or ±Infinity is null. */
export type LossRow = Readonly<Partial<Record<LossName, number | null>>>;

/** A stage's gate: the metric, which way is better, the bar, and what was measured last. */
export interface GateRow {
  readonly metric: string | null;
  readonly direction: Direction | null;
  readonly threshold: number | null;
  readonly value: number | null;
  readonly passed: boolean;
  readonly verdict: string | null;
}

export interface AttemptReport {
  readonly attempt: number;
  /** running | passed | gate_failed | error | timeout */
  readonly outcome: string;
  /** Steps the attempt was planned for, and steps done. */
  readonly planned_steps: number;
  readonly steps: number;
  readonly lr: number | null;
  readonly seed: number;
  /** What this retry changed relative to the plan ({} on the first attempt). */
  readonly changes: Readonly<Record<string, number>>;
  readonly metric: number | null;
  readonly threshold: number | null;
  readonly verdict: string | null;
  readonly error: { readonly name: string; readonly code: string | null; readonly message: string } | null;
  readonly losses_first: LossRow | null;
  readonly losses_last: LossRow | null;
  readonly losses_min: LossRow;
  readonly wall_s: number | null;
  readonly restarts: number;
  readonly checkpoint: string | null;
  /** What the evaluator reported besides the metric (stage 0: split-layer map, baselines). */
  readonly details: JsonObject | null;
  /** The score against its named and trivial references, when the gate measured a gain. */
  readonly evidence?: Evidence | null;
  /** The gate's required checks as measured. */
  readonly checks?: readonly GateCheck[];
}

export interface StageReport extends Omit<StageSummary, "losses"> {
  readonly losses: LossRow | null;
  readonly gate: GateRow;
  readonly attempt_reports: readonly AttemptReport[];
  /** Loss curves, one entry per attempt that reported any progress. */
  readonly series: readonly AttemptSeries[];
}

export interface ScenarioInfo {
  readonly name: string;
  /** The scenario file as given to `troupe run`, or null for a plan built in code. */
  readonly file: string | null;
  /** configDigest() of the resolved RunPlan: two runs with one digest ran the same config. */
  readonly digest: string | null;
}

/** One actor of the cast. */
export interface CastMember {
  readonly role: string;
  readonly id: string;
  readonly host: string;
  readonly pid: number | null;
  readonly restarts: number;
  readonly backend?: string | null;
  readonly status?: string | null;
}

export interface HostInfo {
  readonly name: string;
  readonly address?: string | null;
  readonly cores?: number | null;
  readonly memory_gb?: number | null;
  readonly backends?: readonly string[];
}

/** Stage 5: how well one codec's packets carry a hidden state. */
export interface TransferRow {
  readonly codec: string;
  /** same_host | cross_host, or free text such as "mac4 → linux1". */
  readonly path?: string | null;
  readonly bits_per_value: number | null;
  readonly bytes: number | null;
  readonly cosine: number | null;
  readonly mse: number | null;
  /** KL(no-transfer ‖ resumed logits), nats/token. */
  readonly kl: number | null;
  readonly extra?: Readonly<Record<string, number | string | null>>;
}

export interface BenchmarkRow {
  readonly name: string;
  readonly value: number | null;
  readonly unit: string;
  readonly note?: string | null;
}

export interface RunReport extends Omit<RunSummary, "stages"> {
  readonly format: ReportFormat;
  /** ISO 8601 time the report was written. */
  readonly generated_at: string;
  readonly scenario: ScenarioInfo | null;
  readonly stages: readonly StageReport[];
  readonly cast: readonly CastMember[];
  readonly hosts: readonly HostInfo[];
  readonly transfer: readonly TransferRow[];
  readonly benchmarks: readonly BenchmarkRow[];
  readonly notes: readonly string[];
}
