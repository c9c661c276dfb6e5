// Shared helpers of the models tests: tiny models, temp directories, bitwise comparisons.
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as K from "../../kernels/mod.js";
import * as M from "../../models/mod.js";

export { K, M };

/** <repo> (tests compile to <repo>/dist/tests/models). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

export const TINY: K.GPTConfig = { vocabSize: 32, blockSize: 8, nEmbd: 16, nHead: 2, nLayer: 2 };

export function tinyGpt(seed = 0, extra: Partial<K.GPTConfig> = {}): K.GPT {
  return M.createGpt({ ...TINY, ...extra }, seed);
}

export function batch(B: number, T: number, V: number, seed: number): { idx: K.Tensor; targets: K.Tensor } {
  const rng = K.createRng(seed);
  return { idx: K.randint([B, T], V, rng), targets: K.randint([B, T], V, rng) };
}

/** A temp directory removed by the returned disposer. */
export function tempDir(prefix = "troupe-models-"): { path: string; [Symbol.dispose](): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, [Symbol.dispose]: () => rmSync(path, { recursive: true, force: true }) };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

export function bitwiseEqual(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** Random values into every adapter tensor (so B is no longer zero). */
export function perturbAdapter(model: M.CausalLM, seed: number, std = 0.2): void {
  const rng = K.createRng(seed);
  for (const [, t] of M.adapterParameters(model)) {
    const d = t.f32();
    for (let i = 0; i < d.length; i++) d[i]! += rng.normal(0, std);
  }
}

/** A byte-level text with enough structure to learn quickly. */
export function toyText(chars = 20_000): string {
  const words = ["the ", "cat ", "sat ", "on ", "a ", "mat ", "and ", "dog ", "ran ", "far ", "\n"];
  const rng = K.createRng(7);
  let s = "";
  while (s.length < chars) s += words[rng.int(words.length)]!;
  return s;
}

/** <repo>/tests/models/fixtures/hf (made by scripts/dev/make_hf_fixtures.sh). */
export const hfFixtures = join(repoRoot, "tests", "models", "fixtures", "hf");

/** A small Llama (grouped-query attention) with random weights. */
export function tinyLlama(seed = 0, extra: Partial<K.LlamaConfig> = {}): M.CausalLM {
  return M.createModel("llama", { vocabSize: 40, hiddenSize: 24, intermediateSize: 40, numHeads: 4, numKvHeads: 2, numLayers: 2, maxPositions: 16, ...extra }, seed);
}

/** A copy of a fixture directory in a temp directory (to damage it). */
export function copyDir(from: string, to: string): string {
  cpSync(from, to, { recursive: true });
  return to;
}
