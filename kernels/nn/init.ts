// Parameter initialisation with a seeded generator (reproducible runs).
import type { Rng } from "../tensor/rng.js";
import type { Tensor } from "../tensor/tensor.js";

/** Fills t with N(0, std²) samples. */
export function normal_(t: Tensor, rng: Rng, std: number): Tensor {
  const d = t.data as Float32Array;
  for (let i = 0; i < d.length; i++) d[i] = rng.normal(0, std);
  return t;
}

/** Fills t with U(-bound, bound) samples. */
export function uniform_(t: Tensor, rng: Rng, bound: number): Tensor {
  const d = t.data as Float32Array;
  for (let i = 0; i < d.length; i++) d[i] = rng.uniform(-bound, bound);
  return t;
}

export function fill_(t: Tensor, value: number): Tensor {
  (t.data as Float32Array).fill(value);
  return t;
}
