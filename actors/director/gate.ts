// A stage's gate: compare the metric the evaluator reported with the threshold, in the
// metric's direction. Pure; the chart's `gatePassed` guard and the run record both use it.
import type { GatePlan } from "./plan.js";

export interface GateVerdict {
  readonly passed: boolean;
  readonly metric: number;
  /** The threshold compared against: the plan's, else the evaluator's, else null. */
  readonly threshold: number | null;
  /** One line for the report: "heldout_gain 0.031 < min 0.99". */
  readonly reason: string;
}

export function judgeGate(gate: GatePlan, metric: number, measuredThreshold?: number | null): GateVerdict {
  const threshold = gate.threshold ?? (isFiniteNumber(measuredThreshold) ? measuredThreshold : null);
  const bound = gate.direction === "higher" ? "min" : "max";
  if (!isFiniteNumber(metric)) {
    return { passed: false, metric, threshold, reason: `${gate.metric} is not a finite number (${String(metric)})` };
  }
  if (threshold === null) {
    return {
      passed: false,
      metric,
      threshold,
      reason: `${gate.metric} ${fmt(metric)}: no threshold (the scenario sets none and the evaluator measured none)`,
    };
  }
  const passed = gate.direction === "higher" ? metric >= threshold : metric <= threshold;
  const op = passed ? (gate.direction === "higher" ? ">=" : "<=") : gate.direction === "higher" ? "<" : ">";
  return { passed, metric, threshold, reason: `${gate.metric} ${fmt(metric)} ${op} ${bound} ${fmt(threshold)}` };
}

function isFiniteNumber(x: unknown): x is number {
  return typeof x === "number" && Number.isFinite(x);
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : Number(x.toPrecision(4)).toString();
}
