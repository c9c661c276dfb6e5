// The curriculum's fixed vocabulary (DESIGN.md, "The curriculum"): the seven stages, the
// modules each may train, the loss terms each switches on, and the gate metrics the evaluator
// reports. Scenario files and the director both validate against these tables, so a typo in
// a scenario is caught before a run starts.

export const STAGE_IDS = [0, 1, 2, 3, 4, 5, 6] as const;
export type StageId = (typeof STAGE_IDS)[number];

export function isStageId(n: unknown): n is StageId {
  return typeof n === "number" && (STAGE_IDS as readonly number[]).includes(n);
}

/** The loss terms of `L = L_sft + λ_route L_route + λ_vit L_vit + λ_depth L_depth + λ_sem L_sem + λ_transfer L_transfer`. */
export const LOSS_TERMS = ["sft", "route", "vit", "depth", "sem", "transfer"] as const;
export type LossTerm = (typeof LOSS_TERMS)[number];
/** A loss name: a term of L, or `total` (the composite L). */
export type LossName = LossTerm | "total";

/** The stage that switches each loss term on; a term may be on in that stage or a later one. */
export const LOSS_HOME_STAGE: Readonly<Record<LossTerm, StageId>> = {
  sft: 1,
  route: 2,
  vit: 2,
  depth: 3,
  sem: 4,
  transfer: 5,
};

/** Trainable modules. `all` (stage 6) means every adapter and head trained so far. */
export const MODULES = [
  "lora",
  "route_head",
  "vitality_head",
  "depth_residual",
  "semantic_head",
  "transfer_encoder",
  "transfer_decoder",
  "all",
] as const;
export type ModuleName = (typeof MODULES)[number];

/** The stage in which each module is first trained. */
export const MODULE_HOME_STAGE: Readonly<Record<ModuleName, StageId>> = {
  lora: 1,
  route_head: 2,
  vitality_head: 2,
  depth_residual: 3,
  semantic_head: 4,
  transfer_encoder: 5,
  transfer_decoder: 5,
  all: 6,
};

export const DIRECTIONS = ["higher", "lower"] as const;
/** Whether a larger metric value is better (`higher`) or a smaller one (`lower`). */
export type Direction = (typeof DIRECTIONS)[number];

export interface MetricInfo {
  readonly direction: Direction;
  readonly stages: readonly StageId[];
  /** What the metric is, exactly as the evaluation computes it (docs/curriculum.md repeats this table). */
  readonly meaning: string;
  /**
   * "best_reference": the metric is a gain over the better of the named baseline and the
   * trivial ones (majority class, constant answer) on the same held-out items. The evaluation
   * must bring that comparison as evidence (data/evidence), or the gate fails.
   */
  readonly against?: "best_reference";
}

/**
 * Gate metrics the evaluator reports, by name. The evaluator engineer owns their computation;
 * this table is the contract (name, direction, meaning). Add a metric here before using it.
 */
export const METRICS: Readonly<Record<string, MetricInfo>> = {
  base_em_gain: {
    direction: "higher",
    stages: [0],
    meaning:
      "held-out exact match of the base on the domains it was pretrained on, minus the best trivial baseline " +
      "(constant answer, majority per domain) on the same items; the gate also requires a complete baseline record " +
      "and a split layer found",
    against: "best_reference",
  },
  heldout_gain: {
    direction: "higher",
    stages: [1, 6],
    meaning: "relative drop of held-out NLL, adapted vs base: (nll_base - nll_adapted) / nll_base",
  },
  em_gain: {
    direction: "higher",
    stages: [1, 6],
    meaning:
      "held-out exact-match accuracy of the adapted model minus the better of the base's and the best trivial " +
      "baseline's (constant answer, majority class), on the stage's eval lane",
    against: "best_reference",
  },
  route_gain: {
    direction: "higher",
    stages: [2],
    meaning:
      "route-head accuracy on the oracle's labels of held-out response tokens (pooled over the head layers) minus the " +
      "better of entropy-only routing fitted on the same training labels and the training majority route; the gate also " +
      "requires the head's macro-F1 to beat both",
    against: "best_reference",
  },
  depth_kl: {
    direction: "lower",
    stages: [3],
    meaning:
      "mean over held-out response tokens of KL(full depth || routed logits) on the router's chosen path (0 where a token " +
      "runs the full depth; exits decoded by the depth residual), nats/token; the gate also requires it below the same exits " +
      "decoded by the logit lens and by the constant distribution, and some token to leave early",
  },
  sem_gain: {
    direction: "higher",
    stages: [4],
    meaning:
      "the larger 95% lower bound (paired bootstrap over held-out tokens) of the route-accuracy gain and the dead-state " +
      "AUROC gain of heads given the semantic activations over the same heads without them; 0 if unstable (loss diverged " +
      "or the projection collapsed). The gate also requires the route-accuracy gain over heads given a constant vector of " +
      "the same width, paired per token, to have a 95% lower bound above 0; stable without that ends the stage passed_off_path",
  },
  transfer_kl: {
    direction: "lower",
    stages: [5],
    meaning:
      "the learned codec's worst mean KL(no transfer || resumed logits) over the split layers, same host, through the " +
      "transfer encoder and decoder actors, nats/token (on hosts, with the decoder on another host, the same packets also " +
      "cross hosts over a link and must give the same fidelity bit for bit); the gate also requires it below the cheapest " +
      "fixed codec at least as large and a constant state",
  },
  quality_per_compute_gain: {
    direction: "higher",
    stages: [6],
    meaning:
      "relative gain of held-out quality per compute (per prompt: routed exact match / blocks per token, averaged) after " +
      "the joint finetune over before it; the gate also requires it to beat the best fixed exit policy and exact match to " +
      "stay within 0.02 of full depth",
  },
  easy_latency_gain: {
    direction: "higher",
    stages: [6],
    meaning: "relative gain in routed tokens/s on the held-out prompts after the joint finetune over before it",
  },
};

export interface StageInfo {
  readonly id: StageId;
  readonly name: string;
  readonly trains: readonly ModuleName[];
  readonly passesWhen: string;
  /** A stage whose gate, when stable but not improving, ends it `passed_off_path` (stage 4). */
  readonly offPath?: boolean;
}

/** The DESIGN.md table, one row per stage. `trains` is the default when a scenario omits it. */
export const STAGES: readonly StageInfo[] = [
  { id: 0, name: "baseline", trains: [], passesWhen: "the base beats the trivial answer on its own domains, a split layer is found, and the record is complete" },
  { id: 1, name: "domain adapter", trains: ["lora"], passesWhen: "adapted model beats the base and the trivial answer on the held-out prompt pack" },
  { id: 2, name: "route + vitality heads", trains: ["route_head", "vitality_head"], passesWhen: "route head beats entropy-only routing and the majority route on held-out prompts" },
  { id: 3, name: "depth-routing residual", trains: ["depth_residual"], passesWhen: "routed logits on the router's path are within a KL bound of full depth and below logit-lens exit" },
  { id: 4, name: "semantic projection", trains: ["semantic_head"], passesWhen: "stable, and improves route quality or dead-state detection beyond noise; stable without it: passed off path", offPath: true },
  { id: 5, name: "transfer adapter", trains: ["transfer_encoder", "transfer_decoder"], passesWhen: "resumed continuation stays within a KL bound of no-transfer at every split, same host (across hosts: a later issue)" },
  { id: 6, name: "joint finetune", trains: ["all"], passesWhen: "improves quality per compute or easy-prompt latency; otherwise roll back" },
];

export function stageInfo(id: StageId): StageInfo {
  return STAGES[id]!;
}

/** "stage 1 (domain adapter)" — how messages name a stage. */
export function stageLabel(id: StageId): string {
  return `stage ${id} (${stageInfo(id).name})`;
}
