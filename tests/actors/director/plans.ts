// Hand-built curriculum plans for the director tests (the scenario loader is tested apart).
import type { CurriculumPlan, StageId, StagePlan } from "../../../actors/director/mod.js";

export function stage(id: StageId, over: Partial<StagePlan> = {}): StagePlan {
  const base: StagePlan = {
    stage: id,
    trains: [],
    layers: [],
    steps: 100,
    lr: id === 0 ? null : 1e-3,
    batch: 8,
    lane: null,
    evalLane: null,
    losses: {},
    gate: { metric: "base_em_gain", direction: "higher", threshold: 1 },
    retry: { max: 0, backoffMs: 0, change: { lrMult: 1, stepsMult: 1, reseed: false } },
    timeoutMs: null,
    codecs: [],
    bitratePenalty: null,
  };
  const byStage: Partial<Record<StageId, Partial<StagePlan>>> = {
    1: { trains: ["lora"], gate: { metric: "heldout_gain", direction: "higher", threshold: 0.02 }, losses: { sft: { weight: 1, ramp: { kind: "none", steps: 0 } } } },
    2: { trains: ["route_head", "vitality_head"], gate: { metric: "route_gain", direction: "higher", threshold: 0 }, losses: { route: { weight: 1, ramp: { kind: "linear", steps: 50 } }, vit: { weight: 0.5, ramp: { kind: "cosine", steps: 50 } } } },
    3: { trains: ["depth_residual"], gate: { metric: "depth_kl", direction: "lower", threshold: 0.05 }, losses: { depth: { weight: 1, ramp: { kind: "linear", steps: 20 } } } },
    4: { trains: ["semantic_head"], gate: { metric: "sem_gain", direction: "higher", threshold: 0 }, losses: { sem: { weight: 0.3, ramp: { kind: "linear", steps: 20 } } } },
    5: { trains: ["transfer_encoder", "transfer_decoder"], gate: { metric: "transfer_kl", direction: "lower", threshold: 0.05 }, losses: { transfer: { weight: 1, ramp: { kind: "linear", steps: 20 } } } },
    6: { trains: ["all"], gate: { metric: "quality_per_compute_gain", direction: "higher", threshold: 0 }, losses: { sft: { weight: 1, ramp: { kind: "none", steps: 0 } }, route: { weight: 1, ramp: { kind: "none", steps: 0 } } } },
  };
  return { ...base, ...byStage[id], ...over };
}

export function plan(stages: StagePlan[], over: Partial<CurriculumPlan> = {}): CurriculumPlan {
  return { stages, seed: 7, runTimeoutMs: null, ...over };
}

export const ALL_STAGES: StageId[] = [0, 1, 2, 3, 4, 5, 6];
export const fullPlan = (): CurriculumPlan => plan(ALL_STAGES.map((s) => stage(s)));
