// curriculum: → CurriculumPlan. The schema already checked types; this checks what only
// makes sense across keys — stage order, what each stage may train and switch on, gate
// direction — fills in defaults, and reports every problem at its line.
import {
  LOSS_HOME_STAGE,
  LOSS_TERMS,
  METRICS,
  MODULE_HOME_STAGE,
  isStageId,
  stageInfo,
  stageLabel,
  type CurriculumPlan,
  type Direction,
  type GatePlan,
  type LossSchedule,
  type LossTerm,
  type ModuleName,
  type Ramp,
  type RetryPlan,
  type StageId,
  type StagePlan,
} from "../actors/director/mod.js";
import type { Ctx } from "./schema.js";
import type { GateSection, RampSection, RetrySection, ScenarioFile, StageSection } from "./sections.js";
import { didYouMean } from "./suggest.js";

const STAGE_LAYERS: readonly StageId[] = [0, 2, 3, 4, 5];
/** Stage 0's default bar for a split candidate: 90 % of response tokens agree with the final layer. */
export const DEFAULT_SPLIT_AGREEMENT = 0.9;

function retryPlan(r: RetrySection | undefined): RetryPlan {
  return {
    max: r?.max ?? 0,
    backoffMs: Math.round((r?.backoff_s ?? 0) * 1000),
    change: {
      lrMult: r?.change?.lr_mult ?? 1,
      stepsMult: r?.change?.steps_mult ?? 1,
      reseed: r?.change?.reseed ?? false,
    },
  };
}

function gatePlan(g: GateSection, stage: StageId, at: (key: string, msg: string) => void): GatePlan {
  const info = METRICS[g.metric]!;
  if (!info.stages.includes(stage)) {
    const here = Object.keys(METRICS).filter((m) => METRICS[m]!.stages.includes(stage));
    at("metric", `${g.metric} is not reported for ${stageLabel(stage)}; use ${here.join(" or ")}`);
  }
  if (g.min !== undefined && g.max !== undefined) at("max", "set min or max, not both");
  const bound = g.min !== undefined ? "min" : g.max !== undefined ? "max" : null;
  const direction: Direction = bound === "min" ? "higher" : bound === "max" ? "lower" : (g.better ?? info.direction);
  if (bound !== null && direction !== info.direction) {
    const want = info.direction === "higher" ? "min" : "max";
    at(bound, `${g.metric} is ${info.direction}-is-better; use ${want}: instead of ${bound}:`);
  }
  if (g.better !== undefined && g.better !== info.direction) {
    at("better", `${g.metric} is ${info.direction}-is-better, not ${g.better}-is-better`);
  }
  if (g.interval && g.min === undefined && g.max === undefined) at("interval", "an interval gate needs min or max to compare the interval's far end with");
  return { metric: g.metric, direction: info.direction, threshold: g.min ?? g.max ?? null, ...(g.interval ? { interval: true } : {}) };
}

function defaultRamp(term: LossTerm, steps: number, dflt: RampSection | undefined): Ramp {
  if (term === "sft") return { kind: "none", steps: 0 };
  if (dflt) return { kind: dflt.kind, steps: dflt.steps };
  return { kind: "linear", steps: Math.max(1, Math.round(steps / 10)) };
}

/** Checks and converts `curriculum:`; `lanes` are the names under data.lanes. */
export function curriculumPlan(file: ScenarioFile, ctx: Ctx, lanes: readonly string[], nLayer = file.model.n_layer ?? Infinity): CurriculumPlan {
  const c = file.curriculum;
  const listed = new Set<number>(c.stages.map((s) => s.stage));
  const switchedOn = new Set<LossTerm>();
  const stages: StagePlan[] = [];
  let prev = -1;

  c.stages.forEach((s: StageSection, i) => {
    const base = ["curriculum", "stages", i];
    const at = (key: string, msg: string) => ctx.issueAt([...base, key], msg);
    if (!isStageId(s.stage)) {
      at("stage", `must be one of 0-6 (the curriculum's stages), got ${s.stage}`);
      return;
    }
    const id: StageId = s.stage;
    if (i === 0 && id !== 0) at("stage", "the curriculum must start with stage 0 (baseline): later stages need its split-layer map and baseline metrics");
    if (c.stages.slice(0, i).some((o) => o.stage === id)) at("stage", `stage ${id} is listed twice`);
    else if (id < prev) at("stage", `stage ${id} is listed after stage ${prev}; list stages in increasing order`);
    prev = Math.max(prev, id);
    const label = stageLabel(id);

    // What trains.
    const trains: ModuleName[] = s.trains ?? [...stageInfo(id).trains];
    if (id === 0) {
      if (trains.length > 0) at("trains", `${label} trains nothing; remove trains`);
      if (s.lr !== undefined) at("lr", `${label} trains nothing; remove lr`);
      if (s.losses !== undefined) at("losses", `${label} trains nothing; remove losses`);
    } else {
      if (s.lr === undefined) at("lr", `missing; ${label} trains ${trains.join(", ") || "modules"} and needs a learning rate`);
      if (trains.length === 0) at("trains", `${label} must train something`);
    }
    trains.forEach((m, k) => {
      const home = MODULE_HOME_STAGE[m];
      if (home > id) ctx.issueAt([...base, "trains", k], `${m} is first trained in ${stageLabel(home)}, so ${label} cannot train it`);
    });
    if (trains.includes("lora") && !file.model.lora) {
      ctx.issueAt(["model", "lora"], `missing; ${label} trains lora, so the model needs a lora: section`);
    }

    // Which layers.
    if (s.layers && !STAGE_LAYERS.includes(id)) at("layers", `${label} takes no layers (only stages 0, 2, 3, 4 and 5 do)`);
    (s.layers ?? []).forEach((l, k) => {
      if (l >= nLayer) {
        ctx.issueAt([...base, "layers", k], `layer ${l} does not exist: the model has n_layer ${nLayer} (layers 0-${nLayer - 1})`);
      }
    });

    // Lanes.
    for (const key of ["lane", "eval_lane"] as const) {
      const lane = s[key];
      if (lane !== undefined && !lanes.includes(lane)) {
        at(key, `no data lane named "${lane}"${didYouMean(lane, lanes)}; lanes: ${lanes.join(", ") || "(none; add data.lanes)"}`);
      }
    }

    // Loss terms: explicit, or the terms this stage switches on (stage 6: all switched on so far).
    const losses: LossSchedule = {};
    const given = s.losses ?? null;
    const terms = given
      ? LOSS_TERMS.filter((t) => given[t] !== undefined)
      : id === 0
        ? []
        : LOSS_TERMS.filter((t) => (id === 6 ? listed.has(LOSS_HOME_STAGE[t]) : LOSS_HOME_STAGE[t] === id));
    for (const t of terms) {
      const home = LOSS_HOME_STAGE[t];
      const where = [...base, "losses", t];
      if (home > id) {
        ctx.issueAt(where, `${t} is switched on by ${stageLabel(home)}; it cannot be on in ${label}`);
        continue;
      }
      if (!listed.has(home)) {
        ctx.issueAt(where, `${t} needs ${stageLabel(home)}, which switches it on, in the curriculum`);
        continue;
      }
      const spec = given?.[t];
      const first = !switchedOn.has(t);
      const ramp: Ramp = spec?.ramp
        ? { kind: spec.ramp.kind, steps: spec.ramp.steps }
        : first
          ? defaultRamp(t, s.steps, c.defaults?.ramp)
          : { kind: "none", steps: 0 };
      if (ramp.kind !== "none" && ramp.steps > s.steps) {
        ctx.issueAt([...where, "ramp", "steps"], `ramps over ${ramp.steps} steps but the stage trains ${s.steps}; λ would never reach its weight`);
      }
      losses[t] = { weight: spec?.weight ?? 1, ramp };
    }
    for (const t of terms) switchedOn.add(t);

    // Stage 0 only.
    if (id !== 0 && s.split_agreement !== undefined) at("split_agreement", `only stage 0 (baseline) records a split-layer map`);

    // Stage 5 only.
    if (id !== 5) {
      if (s.codecs) at("codecs", `only stage 5 (transfer adapter) measures codecs`);
      if (s.bitrate_penalty !== undefined) at("bitrate_penalty", `only stage 5 (transfer adapter) has a bitrate penalty`);
    }

    const timeout = s.timeout_s ?? file.limits?.attempt_timeout_s;
    stages.push({
      stage: id,
      trains,
      layers: s.layers ?? [],
      steps: s.steps,
      lr: id === 0 ? null : (s.lr ?? null),
      batch: s.batch ?? c.defaults?.batch ?? 8,
      lane: s.lane ?? null,
      evalLane: s.eval_lane ?? null,
      losses,
      gate: gatePlan(s.gate, id, (k, m) => ctx.issueAt([...base, "gate", k], m)),
      retry: retryPlan(s.retry ?? c.defaults?.retry),
      timeoutMs: timeout === undefined ? null : Math.round(timeout * 1000),
      codecs: s.codecs ?? [],
      bitratePenalty: s.bitrate_penalty ?? null,
      ...(id === 0 ? { splitAgreement: s.split_agreement ?? DEFAULT_SPLIT_AGREEMENT } : {}),
    });
  });

  const run = file.limits?.run_timeout_s;
  return { stages, seed: file.run.seed, runTimeoutMs: run === undefined ? null : Math.round(run * 1000) };
}
