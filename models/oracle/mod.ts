// The oracle's labelling as pure functions: statistics of decoded layers, agreement, the
// earliest acceptable layer (rule "stable" or "first"), route classes and vitality regimes
// with confidences; and labelBatch, which runs a model on a batch and labels its positions.
export { type DecodedStats, type LensStats, argmaxRows, decodedStats, gatherRows, lensStats, rowNorms } from "./stats.js";
export {
  ACCEPT_RULES, type AcceptRule, type CandidateView, DEFAULT_ORACLE, type Earliest, type HeadLabels, type OracleConfig, ROUTE_CLASSES, Route, type RouteClass,
  type TokenLabels, VITALITY_CLASSES, Vitality, type VitalityClass, agreement, classCounts, earliestAcceptable, labelTokens, median, resolveOracleConfig,
} from "./labels.js";
export { type ObserveOptions, type Observation, concatObservations, labelObservation, maskPositions, observeBatch, referenceNorms } from "./observe.js";
