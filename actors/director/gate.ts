// A stage's gate: compare the metric the evaluator reported with the threshold, in the
// metric's direction. Pure; the chart's `gatePassed` guard and the run record both use it.
//
// Beyond the number, a gate can fail on what stands behind it:
// - a metric that is a gain over the best reference (METRICS[…].against, e.g. em_gain) must
//   come with evidence (data/evidence) that compares the score with at least one trivial
//   baseline (constant answer, majority class) on the same held-out items, and the metric must
//   be that evidence's gain — so no stage can report a gain over the base alone;
// - every required check the evaluation reports (e.g. "a split layer found") must hold.
import type { Evidence } from "../../data/mod.js";
import type { GatePlan } from "./plan.js";

export type { Evidence };
import { METRICS } from "./stages.js";

/** A condition the gate requires besides its metric. */
export interface GateCheck {
  readonly name: string;
  readonly ok: boolean;
  /** What was measured, for the report. */
  readonly detail?: string;
}

export interface GateVerdict {
  readonly passed: boolean;
  readonly metric: number;
  /** The threshold compared against: the plan's, else the evaluator's, else null. */
  readonly threshold: number | null;
  /** One line for the report: "heldout_gain 0.031 < min 0.99". */
  readonly reason: string;
}

export interface GateEvidence {
  /** The score against its references, when the metric is a gain. */
  readonly evidence?: Evidence | null;
  /** Conditions that must all hold for the gate to pass. */
  readonly checks?: readonly GateCheck[] | null;
  /** The metric's 95 % interval (needed by a gate planned `interval: true`). */
  readonly metricCi?: readonly [number, number] | null;
}

/** How far a reported gain may sit from the evidence's (float noise only). */
const GAIN_TOLERANCE = 1e-9;

export function judgeGate(gate: GatePlan, metric: number, measuredThreshold?: number | null, extra: GateEvidence = {}): GateVerdict {
  const threshold = gate.threshold ?? (isFiniteNumber(measuredThreshold) ? measuredThreshold : null);
  const bound = gate.direction === "higher" ? "min" : "max";
  const failed = (extra.checks ?? []).filter((c) => !c.ok);
  const failedText = failed.length > 0 ? `; failed: ${failed.map((c) => (c.detail ? `${c.name} (${c.detail})` : c.name)).join("; ")}` : "";
  const fail = (reason: string): GateVerdict => ({ passed: false, metric, threshold, reason: reason + failedText });
  if (!isFiniteNumber(metric)) return fail(`${gate.metric} is not a finite number (${String(metric)})`);

  const evidence = extra.evidence ?? null;
  if (METRICS[gate.metric]?.against === "best_reference") {
    if (!evidence || !evidence.references.some((r) => r.kind === "trivial")) {
      return fail(
        `${gate.metric} ${fmt(metric)} came without a comparison to a trivial baseline (constant answer, majority class) ` +
          `on the same held-out items, so it cannot tell the model from a constant answer`,
      );
    }
    if (!(Math.abs(metric - evidence.gain) <= GAIN_TOLERANCE)) {
      return fail(`${gate.metric} ${fmt(metric)} is not the gain over the best reference (${fmt(evidence.gain)} over ${evidence.against})`);
    }
  }
  if (threshold === null) {
    return fail(`${gate.metric} ${fmt(metric)}: no threshold (the scenario sets none and the evaluator measured none)`);
  }
  let judged = metric;
  let what = `${gate.metric} ${fmt(metric)}`;
  if (gate.interval) {
    const ci = extra.metricCi ?? null;
    if (!ci || !isFiniteNumber(ci[0]) || !isFiniteNumber(ci[1])) {
      return fail(`${gate.metric} ${fmt(metric)}: the gate is on the 95% interval, and the evaluation reported none`);
    }
    judged = gate.direction === "higher" ? ci[0] : ci[1];
    what = `${gate.metric} ${fmt(metric)} (95% CI [${fmt(ci[0])}, ${fmt(ci[1])}]: ${gate.direction === "higher" ? "lower" : "upper"} bound ${fmt(judged)})`;
  }
  const above = gate.direction === "higher" ? judged >= threshold : judged <= threshold;
  const op = above ? (gate.direction === "higher" ? ">=" : "<=") : gate.direction === "higher" ? "<" : ">";
  let reason = `${what} ${op} ${bound} ${fmt(threshold)}`;
  if (evidence) reason += ` (${describeEvidence(evidence)})`;
  return { passed: above && failed.length === 0, metric, threshold, reason: reason + failedText };
}

/** "adapted 0.42 vs best reference constant 0.02; gain 95% CI [0.28, 0.54]" */
export function describeEvidence(e: Evidence): string {
  const best = e.references.find((r) => r.name === e.against);
  const pct = Math.round(e.level * 100);
  return `${e.score.name} ${fmt2(e.score.value)} vs best reference ${e.against} ${fmt2(best?.value ?? Number.NaN)}; gain ${pct}% CI [${fmt2(e.gain_ci[0])}, ${fmt2(e.gain_ci[1])}]`;
}

function isFiniteNumber(x: unknown): x is number {
  return typeof x === "number" && Number.isFinite(x);
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : Number(x.toPrecision(4)).toString();
}

/** Two decimals; a small value (a KL of 4e-4) keeps three significant digits. */
function fmt2(x: number): string {
  return x !== 0 && Math.abs(x) < 0.01 && Number.isFinite(x) ? x.toPrecision(3) : x.toFixed(2);
}
