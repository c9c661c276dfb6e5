// The run report as a document: what `runs/<run>/report.json` holds and `report.html` draws.
// A report is a superset of the director's RunSummary (a reader of the summary reads a report),
// plus per-stage loss series, per-attempt evaluations, the gate of every stage, the scenario
// and cast, and sections later stages fill (transfer fidelity, benchmarks, notes). Keys are
// snake_case (a document format, like RunSummary); every number is finite or null, so
// JSON.stringify/parse gives the same object back.
import type { AttemptSeries, Direction, Evidence, GateCheck, JsonObject, LossName, RunSummary, StageSummary } from "../actors/director/mod.js";
import type { CastMember, HostInfo } from "../actors/cast/mod.js";

export type { CastMember, HostInfo, LossName };

/** Bump the number when a reader of the old format could misread the new one. */
export const REPORT_FORMAT = "troupe-report/1";
export type ReportFormat = typeof REPORT_FORMAT;

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
  /** Stage 5's rows: the split layer the state left from, bytes per token with headers, mean KL, top-1 agreement. */
  readonly layer?: number | null;
  readonly bytes_per_token?: number | null;
  readonly kl_mean?: number | null;
  readonly top1?: number | null;
}

/** Stage 2: route accuracy and macro-F1 of the route head against its baselines, and the vitality head's. */
export interface RouteRow {
  readonly accuracy: number | null;
  readonly entropy_accuracy: number | null;
  readonly majority_accuracy: number | null;
  readonly macro_f1: number | null;
  readonly entropy_macro_f1: number | null;
  readonly majority_macro_f1: number | null;
  readonly tokens: number | null;
  /** mean expected calibration error of the vitality head over the head layers */
  readonly vitality_ece: number | null;
  readonly dead_auroc: number | null;
  readonly dead_auroc_entropy: number | null;
}

/** Stage 2: the vitality head's calibration plot at one head layer (non-empty bins). */
export interface CalibrationRow {
  readonly layer: number;
  readonly ece: number | null;
  readonly bins: readonly { readonly lower: number; readonly confidence: number; readonly accuracy: number; readonly count: number }[];
}

/** What the curriculum bought: routed inference against full depth on held-out prompts, one run. */
export interface ArchitectureRow {
  /** which weights were measured (the ones the run ends with) */
  readonly weights: string;
  readonly mean_layers_per_token: number | null;
  readonly full_layers: number | null;
  readonly tokens_per_s_routed: number | null;
  readonly tokens_per_s_full: number | null;
  readonly em_routed: number | null;
  readonly em_full: number | null;
  readonly prompts: number | null;
  readonly rounds: number | null;
  /** 1 − mean layers / full layers */
  readonly depth_saved: number | null;
  /** tokens/s routed ÷ full */
  readonly speedup: number | null;
  /** em_full − em_routed */
  readonly em_drop: number | null;
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
  /** Stages 2 and 6 (absent from reports of runs without them, or written before them). */
  readonly route?: RouteRow | null;
  readonly calibration?: readonly CalibrationRow[];
  readonly architecture?: ArchitectureRow | null;
  readonly benchmarks: readonly BenchmarkRow[];
  readonly notes: readonly string[];
}
