// The λ schedule: which loss terms are on at a given stage and step, and how far each has
// ramped. Pure functions of (plan, stage, step); the trainer calls `lambdasFor` with the
// schedule it receives in its TrainInput, the director and the report call `lambdasAt`.
//
//   L = L_sft + λ_route L_route + λ_vit L_vit + λ_depth L_depth + λ_sem L_sem + λ_transfer L_transfer
//
// A term is off (λ = 0) in every stage that does not list it. A stage that lists it ramps it
// from 0 to its weight over `ramp.steps` steps (`none`: full weight from step 0). The loader
// gives a term a ramp in the stage that switches it on and none in later stages, so terms come
// on one stage at a time and never all at once.
import { LOSS_TERMS, type LossTerm, type StageId } from "./stages.js";
import { stagePlan, type CurriculumPlan, type LossSchedule, type Ramp } from "./plan.js";

export type Lambdas = Record<LossTerm, number>;

/** Fraction of full weight after `step` steps of a ramp (0 at step 0, 1 from `ramp.steps` on). */
export function rampFactor(ramp: Ramp, step: number): number {
  if (ramp.kind === "none" || ramp.steps <= 0) return 1;
  const t = Math.min(1, Math.max(0, step) / ramp.steps);
  switch (ramp.kind) {
    case "linear":
      return t;
    case "cosine":
      // Half a cosine: slow start, slow finish, same endpoints as linear.
      return 0.5 * (1 - Math.cos(Math.PI * t));
  }
}

export function zeroLambdas(): Lambdas {
  return Object.fromEntries(LOSS_TERMS.map((t) => [t, 0])) as Lambdas;
}

/** λ of every term after `step` steps of a stage whose losses are `schedule`. */
export function lambdasFor(schedule: LossSchedule, step: number): Lambdas {
  const out = zeroLambdas();
  for (const term of LOSS_TERMS) {
    const loss = schedule[term];
    if (loss) out[term] = loss.weight * rampFactor(loss.ramp, step);
  }
  return out;
}

/** λ of every term at `step` of `stage`; all zero for a stage the plan does not list. */
export function lambdasAt(plan: CurriculumPlan, stage: StageId, step: number): Lambdas {
  const s = stagePlan(plan, stage);
  return s ? lambdasFor(s.losses, step) : zeroLambdas();
}

/** The terms a stage switches on for the first time in the plan (those with a home here). */
export function termsSwitchedOn(plan: CurriculumPlan, stage: StageId): LossTerm[] {
  const before = new Set<LossTerm>();
  for (const s of plan.stages) {
    if (s.stage >= stage) break;
    for (const t of Object.keys(s.losses) as LossTerm[]) before.add(t);
  }
  const here = stagePlan(plan, stage);
  if (!here) return [];
  return LOSS_TERMS.filter((t) => here.losses[t] !== undefined && !before.has(t));
}
