// Public surface of the scenarios layer: load a scenario file into a RunPlan.
export { loadScenario, parseScenario } from "./load.js";
export type { LoadOptions } from "./load.js";
export { LOCAL_HOST } from "./plan.js";
export type {
  RunPlan,
  RunInfo,
  HostPlan,
  CastPlan,
  RolePlan,
  PoolPlan,
  ModelPlan,
  BasePlan,
  PretrainPlan,
  LoraPlan,
  DataPlan,
  LanePlan,
  LimitsPlan,
  Backend,
  LoraTarget,
  Difficulty,
  Split,
  HostLossPolicy,
  PlacementPlan,
  PlacementStrategy,
} from "./plan.js";
export { ROLES, BACKENDS, LORA_TARGETS, DIFFICULTIES, PACK_DOMAINS, POOL_POLICIES, SPLITS, HOST_LOSS_POLICIES, PLACEMENT_STRATEGIES } from "./sections.js";
export type { Role } from "./sections.js";
export {
  ScenarioError,
  ScenarioReadError,
  ScenarioErrorCode,
  formatIssue,
  isScenarioError,
  isScenarioReadError,
} from "./errors.js";
export type { ScenarioIssue } from "./errors.js";
export { closest, didYouMean, editDistance } from "./suggest.js";
export { loadCompressConfig, parseCompressConfig, type CompressPlan, type CompressStepSection } from "./compress.js";
