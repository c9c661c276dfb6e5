// The route, vitality and semantic heads: a two-layer MLP on the head input (features.ts),
// fc Linear(F, H) → GELU → out Linear(H, K). Each head records what it is (kind, the layer it
// reads, its classes or labels) in a spec, so a saved head rebuilds itself (registry.ts).
// Legend: N positions, F input features, H hidden units, K outputs.
import { type Rng, type Tensor, Linear, Module, gelu } from "../../kernels/mod.js";
import { ModelConfigError } from "../errors.js";

export const CLASSIFIER_KINDS = ["route", "vitality", "semantic"] as const;
export type ClassifierKind = (typeof CLASSIFIER_KINDS)[number];

export interface ClassifierSpec {
  readonly kind: ClassifierKind;
  /** residual-stream index the head reads */
  readonly layer: number;
  /** input width F (C + statistics + extras) */
  readonly inFeatures: number;
  readonly hidden: number;
  /** class names (route, vitality) or label names (semantic) */
  readonly outputs: readonly string[];
  /** extra input features after the statistics (stage 4: semantic activations), 0 if none */
  readonly extra: number;
  /** the layer's reference state norm (training data median) for the log-norm feature */
  readonly normRef: number;
}

export class ClassifierHead extends Module {
  readonly spec: ClassifierSpec;
  constructor(spec: ClassifierSpec, rng: Rng) {
    super();
    for (const k of ["layer", "inFeatures", "hidden", "extra"] as const) {
      const v = spec[k];
      if (!Number.isInteger(v) || v < (k === "layer" || k === "extra" ? 0 : 1)) throw new ModelConfigError(`heads.${spec.kind}.${k}`, `expected an integer ${k === "layer" || k === "extra" ? ">= 0" : ">= 1"}, got ${JSON.stringify(v)}`);
    }
    if (!(spec.normRef > 0) || !Number.isFinite(spec.normRef)) throw new ModelConfigError(`heads.${spec.kind}.normRef`, `expected a positive number, got ${JSON.stringify(spec.normRef)}`);
    if (spec.outputs.length < 1) throw new ModelConfigError(`heads.${spec.kind}.outputs`, "expected at least one output");
    this.spec = { ...spec, outputs: [...spec.outputs] };
    this.addModule("fc", new Linear(spec.inFeatures, spec.hidden, rng));
    this.addModule("out", new Linear(spec.hidden, spec.outputs.length, rng));
  }

  /** x [N, F] → logits [N, K] */
  forward(x: Tensor): Tensor {
    return this.child<Linear>("out").forward(gelu(this.child<Linear>("fc").forward(x)));
  }
}
