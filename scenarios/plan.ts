// What a validated scenario becomes: a RunPlan. Plain JSON, camelCase, every default
// filled in and every path resolved, so the runtime never looks at YAML again. The
// curriculum part is the director's own CurriculumPlan type.
import type { CurriculumPlan } from "../actors/director/mod.js";
import type { BACKENDS, DIFFICULTIES, HOST_LOSS_POLICIES, LORA_TARGETS, PLACEMENT_STRATEGIES, Role, SPLITS } from "./sections.js";

export type Backend = (typeof BACKENDS)[number];
export type LoraTarget = (typeof LORA_TARGETS)[number];
export type Difficulty = (typeof DIFFICULTIES)[number];
export type Split = (typeof SPLITS)[number];
export type HostLossPolicy = (typeof HOST_LOSS_POLICIES)[number];
export type PlacementStrategy = (typeof PLACEMENT_STRATEGIES)[number];

export interface RunInfo {
  readonly name: string;
  readonly seed: number;
  /** Absolute directory for run outputs (reports, checkpoints). */
  readonly outDir: string;
  readonly description: string | null;
}

export interface HostPlan {
  readonly name: string;
  readonly address: string | null;
  readonly backends: readonly Backend[];
  readonly cores: number | null;
  readonly memoryGb: number | null;
}

/** A role's accelerator pool (teacher and evaluator only; docs/pools.md). */
export interface PoolPlan {
  /** Listed worker addresses (HOST:PORT), or null when `spawn` local workers are started. */
  readonly workers: readonly string[] | null;
  readonly spawn: number | null;
  /** Compiled static shapes, smallest first. */
  readonly buckets: readonly { readonly batch: number; readonly seqLen: number }[];
  /** Cores of each local worker. */
  readonly cores: number;
  /** Emulated compile time of each local worker at every model load. */
  readonly compileMs: number;
  readonly deadlineMs: number;
  readonly policy: "bucketed" | "naive";
}

/** Where and how many of one role; `on` empty = any host. */
export interface RolePlan {
  readonly count: number;
  readonly on: readonly string[];
  /** tags a host must carry (all of them); empty = any */
  readonly tags: readonly string[];
  /** cores each actor asks for; null = the role's default */
  readonly cores: number | null;
  /** what happens to the role's actors when their host is lost; null = placement.onHostLoss */
  readonly onHostLoss: HostLossPolicy | null;
  readonly backend: Backend | null;
  /** The role's forward passes run on this pool; absent = on its own kernels. */
  readonly pool?: PoolPlan;
}
export type CastPlan = Readonly<Record<Role, RolePlan>>;

export interface LoraPlan {
  readonly r: number;
  readonly alpha: number;
  readonly dropout: number;
  readonly targets: readonly LoraTarget[];
  readonly dora: boolean;
  /** Blocks with adapters; null = all. */
  readonly blocks: readonly number[] | null;
}

/** Pretraining the frozen base on a data lane (stage 0 prepares it; cached by config digest). */
export interface PretrainPlan {
  readonly lane: string;
  readonly steps: number;
  readonly lr: number;
  readonly batch: number;
  /** Warm-up steps of the cosine schedule. */
  readonly warmup: number;
  /** Seed of the initial weights and batch order; default the run's seed. */
  readonly seed: number;
}

export interface BasePlan {
  readonly pretrain: PretrainPlan;
}

export interface ModelPlan {
  /** The architecture (Hugging Face model_type): "gpt2" for the GPT keys, the directory's for hf. */
  readonly arch: string;
  /** The Hugging Face model directory the base starts from (absolute), or null for a fresh GPT. */
  readonly hf: string | null;
  readonly vocab: number;
  /** Context length in tokens. */
  readonly block: number;
  readonly nEmbd: number;
  readonly nHead: number;
  readonly nLayer: number;
  readonly dropout: number;
  /** How the base is made; null = the seeded random initialisation (nothing pretrained). */
  readonly base: BasePlan | null;
  readonly lora: LoraPlan | null;
}

/**
 * A data lane. Loosely typed on purpose: the data layer owns what a prompt pack's domains
 * are; the scenario only checks the shape. `options` is passed through untouched.
 */
export type LanePlan =
  | {
      readonly kind: "prompt_pack";
      readonly seed: number;
      readonly domains: readonly string[] | null;
      readonly difficulty: readonly Difficulty[] | null;
      readonly count: number | null;
      readonly split: Split;
      /** Characters of the expected answer a prompt must have; null = any. */
      readonly responseLength: { readonly min: number; readonly max: number | null } | null;
      readonly options: unknown;
    }
  | { readonly kind: "jsonl"; readonly path: string; readonly split: Split; readonly options: unknown }
  /** Other lanes' items interleaved, one from each in turn while they last. */
  | { readonly kind: "mix"; readonly lanes: readonly string[]; readonly options: unknown }
  | { readonly kind: "text"; readonly path: string; readonly options: unknown };

export interface DataPlan {
  readonly lanes: Readonly<Record<string, LanePlan>>;
  readonly options: unknown;
}

export interface LimitsPlan {
  readonly runTimeoutMs: number | null;
  readonly attemptTimeoutMs: number | null;
  /** Per-actor memory hint. */
  readonly memoryMb: number | null;
  /** Trainer checkpoint interval in steps. */
  readonly checkpointEvery: number | null;
}

/** The scenario's `oracle:` section, defaults filled in (actors/cast's OracleSpec). */
export interface OraclePlan {
  readonly klMax: number;
  readonly top1: boolean;
  readonly rule: "stable" | "first";
  readonly decode: "auto" | "lens" | "tuned";
}

/** Thunder-Train: which trainer jobs run data-parallel, on how many ranks, and how. */
export interface ThunderPlan {
  readonly ranks: number;
  /** Host of each rank (empty: all on this machine). */
  readonly on: readonly string[];
  readonly jobs: readonly ("base" | "adapter")[];
  readonly compression: "none" | "f16" | "bf16";
  readonly onPeerLoss: "stop" | "continue";
  readonly deadAfterMs: number;
  readonly bucketBytes: number;
}

/** How the director places the cast on declared hosts (applies only with `hosts:`). */
export interface PlacementPlan {
  readonly strategy: PlacementStrategy;
  /** how long the director waits for every declared host */
  readonly waitMs: number;
  /** a host silent this long is dead */
  readonly deadAfterMs: number;
  readonly onHostLoss: HostLossPolicy;
}

export interface RunPlan {
  /** The scenario file it came from (absolute). */
  readonly source: string;
  readonly run: RunInfo;
  /** Declared hosts; a scenario without `hosts:` gets one host named "local" (this machine). */
  readonly hosts: readonly HostPlan[];
  readonly hostsDeclared: boolean;
  readonly placement: PlacementPlan;
  readonly cast: CastPlan;
  readonly model: ModelPlan;
  readonly data: DataPlan;
  readonly curriculum: CurriculumPlan;
  readonly oracle: OraclePlan;
  readonly limits: LimitsPlan;
  /** Data-parallel trainer jobs; null: one trainer. */
  readonly thunder: ThunderPlan | null;
}

export const LOCAL_HOST = "local";
