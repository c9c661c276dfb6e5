// QLoRA's frozen base: every Linear of the base except the output head stored block-quantised
// (4-bit Q4_0 or int8, kernels' ops/quant.ts) and dequantised inside the GEMM, the LoRA adapters
// f32 on top. The head (the Linear made with { head: true }: lm_head; not told apart by its
// shape, which a k/v projection can share) stays f32 (bitsandbytes' QLoRA skips lm_head too);
// embeddings and norms
// are not Linear and stay f32. A quantised Linear's weight is no parameter: it has no gradient,
// checkpoints and adapter digests cover the remaining tensors, and fusing is refused.
import { Linear, type QuantBits, type Rng, quantizedBytes, withQuantizedLinears } from "../../kernels/mod.js";
import type { Architecture, CausalLM } from "../arch/mod.js";
import { ModelConfigError } from "../errors.js";

export interface QuantizedBase {
  readonly bits: QuantBits;
  /** Linear layers quantised. */
  readonly layers: number;
  /** Their weights' elements, and the bytes they take quantised (codes + scales). */
  readonly elements: number;
  readonly bytes: number;
}

export function checkBaseBits(bits: unknown, key = "baseBits"): QuantBits {
  if (bits !== 4 && bits !== 8) throw new ModelConfigError(key, `must be 4 or 8, got ${JSON.stringify(bits)}`);
  return bits;
}

/** Quantises a loaded base in place (before or after applyLora: wrapped bases are Linear too). */
export function quantizeBase(model: CausalLM, bits: QuantBits): QuantizedBase {
  checkBaseBits(bits);
  let layers = 0;
  let elements = 0;
  let bytes = 0;
  for (const [path, m] of model.namedModules()) {
    if (!(m instanceof Linear) || m.head) continue;
    if (m.quantized) throw new ModelConfigError("quantizeBase", `${path} is already quantised`);
    if (m.inFeatures % 32 !== 0) throw new ModelConfigError("quantizeBase", `${path} has ${m.inFeatures} in-features, not a multiple of the 32-element quantisation block`);
    m.quantize(bits);
    layers++;
    elements += m.inFeatures * m.outFeatures;
    bytes += quantizedBytes(m.quantized!);
  }
  return { bits, layers, elements, bytes };
}

/**
 * A fresh model whose Linear layers (but the head) are quantised as each is made: the f32 base
 * never exists whole. Each is initialised in one f32 scratch buffer that the next reuses
 * (withQuantizedLinears), so construction holds the quantised layers and one f32 weight, and
 * leaves no f32 garbage behind.
 */
export function createQuantized<C>(arch: Architecture<C>, config: C, bits: QuantBits, rng: Rng): CausalLM {
  checkBaseBits(bits);
  return withQuantizedLinears(bits, () => true, () => arch.create(config, rng));
}
