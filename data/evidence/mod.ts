// Evidence for gates: trivial baselines, confidence intervals, and a score measured against
// the best of its references on the same held-out items (accuracies, or means of continuous
// values such as KL in either direction; a bootstrap of any statistic).
export { type AnsweredItem, TRIVIAL_BASELINES, type TrivialBaseline, type TrivialBaselineName, trivialBaselines } from "./trivial.js";
export { type BootstrapOptions, type Interval, pairedBootstrap, wilson, zFor } from "./intervals.js";
export {
  type CompareOptions,
  type Evidence,
  type MeasuredAccuracy,
  type MeasuredReference,
  REFERENCE_KINDS,
  type Reference,
  type ReferenceKind,
  compareAgainstReferences,
  formatAccuracy,
} from "./compare.js";
export { type MeanComparisonOptions, type StatOptions, type ValuedReference, bootstrapStat, compareMeans } from "./means.js";
