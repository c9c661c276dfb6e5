// Naive reference GEMM: a triple loop with double accumulation.
// Legend: M,N,K matrix sizes; lda/ldb/ldc leading dimensions (row-major).
#include "../core/kernels.h"
#include "ref.h"

namespace troupe::ref {

// c[M,N] = alpha * op(a)[M,K] · op(b)[K,N] + beta * c (+ bias[N] on every row)
void gemm(Ctx&, float* c, const float* a, const float* b, const float* bias, int M, int N, int K,
          bool ta, bool tb, float alpha, float beta, int lda, int ldb, int ldc) {
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++) {
      double acc = 0.0;
      for (int p = 0; p < K; p++) {
        float x = ta ? a[static_cast<int64_t>(p) * lda + i] : a[static_cast<int64_t>(i) * lda + p];
        float y = tb ? b[static_cast<int64_t>(j) * ldb + p] : b[static_cast<int64_t>(p) * ldb + j];
        acc += static_cast<double>(x) * y;
      }
      float* out = c + static_cast<int64_t>(i) * ldc + j;
      // beta == 0 overwrites (BLAS semantics: NaN in c is not propagated)
      *out = static_cast<float>(alpha * acc + (beta == 0.0f ? 0.0 : static_cast<double>(beta) * *out) +
                                (bias ? bias[j] : 0.0));
    }
}

}  // namespace troupe::ref
