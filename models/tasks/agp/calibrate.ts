// The router's thresholds, calibrated on training prompts (never the held-out ones): at each
// head layer, the smallest P(accept_local) threshold at which the tokens it would let go are
// decoded wrongly (exit top-1 ≠ full-depth top-1, with the decoder routed inference uses
// there: the depth residual if trained, else the logit lens) at most `maxError` of the time.
// A layer where no threshold gets there never exits.
// Legend: n positions.
import { StageDataError } from "../../errors.js";
import type { ClassifierHead } from "../../heads/classifier.js";
import { type HeadSet, headAt, headsOf } from "../../heads/registry.js";
import type { LayeredModel } from "../../layered.js";
import { Route } from "../../oracle/labels.js";
import { type AgpItem, withFrozenSync } from "./common.js";
import { depthDecoder } from "./depth.js";
import { labelItems } from "./labelled.js";
import { classProbs } from "./route.js";
import type { RouterConfig } from "./routed.js";

export interface CalibrationPoint {
  readonly layer: number;
  readonly threshold: number | null;
  /** fraction of the calibration tokens that would exit here, and their error rate */
  readonly exitRate: number;
  readonly errorRate: number;
  readonly tokens: number;
}

export const THRESHOLD_GRID = [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99, 0.995, 0.999];

export function calibrateRouter(model: LayeredModel, heads: HeadSet, items: readonly AgpItem[], o: { maxError?: number; residual?: boolean; limit?: number } = {}): { router: RouterConfig; points: CalibrationPoint[] } {
  const maxError = o.maxError ?? 0.01;
  const residual = o.residual ?? true;
  const routes = headsOf<ClassifierHead>(heads, "route");
  if (routes.length === 0) throw new StageDataError("no route heads to calibrate");
  const layers = routes.map((h) => h.spec.layer);
  const use = items.slice(0, o.limit ?? 1500);
  return withFrozenSync(model, () => {
    const normRef = new Map(routes.map((h) => [h.spec.layer, h.spec.normRef]));
    const lens = labelItems(model, use, { candidates: layers, layers, normRef });
    const exitDecode = residual && layers.some((l) => headAt(heads, "depth", l))
      ? labelItems(model, use, { candidates: layers, layers, normRef, decode: depthDecoder(model, heads) })
      : lens;
    const thresholds: Record<string, number> = {};
    const points: CalibrationPoint[] = [];
    for (const head of routes) {
      const l = head.spec.layer;
      const p = classProbs(head, lens);
      const top = exitDecode.observation.stats.get(l)!.top1;
      const fin = exitDecode.observation.finalTop1;
      let chosen: CalibrationPoint = { layer: l, threshold: null, exitRate: 0, errorRate: 0, tokens: lens.n };
      for (const tau of THRESHOLD_GRID) {
        let go = 0;
        let wrong = 0;
        for (let r = 0; r < lens.n; r++) {
          if (p[r * 4 + Route.accept]! < tau) continue;
          go++;
          if (top[r] !== fin[r]) wrong++;
        }
        if (go > 0 && wrong / go <= maxError) {
          chosen = { layer: l, threshold: tau, exitRate: go / lens.n, errorRate: wrong / go, tokens: lens.n };
          break;
        }
      }
      if (chosen.threshold !== null) thresholds[String(l)] = chosen.threshold;
      points.push(chosen);
    }
    return { router: { thresholds, residual }, points };
  });
}
