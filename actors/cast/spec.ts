// What every actor of a run needs to know about it: the model, the data lanes, the curriculum
// and a few limits. The owner writes it to KV (bucket troupe_<run>_run, key "spec") before
// casting; the director, trainer, teacher and evaluator read it from there, so a restarted
// actor needs nothing but the run id. Plain JSON.
//
// The actors layer may not import scenarios/, so the spec is built from anything shaped like
// a scenario's RunPlan (RunPlanLike below matches it structurally).
import type { CurriculumPlan, StageId } from "../director/mod.js";
import { configDigest } from "./digest.js";
import { CastSpecError } from "./errors.js";
import type { CastPlacementSpec } from "./placement/spec.js";

export const RUN_SPEC_FORMAT = "troupe-run-spec/1";

export interface PretrainSpec {
  readonly lane: string;
  readonly steps: number;
  readonly lr: number;
  readonly batch: number;
  readonly warmup: number;
  readonly seed: number;
}

export interface LoraSpec {
  readonly r: number;
  readonly alpha: number;
  readonly dropout: number;
  readonly targets: readonly string[];
  readonly dora: boolean;
  /** Blocks with adapters; null = all. */
  readonly blocks: readonly number[] | null;
}

export interface ModelSpecPlan {
  /** The architecture (registry key); "gpt2" for the scenario's GPT keys. */
  readonly arch: string;
  /** A Hugging Face model directory the base starts from, or null (a fresh model). */
  readonly hf: string | null;
  readonly vocab: number;
  readonly block: number;
  readonly nEmbd: number;
  readonly nHead: number;
  readonly nLayer: number;
  readonly dropout: number;
  readonly base: { readonly pretrain: PretrainSpec } | null;
  readonly lora: LoraSpec | null;
}

export type LaneSpec =
  | {
      readonly kind: "prompt_pack";
      readonly seed: number;
      readonly domains: readonly string[] | null;
      readonly difficulty: readonly string[] | null;
      readonly count: number | null;
      readonly split: "train" | "heldout" | "all";
      /** Characters of the expected answer; absent or null = any (specs written before it have none). */
      readonly responseLength?: { readonly min: number; readonly max: number | null } | null;
      readonly options: unknown;
    }
  | { readonly kind: "jsonl"; readonly path: string; readonly split: "train" | "heldout" | "all"; readonly options: unknown }
  | { readonly kind: "text"; readonly path: string; readonly options: unknown }
  | { readonly kind: "mix"; readonly lanes: readonly string[]; readonly options: unknown };

/**
 * How the oracle decides that a candidate layer agrees with the final one (scenario `oracle:`):
 * same top-1 (when `top1`) and KL(final ‖ layer) ≤ klMax; which layer is acceptable by `rule`;
 * and how candidates are decoded — `auto`: the logit lens until a depth residual is trained,
 * the tuned lens (that residual) from then on (stage 6's on-the-fly labels), `lens` always.
 */
export interface OracleSpec {
  readonly klMax: number;
  readonly top1: boolean;
  readonly rule: "stable" | "first";
  readonly decode: "auto" | "lens" | "tuned";
}

export const DEFAULT_ORACLE_SPEC: OracleSpec = { klMax: 0.5, top1: true, rule: "stable", decode: "auto" };

/** Thunder-Train: trainer jobs that run data-parallel (scenario `thunder:`). */
export interface ThunderSpec {
  readonly ranks: number;
  /** Host of each rank (empty: all on this machine). */
  readonly on: readonly string[];
  readonly jobs: readonly ("base" | "adapter")[];
  readonly compression: "none" | "f16" | "bf16";
  readonly onPeerLoss: "stop" | "continue";
  readonly deadAfterMs: number;
  readonly bucketBytes: number;
}

export interface RunSpec {
  readonly format: typeof RUN_SPEC_FORMAT;
  readonly runId: string;
  /** The scenario's run name. */
  readonly name: string;
  readonly seed: number;
  /** The scenario file, when there is one. */
  readonly source: string | null;
  /** configDigest of the plan the run was started from. */
  readonly digest: string;
  /** Absolute directory for the run's report (runs/<run> lives under it). */
  readonly outDir: string;
  readonly model: ModelSpecPlan;
  readonly lanes: Readonly<Record<string, LaneSpec>>;
  readonly curriculum: CurriculumPlan;
  /** Trainer checkpoint interval in steps. */
  readonly checkpointEvery: number;
  /** Stages whose actors are built and cast. */
  readonly available: readonly StageId[];
  /** The oracle's settings (absent in specs written before stages 2-6: the defaults). */
  readonly oracle?: OracleSpec;
  /** Data-parallel trainer jobs (absent in specs of older runs: one trainer). */
  readonly thunder?: ThunderSpec | null;
  /** Where the cast runs when the scenario declares hosts; absent or null: every actor runs with the owner. */
  readonly placement?: CastPlacementSpec | null;
}

/** The parts of a scenario's RunPlan the cast uses (structurally the same types). */
export interface RunPlanLike {
  readonly source: string;
  readonly run: { readonly name: string; readonly seed: number; readonly outDir: string };
  readonly model: ModelSpecPlan;
  readonly data: { readonly lanes: Readonly<Record<string, LaneSpec>> };
  readonly curriculum: CurriculumPlan;
  readonly limits: { readonly checkpointEvery: number | null };
  readonly oracle?: OracleSpec | null;
  readonly thunder?: ThunderSpec | null;
}

/** Stages whose actors this build has. */
export const AVAILABLE_STAGES: readonly StageId[] = [0, 1, 2, 3, 4, 5, 6];

/** Default trainer checkpoint interval when the scenario names none. */
export const DEFAULT_CHECKPOINT_EVERY = 100;

export function runSpecFrom(plan: RunPlanLike, runId: string, available: readonly StageId[] = AVAILABLE_STAGES, placement: CastPlacementSpec | null = null): RunSpec {
  return {
    format: RUN_SPEC_FORMAT,
    runId,
    name: plan.run.name,
    seed: plan.run.seed,
    source: plan.source,
    digest: configDigest(plan),
    outDir: plan.run.outDir,
    model: plan.model,
    lanes: plan.data.lanes,
    curriculum: plan.curriculum,
    checkpointEvery: plan.limits.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY,
    available: [...available],
    oracle: plan.oracle ?? DEFAULT_ORACLE_SPEC,
    thunder: plan.thunder ?? null,
    placement,
  };
}

export function oracleOf(spec: RunSpec): OracleSpec {
  return spec.oracle ?? DEFAULT_ORACLE_SPEC;
}

/** Checks a spec read back from KV (another version of troupe may have written it). */
export function checkRunSpec(value: unknown, runId: string): RunSpec {
  const s = value as RunSpec | null;
  if (!s || typeof s !== "object" || s.format !== RUN_SPEC_FORMAT) {
    const got = s && typeof s === "object" ? String((s as { format?: unknown }).format) : typeof s;
    throw new CastSpecError(`run ${runId}: the stored run spec has format ${got}, this troupe reads ${RUN_SPEC_FORMAT}; start a new run`);
  }
  if (s.runId !== runId) throw new CastSpecError(`run ${runId}: the stored run spec belongs to run ${s.runId}`);
  return s;
}

/** The lane a stage (or the base) names, or a CastSpecError saying which key is missing. */
export function laneOf(spec: RunSpec, name: string | null, what: string): { name: string; lane: LaneSpec } {
  if (name === null) throw new CastSpecError(`${what} names no data lane (set lane / eval_lane in the scenario)`);
  const lane = spec.lanes[name];
  if (!lane) throw new CastSpecError(`${what} names data lane "${name}", which the scenario does not define`);
  return { name, lane };
}
