// GEMM dispatch: the system BLAS (OpenBLAS, Accelerate) when enabled, else the selected
// kernel table's own gemm (blocked, or the naive reference). Pure C++.
#pragma once
#include "../core/kernels.h"

namespace troupe {

// The BLAS this build links, or nullptr.
const char* blas_name();
// Called once per addon instance: keeps the BLAS single-threaded inside our pool's tasks.
void blas_init();
// The BLAS's kernel family (OpenBLAS core name, e.g. "Haswell"), or "" when unknown.
const char* blas_core();
// SIMD width in bits of the BLAS's kernels (0 when there is no BLAS; large when unknown).
int blas_simd_bits();

// c[M,N] = alpha * op(a)[M,K] · op(b)[K,N] + beta * c (+ bias[N] on every row when non-null;
// row-major; see core/kernels.h)
void gemm(Ctx& ctx, float* c, const float* a, const float* b, int M, int N, int K, bool ta,
          bool tb, float alpha, float beta, int lda, int ldb, int ldc, const float* bias = nullptr);

}  // namespace troupe
