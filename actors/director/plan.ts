// The director's input: a plain, JSON-serialisable description of the curriculum. The
// scenario loader (scenarios/) produces it from a YAML file; tests write it by hand. The
// director never reads YAML and never imports scenarios/.
import { DirectorPlanError } from "./errors.js";
import {
  LOSS_HOME_STAGE,
  LOSS_TERMS,
  METRICS,
  type Direction,
  type LossTerm,
  type ModuleName,
  type StageId,
  isStageId,
  stageLabel,
} from "./stages.js";

export const RAMP_KINDS = ["none", "linear", "cosine"] as const;
export type RampKind = (typeof RAMP_KINDS)[number];

/** How a λ rises from 0 to its weight over the first `steps` steps of a stage. */
export interface Ramp {
  readonly kind: RampKind;
  /** Steps from 0 to full weight (ignored for `none`). */
  readonly steps: number;
}

/** One loss term as a stage uses it. */
export interface LossPlan {
  readonly weight: number;
  readonly ramp: Ramp;
}

/** The terms on in a stage; a term absent here has λ = 0 in that stage. */
export type LossSchedule = Partial<Record<LossTerm, LossPlan>>;

export interface GatePlan {
  /** Name of a metric in METRICS; the evaluator reports its value. */
  readonly metric: string;
  readonly direction: Direction;
  /**
   * Pass when metric >= threshold (`higher`) or <= threshold (`lower`). `null` means the
   * threshold is the one the evaluator measures (e.g. the base model's score to beat).
   */
  readonly threshold: number | null;
  /**
   * Judge the metric's 95 % interval instead of its point value: its lower bound must reach a
   * min, its upper bound stay under a max (the evaluation must report the interval). Absent:
   * the point value.
   */
  readonly interval?: boolean;
}

/** What a retry may change, applied once per retry (compounding). */
export interface RetryChange {
  /** Learning-rate multiplier per retry (0.5 halves it each time). */
  readonly lrMult: number;
  /** Step-count multiplier per retry. */
  readonly stepsMult: number;
  /** Use seed + attempt - 1 instead of the same seed. */
  readonly reseed: boolean;
}

export interface RetryPlan {
  /** Retries after the first attempt; attempts = 1 + max. */
  readonly max: number;
  /** Wait between a failed attempt and the next, in ms of the injected clock. */
  readonly backoffMs: number;
  readonly change: RetryChange;
}

export interface StagePlan {
  readonly stage: StageId;
  readonly trains: readonly ModuleName[];
  /** Stage 0: candidate layers to capture; 2: layers the heads read; 3: blocks with a residual. */
  readonly layers: readonly number[];
  /** Training steps per attempt (stage 0: teacher batches to capture). */
  readonly steps: number;
  /** Learning rate of the first attempt; null for stage 0, which trains nothing. */
  readonly lr: number | null;
  readonly batch: number;
  /** Data lane the stage trains on and the one its gate evaluates on (names from `data.lanes`). */
  readonly lane: string | null;
  readonly evalLane: string | null;
  readonly losses: LossSchedule;
  readonly gate: GatePlan;
  readonly retry: RetryPlan;
  /** Per-attempt limit on preparing + training + evaluating, ms of the injected clock; null = none. */
  readonly timeoutMs: number | null;
  /** Stage 5: codecs whose fidelity is measured; others: empty. */
  readonly codecs: readonly string[];
  /** Stage 5: weight of the optional bitrate penalty; null = off. */
  readonly bitratePenalty: number | null;
  /**
   * Stage 0: a layer is a split candidate when its logit-lens argmax agrees with the final
   * layer's on at least this fraction of response tokens (absent on other stages).
   */
  readonly splitAgreement?: number;
}

export interface CurriculumPlan {
  /** Stages in increasing order, starting at 0; a stage not listed is recorded as omitted, and says so. */
  readonly stages: readonly StagePlan[];
  readonly seed: number;
  /** Whole-run limit, ms of the injected clock; null = none. */
  readonly runTimeoutMs: number | null;
}

export function stagePlan(plan: CurriculumPlan, stage: StageId): StagePlan | undefined {
  return plan.stages.find((s) => s.stage === stage);
}

/**
 * Re-checks the invariants the scenario loader already enforces, so that a hand-built or
 * corrupted plan fails loudly before a chart starts instead of half-way through a run.
 */
export function checkPlan(plan: CurriculumPlan): void {
  const fail = (msg: string): never => {
    throw new DirectorPlanError(msg);
  };
  if (plan.stages.length === 0) fail("the curriculum lists no stages");
  let prev = -1;
  for (const s of plan.stages) {
    if (!isStageId(s.stage)) fail(`stage ${String(s.stage)} is not one of 0-6`);
    if (s.stage <= prev) fail(`stages must be listed once each, in increasing order (got ${s.stage} after ${prev})`);
    prev = s.stage;
    const where = stageLabel(s.stage);
    if (!Number.isInteger(s.steps) || s.steps < 1) fail(`${where}: steps must be a positive integer`);
    if (!Number.isInteger(s.retry.max) || s.retry.max < 0) fail(`${where}: retry.max must be an integer >= 0`);
    const metric = METRICS[s.gate.metric];
    if (!metric) fail(`${where}: unknown gate metric "${s.gate.metric}"`);
    else if (metric.direction !== s.gate.direction) {
      fail(`${where}: ${s.gate.metric} is ${metric.direction}-is-better, the plan says ${s.gate.direction}`);
    }
    for (const term of Object.keys(s.losses) as LossTerm[]) {
      if (!LOSS_TERMS.includes(term)) fail(`${where}: unknown loss term "${term}"`);
      const home = LOSS_HOME_STAGE[term];
      if (home > s.stage) fail(`${where}: loss term ${term} is switched on by stage ${home}, not before`);
      if (!plan.stages.some((p) => p.stage === home)) {
        fail(`${where}: loss term ${term} needs stage ${home}, which switches it on, in the curriculum`);
      }
    }
  }
  if (plan.stages[0]!.stage !== 0) fail("the curriculum must start with stage 0 (baseline)");
}
