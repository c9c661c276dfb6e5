// The depth-routing residual: at an exit index h, a learned mixture of the earlier residual
// states replaces the state the exit decodes,
//   z = h_h + Σ_{j<h} g_j ⊙ h_j + up(down(h_h))
// with per-channel gains g_j (zero at first) and a low-rank correction (up = 0 at first), so
// an untrained residual is exactly the logit lens. Trained by KL(full-depth teacher ‖ lens(z))
// plus, optionally, w_hidden · (1 − cos(z, h_L)): the state should also point where the final
// one does. A trained residual is a tuned lens: the oracle can decode with it.
// Legend: N positions, C channels, r rank, V vocab.
import { type Rng, type Tensor, Linear, Module, add, addScalar, cosineSimilarity, klDivergence, mean, mul, neg, normal_, scale, zeros } from "../../kernels/mod.js";
import { ModelConfigError } from "../errors.js";
import type { LayeredModel } from "../layered.js";

export interface DepthSpec {
  readonly kind: "depth";
  /** exit index h (≥ 1): the residual mixes h_0..h_h */
  readonly layer: number;
  readonly channels: number;
  readonly rank: number;
}

export class DepthResidual extends Module {
  readonly spec: DepthSpec;
  private readonly gains: Tensor[] = [];
  constructor(spec: DepthSpec, rng: Rng) {
    super();
    if (!Number.isInteger(spec.layer) || spec.layer < 1) throw new ModelConfigError("heads.depth.layer", `expected an exit index >= 1 (there is nothing to mix before index 1), got ${spec.layer}`);
    if (!Number.isInteger(spec.rank) || spec.rank < 1) throw new ModelConfigError("heads.depth.rank", `expected a positive integer, got ${spec.rank}`);
    this.spec = { ...spec };
    for (let j = 0; j < spec.layer; j++) this.gains.push(this.addParameter(`gain_${j}`, zeros([spec.channels])));
    const down = this.addModule("down", new Linear(spec.channels, spec.rank, rng, { bias: false }));
    normal_(down.weight, rng, 0.02);
    const up = this.addModule("up", new Linear(spec.rank, spec.channels, rng, { bias: false }));
    up.weight.f32().fill(0);
  }

  /** states[j] = h_j for j = 0..h, each [..., C] → z [..., C]. */
  forward(states: readonly Tensor[]): Tensor {
    const h = this.spec.layer;
    if (states.length !== h + 1) throw new ModelConfigError("heads.depth.states", `the residual at index ${h} mixes ${h + 1} states (h_0..h_${h}), got ${states.length}`);
    let z = states[h]!;
    for (let j = 0; j < h; j++) z = add(z, mul(states[j]!, this.gains[j]!));
    return add(z, this.child<Linear>("up").forward(this.child<Linear>("down").forward(states[h]!)));
  }
}

export interface DepthLossOptions {
  /** weight of 1 − cos(z, h_L) (default 0: off) */
  readonly hiddenWeight?: number;
  /** h_L, needed when hiddenWeight > 0 */
  readonly finalHidden?: Tensor;
}

/** KL(teacher ‖ lens(z)) (+ w · mean(1 − cos(z, h_L))); teacher logits [..., V]. */
export function depthLoss(model: LayeredModel, z: Tensor, teacher: Tensor, o: DepthLossOptions = {}): { loss: Tensor; kl: Tensor } {
  const kl = klDivergence(model.logitLens(z), teacher);
  const w = o.hiddenWeight ?? 0;
  if (w <= 0) return { loss: kl, kl };
  if (!o.finalHidden) throw new ModelConfigError("heads.depth.hiddenWeight", "a hidden-similarity weight needs the final state h_L");
  const miss = mean(addScalar(neg(cosineSimilarity(z, o.finalHidden)), 1));
  return { loss: add(kl, scale(miss, w)), kl };
}
