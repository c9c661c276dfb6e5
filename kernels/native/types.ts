// The raw binding of kernels/native (C++). Arity and types are re-checked natively; sizes are
// validated by the TypeScript ops before any of these is called. Outputs first, then inputs,
// then sizes; backward functions accumulate (+=) into their gradient outputs.
// Legend: N rows, C channels, OC out channels, V classes, B batch, T time, H heads,
// M,K matrix sizes, n element count, O,D,I outer/reduced/inner extents.

type F32 = Float32Array;
type I32 = Int32Array;
type U16 = Uint16Array;

export interface NativeInfo {
  readonly kernels: string;
  readonly mode: string;
  readonly blas: string | null;
  readonly blasAvailable: string | null;
  /** 0 off, 1 auto, 2 force (see KernelSettings.blas). */
  readonly blasSetting: number;
  /** The BLAS kernel family (OpenBLAS core name), "" when unknown. */
  readonly blasCore: string;
  readonly threads: number;
  readonly cpu: { readonly avx2: boolean; readonly avx512: boolean; readonly neon: boolean; readonly f16c: boolean };
}

export interface X86Flags {
  readonly avx2?: boolean;
  readonly fma?: boolean;
  readonly f16c?: boolean;
  readonly avx512f?: boolean;
  readonly avx512bw?: boolean;
  readonly avx512vl?: boolean;
  readonly avx512dq?: boolean;
}

export interface NativeKernels {
  readonly abiVersion: number;
  configure(mode: string, blas: number, threads: number): boolean;
  info(): NativeInfo;
  fmaPeak(seconds: number): number;
  /** Fills the pool's scratch memory with NaN (tests). */
  debugPoisonScratch(): void;
  /** Releases the scratch held now; scratch past this many bytes in total then fails as if the system refused it; 0 lifts it (tests). */
  debugScratchLimit(bytes: number): void;
  /** Which kernel sets these x86 flags allow (tests of the feature rules). */
  debugX86Features(flags: X86Flags): { avx2: boolean; avx512: boolean; f16c: boolean };
  /** The class thrown for allocation failures, constructed as new allocation(message, bytes). */
  setErrorClasses(classes: { allocation: new (message: string, bytes: number) => Error }): void;

  gemm(c: F32, a: F32, b: F32, batch: number, M: number, N: number, K: number, ta: boolean, tb: boolean, alpha: number, beta: number): void;
  linearForward(out: F32, inp: F32, weight: F32, bias: F32 | null, N: number, C: number, OC: number): void;
  /** dinp is accumulated into when accumulateDinp, else overwritten (a fresh gradient buffer). */
  linearBackward(dinp: F32 | null, dweight: F32 | null, dbias: F32 | null, dout: F32, inp: F32, weight: F32, N: number, C: number, OC: number, accumulateDinp: boolean): void;

  fill(out: F32, value: number, n: number): void;
  axpy(y: F32, alpha: number, x: F32, n: number): void;
  unaryForward(out: F32, inp: F32, n: number, op: number, alpha: number): void;
  unaryBackward(dinp: F32, dout: F32, inp: F32, out: F32, n: number, op: number, alpha: number): void;
  binaryForward(out: F32, a: F32, b: F32, n: number, op: number): void;
  binaryBackward(da: F32 | null, db: F32 | null, dout: F32, a: F32, b: F32, n: number, op: number): void;
  rowwiseForward(out: F32, a: F32, b: F32, N: number, C: number, op: number): void;
  rowwiseBackward(da: F32 | null, db: F32 | null, dout: F32, a: F32, b: F32, N: number, C: number, op: number): void;
  broadcastForward(out: F32, a: F32, b: F32, shape: number[], stridesA: number[], stridesB: number[], op: number): void;
  reduceInto(dst: F32, src: F32, shape: number[], stridesDst: number[], scale: number): void;
  copyStrided(out: F32, inp: F32, shape: number[], strides: number[], offset: number): void;
  reduceForward(out: F32, arg: I32 | null, inp: F32, O: number, D: number, I: number, op: number): void;
  reduceBackward(dinp: F32, dout: F32, arg: I32 | null, O: number, D: number, I: number, op: number): void;
  sumSquares(x: F32, n: number): number;

  embeddingForward(out: F32, idx: I32, table: F32, N: number, C: number, V: number): void;
  embeddingBackward(dtable: F32, dout: F32, idx: I32, N: number, C: number, V: number): void;
  layernormForward(out: F32, mean: F32, rstd: F32, inp: F32, weight: F32, bias: F32, N: number, C: number, eps: number): void;
  layernormBackward(dinp: F32 | null, dweight: F32 | null, dbias: F32 | null, dout: F32, inp: F32, weight: F32, mean: F32, rstd: F32, N: number, C: number): void;
  rmsnormForward(out: F32, rstd: F32, inp: F32, weight: F32, N: number, C: number, eps: number): void;
  rmsnormBackward(dinp: F32 | null, dweight: F32 | null, dout: F32, inp: F32, weight: F32, rstd: F32, N: number, C: number): void;
  softmaxForward(out: F32, inp: F32, N: number, V: number, log: boolean): void;
  softmaxBackward(dinp: F32, dout: F32, out: F32, N: number, V: number, log: boolean): void;
  attentionForward(out: F32, lse: F32, att: F32 | null, qkv: F32, B: number, T: number, C: number, H: number): void;
  attentionBackward(dqkv: F32, dout: F32, qkv: F32, lse: F32, B: number, T: number, C: number, H: number): void;
  ropeForward(out: F32, inp: F32, pos: I32, cos: F32, sin: F32, N: number, H: number, hs: number, P: number): void;
  ropeBackward(dinp: F32, dout: F32, pos: I32, cos: F32, sin: F32, N: number, H: number, hs: number, P: number): void;
  swigluForward(out: F32, gate: F32, up: F32, n: number): void;
  swigluBackward(dgate: F32 | null, dup: F32 | null, dout: F32, gate: F32, up: F32, n: number): void;
  /** Grouped-query causal attention; k/v rows of batch b start at b * kvBatchStride (a KV cache). */
  gqaForward(out: F32, lse: F32, q: F32, k: F32, v: F32, start: I32 | null, B: number, Tq: number, Tk: number, H: number, KV: number, hs: number, kvBatchStride: number): void;
  gqaBackward(dq: F32, dk: F32, dv: F32, dout: F32, q: F32, k: F32, v: F32, lse: F32, B: number, T: number, H: number, KV: number, hs: number): void;
  dropoutForward(out: F32, inp: F32, n: number, p: number, seed: number, offset: number): void;
  dropoutBackward(dinp: F32, dout: F32, n: number, p: number, seed: number, offset: number): void;

  crossEntropyForward(losses: F32, lse: F32, logits: F32, targets: I32, N: number, V: number, ignoreIndex: number): void;
  crossEntropyBackward(dlogits: F32, dlosses: F32, dstride: number, scale: number, logits: F32, lse: F32, targets: I32, N: number, V: number, ignoreIndex: number): void;
  klForward(losses: F32, student: F32, teacher: F32, N: number, V: number, temperature: number): void;
  klBackward(dstudent: F32, dlosses: F32, dstride: number, scale: number, student: F32, teacher: F32, N: number, V: number, temperature: number): void;
  bceForward(losses: F32, logits: F32, targets: F32, n: number): void;
  bceBackward(dlogits: F32, dlosses: F32, dstride: number, scale: number, logits: F32, targets: F32, n: number): void;
  cosineForward(out: F32, saved: F32, a: F32, b: F32, N: number, C: number, eps: number): void;
  cosineBackward(da: F32 | null, db: F32 | null, dout: F32, a: F32, b: F32, saved: F32, N: number, C: number, eps: number): void;

  adamStep(param: F32, m: F32, v: F32, grad: F32, n: number, lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, step: number, decoupled: boolean): void;
  sgdStep(param: F32, buf: F32 | null, grad: F32, n: number, lr: number, momentum: number, dampening: number, weightDecay: number, nesterov: boolean, first: boolean): void;
  f32ToF16(out: U16, inp: F32, n: number): void;
  f16ToF32(out: F32, inp: U16, n: number): void;
  f32ToBf16(out: U16, inp: F32, n: number): void;
  bf16ToF32(out: F32, inp: U16, n: number): void;

  // compression (src/compress): ggml blocks of 32 (Q8_0 34 bytes, Q4_0 18 bytes) and the fused
  // distillation loss; saved holds 3 floats per row; targets null = no CE term
  quantizeQ80(out: Uint8Array, x: F32, n: number): void;
  dequantizeQ80(out: F32, q: Uint8Array, n: number): void;
  quantizeQ40(out: Uint8Array, x: F32, n: number): void;
  dequantizeQ40(out: F32, q: Uint8Array, n: number): void;
  kdForward(losses: F32, saved: F32, student: F32, teacher: F32, targets: I32 | null, N: number, V: number, T: number, alpha: number, ignoreIndex: number): void;
  kdBackward(dstudent: F32, dlosses: F32, dstride: number, scale: number, student: F32, teacher: F32, saved: F32, targets: I32 | null, N: number, V: number, T: number, alpha: number, ignoreIndex: number): void;
  kdTopkForward(losses: F32, saved: F32, student: F32, tidx: I32, tval: F32, targets: I32 | null, N: number, V: number, K: number, T: number, alpha: number, ignoreIndex: number): void;
  kdTopkBackward(dstudent: F32, dlosses: F32, dstride: number, scale: number, student: F32, tidx: I32, tval: F32, saved: F32, targets: I32 | null, N: number, V: number, K: number, T: number, alpha: number, ignoreIndex: number): void;
}
