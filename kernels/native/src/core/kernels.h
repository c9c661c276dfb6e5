// The kernel table: every implementation (reference, portable, avx2, avx512) fills one with
// the same signatures. Pure C++ (no N-API). Forward and backward sit side by side with the
// same argument order: outputs, inputs, sizes. Backward kernels ACCUMULATE (+=) into their
// gradient outputs; zeroing is the caller's job (fill). A null gradient output is skipped.
//
// Legend: N rows (B*T), C channels, OC output channels, V classes (vocab), B batch, T time,
// H heads, hs head size (C/H), M,N,K matrix sizes (gemm only), n element count,
// O,D,I outer/reduced/inner extents of a reduction.
#pragma once
#include <cstdint>

namespace troupe {

class Pool;
struct Kernels;
struct ModelKernels;  // core/model_kernels.h

struct Ctx {
  Pool* pool;
  const Kernels* k;  // the selected implementation
  bool blas;         // route gemm to the system BLAS
};

// Unary op codes (mirrored in kernels/ops/codes.ts). alpha is the scalar of scale/add_scalar/pow.
namespace unary {
constexpr int kNeg = 0, kExp = 1, kLog = 2, kTanh = 3, kSigmoid = 4, kRelu = 5, kSqrt = 6,
              kSquare = 7, kGelu = 8, kSilu = 9, kScale = 10, kAddScalar = 11, kAbs = 12,
              kPow = 13, kCount = 14;
}
// Binary op codes (same shape, or b broadcast over rows).
namespace binary {
constexpr int kAdd = 0, kSub = 1, kMul = 2, kDiv = 3, kCount = 4;
}
// Reductions over the middle axis of [O, D, I].
namespace reduce {
constexpr int kSum = 0, kMean = 1, kMax = 2, kCount = 3;
}

// Hyper-parameters stay double until the kernel casts them, as PyTorch casts Python floats.
struct AdamArgs {
  double lr, beta1, beta2, eps, weight_decay;
  int64_t step;     // 1 for the first update
  bool decoupled;   // AdamW (p -= lr*wd*p first) vs Adam (g += wd*p)
};

struct SgdArgs {
  double lr, momentum, dampening, weight_decay;
  bool nesterov;
  bool first;  // the momentum buffer is initialised to the gradient on the first step
};

struct Kernels {
  const char* name;

  // C[M,N] = alpha * op(A)[M,K] · op(B)[K,N] + beta * C (+ bias[N] on every row when bias is
  // non-null); row-major with leading dims. op(A) = A (M×K) or Aᵀ (A stored K×M);
  // op(B) = B (K×N) or Bᵀ (B stored N×K).
  void (*gemm)(Ctx&, float* c, const float* a, const float* b, const float* bias, int M, int N,
               int K, bool ta, bool tb, float alpha, float beta, int lda, int ldb, int ldc);

  // elementwise over n
  void (*fill)(Ctx&, float* out, float value, int64_t n);
  void (*axpy)(Ctx&, float* y, float alpha, const float* x, int64_t n);  // y += alpha*x
  void (*unary_forward)(Ctx&, float* out, const float* inp, int64_t n, int op, float alpha);
  void (*unary_backward)(Ctx&, float* dinp, const float* dout, const float* inp, const float* out,
                         int64_t n, int op, float alpha);
  void (*binary_forward)(Ctx&, float* out, const float* a, const float* b, int64_t n, int op);
  void (*binary_backward)(Ctx&, float* da, float* db, const float* dout, const float* a,
                          const float* b, int64_t n, int op);
  // out[N,C] = a[N,C] op b[C]  (bias add and friends)
  void (*rowwise_forward)(Ctx&, float* out, const float* a, const float* b, int64_t N, int C,
                          int op);
  void (*rowwise_backward)(Ctx&, float* da, float* db, const float* dout, const float* a,
                           const float* b, int64_t N, int C, int op);
  // out[O,I] = reduce over D of inp[O,D,I]; arg[O,I] gets the argmax for kMax (else unused)
  void (*reduce_forward)(Ctx&, float* out, int32_t* arg, const float* inp, int64_t O, int64_t D,
                         int64_t I, int op);
  void (*reduce_backward)(Ctx&, float* dinp, const float* dout, const int32_t* arg, int64_t O,
                          int64_t D, int64_t I, int op);
  double (*sum_squares)(Ctx&, const float* x, int64_t n);
  // dropout with a counter-based mask: keep element i iff hash(seed, offset + i) >= p
  void (*dropout_forward)(Ctx&, float* out, const float* inp, int64_t n, float p, uint64_t seed,
                          uint64_t offset);
  void (*dropout_backward)(Ctx&, float* dinp, const float* dout, int64_t n, float p,
                           uint64_t seed, uint64_t offset);

  // embedding: out[N,C] = table[idx[N], C]; table is [V,C]
  void (*embedding_forward)(Ctx&, float* out, const int32_t* idx, const float* table, int64_t N,
                            int C, int V);
  void (*embedding_backward)(Ctx&, float* dtable, const float* dout, const int32_t* idx,
                             int64_t N, int C, int V);

  // norms over the last axis of [N,C]; mean[N], rstd[N] are saved for backward
  void (*layernorm_forward)(Ctx&, float* out, float* mean, float* rstd, const float* inp,
                            const float* weight, const float* bias, int64_t N, int C, float eps);
  void (*layernorm_backward)(Ctx&, float* dinp, float* dweight, float* dbias, const float* dout,
                             const float* inp, const float* weight, const float* mean,
                             const float* rstd, int64_t N, int C);
  void (*rmsnorm_forward)(Ctx&, float* out, float* rstd, const float* inp, const float* weight,
                          int64_t N, int C, float eps);
  void (*rmsnorm_backward)(Ctx&, float* dinp, float* dweight, const float* dout, const float* inp,
                           const float* weight, const float* rstd, int64_t N, int C);

  // softmax / log-softmax over the last axis of [N,V]
  void (*softmax_forward)(Ctx&, float* out, const float* inp, int64_t N, int V, bool log);
  void (*softmax_backward)(Ctx&, float* dinp, const float* dout, const float* out, int64_t N,
                           int V, bool log);

  // fused causal self-attention. qkv[B,T,3C] (q, k, v; head h = channels h*hs..), out[B,T,C],
  // lse[B,H,T] the log-sum-exp of each row of scaled scores (saved for backward, which
  // recomputes the probabilities); att[B,H,T,T] the probabilities, only when non-null
  void (*attention_forward)(Ctx&, float* out, float* lse, float* att, const float* qkv, int B,
                            int T, int C, int H);
  void (*attention_backward)(Ctx&, float* dqkv, const float* dout, const float* qkv,
                             const float* lse, int B, int T, int C, int H);

  // losses: per-row values; backward row weight g[n] = dlosses[n * dstride] * scale
  // cross-entropy of logits[N,V] with targets[N] (ignore_index rows give 0); lse[N] saved
  void (*crossentropy_forward)(Ctx&, float* losses, float* lse, const float* logits,
                               const int32_t* targets, int64_t N, int V, int32_t ignore_index);
  void (*crossentropy_backward)(Ctx&, float* dlogits, const float* dlosses, int64_t dstride,
                                float scale, const float* logits, const float* lse,
                                const int32_t* targets, int64_t N, int V, int32_t ignore_index);
  // KL(softmax(teacher/T) || softmax(student/T)) per row of [N,V]; the teacher gets no gradient
  void (*kl_forward)(Ctx&, float* losses, const float* student, const float* teacher, int64_t N,
                     int V, float temperature);
  void (*kl_backward)(Ctx&, float* dstudent, const float* dlosses, int64_t dstride, float scale,
                      const float* student, const float* teacher, int64_t N, int V,
                      float temperature);
  // binary cross-entropy with logits, elementwise over n (targets in [0,1], no gradient)
  void (*bce_forward)(Ctx&, float* losses, const float* logits, const float* targets, int64_t n);
  void (*bce_backward)(Ctx&, float* dlogits, const float* dlosses, int64_t dstride, float scale,
                       const float* logits, const float* targets, int64_t n);
  // cosine similarity along the last axis of [N,C], each norm clamped to eps (torch 1.13):
  // out[N]; saved[3N] = (a·b, |a|², |b|²)
  void (*cosine_forward)(Ctx&, float* out, float* saved, const float* a, const float* b,
                         int64_t N, int C, float eps);
  void (*cosine_backward)(Ctx&, float* da, float* db, const float* dout, const float* a,
                          const float* b, const float* saved, int64_t N, int C, float eps);

  // optimizers, in place over n
  void (*adam_step)(Ctx&, float* param, float* m, float* v, const float* grad, int64_t n,
                    const AdamArgs& args);
  void (*sgd_step)(Ctx&, float* param, float* buf, const float* grad, int64_t n,
                   const SgdArgs& args);

  // conversions
  void (*f32_to_f16)(Ctx&, uint16_t* out, const float* inp, int64_t n);
  void (*f16_to_f32)(Ctx&, float* out, const uint16_t* inp, int64_t n);
  void (*f32_to_bf16)(Ctx&, uint16_t* out, const float* inp, int64_t n);
  void (*bf16_to_f32)(Ctx&, float* out, const uint16_t* inp, int64_t n);

  // measured FMA throughput of this implementation on all pool threads, in GFLOP/s
  double (*fma_peak)(Ctx&, double seconds);

  // the Llama-family ops (RoPE, SwiGLU, grouped-query attention) of this implementation
  const ModelKernels* model;
};

// Implementations. avx2/avx512 exist only on x86-64 builds (null elsewhere).
const Kernels& reference_kernels();
const Kernels& portable_kernels();
const Kernels* avx2_kernels();
const Kernels* avx512_kernels();

}  // namespace troupe
