// Op cases of the Llama-family kernels (rotary embeddings, SwiGLU, grouped-query attention)
// for the shared reference-vs-optimized and finite-difference tests (cases.ts): odd head
// sizes (2, 6, 34: half heads that are not a multiple of any vector width), kv heads equal to
// and fewer than the query heads, threaded sizes.
import { K, leaf } from "./helpers.js";
import type { OpCase } from "./cases.js";
import type { Tensor } from "../../kernels/mod.js";

const r = (rng: K.Rng, shape: number[], s = 1) => leaf(K.randn(shape, rng, s));

/** Positions for N rows: 0..T-1 per batch row, or random ones below P. */
function positions(rng: K.Rng, B: number, T: number, P: number, random: boolean): Tensor {
  const p = new Int32Array(B * T);
  for (let i = 0; i < p.length; i++) p[i] = random ? rng.int(P) : i % T;
  return K.fromArray(p, [B, T]);
}

function ropeCase(B: number, T: number, H: number, hs: number, theta: number, random: boolean): OpCase {
  return {
    name: `rope B=${B} T=${T} H=${H} hs=${hs} theta=${theta}${random ? " random positions" : ""}`,
    make: (rng) => {
      const table = new K.RotaryTable(hs, theta, null, 128).tables(128);
      return [r(rng, [B, T, H * hs]), positions(rng, B, T, 128, random), table.cos, table.sin];
    },
    run: (x, pos, cos, sin) => K.rope(x!, pos!, cos!, sin!, H),
  };
}

function gqaCase(B: number, T: number, H: number, KV: number, hs: number): OpCase {
  return {
    name: `groupedQueryAttention B=${B} T=${T} H=${H} KV=${KV} hs=${hs}`,
    make: (rng) => [r(rng, [B, T, H * hs]), r(rng, [B, T, KV * hs]), r(rng, [B, T, KV * hs])],
    run: (q, k, v) => K.groupedQueryAttention(q!, k!, v!, H, KV),
  };
}

export const decoderCases: OpCase[] = [
  ropeCase(1, 1, 1, 2, 10000, false),
  ropeCase(2, 5, 3, 8, 10000, false),
  ropeCase(1, 7, 2, 34, 500000, true),
  ropeCase(3, 33, 4, 6, 10, true),
  ropeCase(2, 97, 4, 32, 10000, false),
  { name: "swiglu [3,17]", make: (rng) => [r(rng, [3, 17], 3), r(rng, [3, 17])], run: (g, u) => K.swiglu(g!, u!) },
  { name: "swiglu [1]", make: (rng) => [r(rng, [1], 3), r(rng, [1])], run: (g, u) => K.swiglu(g!, u!) },
  { name: "swiglu threaded 70001", make: (rng) => [r(rng, [70001], 3), r(rng, [70001])], run: (g, u) => K.swiglu(g!, u!) },
  { name: "swiglu of intermediates", make: (rng) => [r(rng, [5, 9])], run: (x) => K.swiglu(K.tanh(x!), K.mul(x!, x!)) },
  gqaCase(1, 1, 1, 1, 2),
  gqaCase(2, 3, 4, 2, 3),
  gqaCase(1, 17, 6, 2, 8),
  gqaCase(2, 19, 4, 1, 32),
  gqaCase(1, 97, 8, 4, 16),
  gqaCase(2, 33, 2, 2, 64),
  gqaCase(1, 5, 3, 3, 17),
];
