// GEMM dispatch. With OpenBLAS each pool task calls a single-threaded sgemm on its own block
// of C (rows, or columns when C is wide), so the BLAS runs inside our persistent pool instead
// of starting its own threads; blocks depend only on the shape and the thread count.
// Legend: M,N,K matrix sizes.
#include "gemm.h"

#include "../core/pool.h"

#if defined(TROUPE_HAVE_ACCELERATE)
#include <Accelerate/Accelerate.h>
#elif defined(TROUPE_HAVE_CBLAS)
#include <cblas.h>
extern "C" void openblas_set_num_threads(int);
extern "C" char* openblas_get_corename(void);
#endif

#include <cstring>

namespace troupe {

#if defined(TROUPE_HAVE_ACCELERATE)
const char* blas_name() { return "accelerate"; }
void blas_init() {}
const char* blas_core() { return ""; }
int blas_simd_bits() { return 1 << 20; }  // AMX/NEON tuned by Apple: always preferred
static constexpr bool kSplit = false;     // Accelerate threads internally
#elif defined(TROUPE_HAVE_CBLAS)
const char* blas_name() { return "openblas"; }
void blas_init() { openblas_set_num_threads(1); }
const char* blas_core() {
  const char* name = openblas_get_corename();
  return name ? name : "";
}
int blas_simd_bits() {
  // OpenBLAS (DYNAMIC_ARCH) picks kernels per CPU family, or as OPENBLAS_CORETYPE says
  static const char* const k512[] = {"skylakex", "cooperlake", "sapphirerapids"};
  static const char* const k256[] = {"haswell", "zen", "skylake"};
  static const char* const k128[] = {"sandybridge", "nehalem", "core2", "penryn", "dunnington",
                                     "atom", "barcelona", "bulldozer", "piledriver", "steamroller",
                                     "excavator", "prescott", "opteron", "katmai", "coppermine",
                                     "northwood", "banias", "athlon", "generic"};
  char lower[64] = {0};
  const char* name = blas_core();
  for (int i = 0; i < 63 && name[i]; i++) lower[i] = static_cast<char>(name[i] | 0x20);
  for (const char* n : k512) if (std::strcmp(lower, n) == 0) return 512;
  for (const char* n : k256) if (std::strcmp(lower, n) == 0) return 256;
  for (const char* n : k128) if (std::strcmp(lower, n) == 0) return 128;
  return 1 << 20;  // unknown (ARM cores...): trust the BLAS
}
static constexpr bool kSplit = true;
#else
const char* blas_name() { return nullptr; }
void blas_init() {}
const char* blas_core() { return ""; }
int blas_simd_bits() { return 0; }
#endif

#if defined(TROUPE_HAVE_ACCELERATE) || defined(TROUPE_HAVE_CBLAS)
static void blas_call(float* c, const float* a, const float* b, int M, int N, int K, bool ta,
                      bool tb, float alpha, float beta, int lda, int ldb, int ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N,
              K, alpha, a, lda, b, ldb, beta, c, ldc);
}

static void blas_gemm(Ctx& ctx, float* c, const float* a, const float* b, int M, int N, int K,
                      bool ta, bool tb, float alpha, float beta, int lda, int ldb, int ldc) {
  const int threads = ctx.pool->size();
  const double flops = 2.0 * M * N * K;
  if (!kSplit || threads == 1 || flops < 4e5) {
    blas_call(c, a, b, M, N, K, ta, tb, alpha, beta, lda, ldb, ldc);
    return;
  }
  const bool by_rows = M >= N;
  const int extent = by_rows ? M : N;
  const int align = 16;
  int tasks = threads;
  int chunk = (extent + tasks - 1) / tasks;
  chunk = (chunk + align - 1) / align * align;
  tasks = (extent + chunk - 1) / chunk;
  auto body = [&](int64_t task, int) {
    const int lo = static_cast<int>(task) * chunk;
    const int n = extent - lo < chunk ? extent - lo : chunk;
    if (n <= 0) return;
    if (by_rows) {
      const float* as = ta ? a + lo : a + static_cast<int64_t>(lo) * lda;
      blas_call(c + static_cast<int64_t>(lo) * ldc, as, b, n, N, K, ta, tb, alpha, beta, lda, ldb,
                ldc);
    } else {
      const float* bs = tb ? b + static_cast<int64_t>(lo) * ldb : b + lo;
      blas_call(c + lo, a, bs, M, n, K, ta, tb, alpha, beta, lda, ldb, ldc);
    }
  };
  parallel_tasks(*ctx.pool, tasks, body);
}
#endif

void gemm(Ctx& ctx, float* c, const float* a, const float* b, int M, int N, int K, bool ta,
          bool tb, float alpha, float beta, int lda, int ldb, int ldc, const float* bias) {
#if defined(TROUPE_HAVE_ACCELERATE) || defined(TROUPE_HAVE_CBLAS)
  if (ctx.blas && M > 0 && N > 0 && K > 0) {
    blas_gemm(ctx, c, a, b, M, N, K, ta, tb, alpha, beta, lda, ldb, ldc);
    if (bias) {  // the BLAS has no bias: add it to every row afterwards
      const int64_t rows_per_task = 256;
      auto body = [&](int64_t task, int) {
        const int64_t lo = task * rows_per_task, hi = lo + rows_per_task < M ? lo + rows_per_task : M;
        for (int64_t r = lo; r < hi; r++)
          for (int j = 0; j < N; j++) c[r * ldc + j] += bias[j];
      };
      parallel_tasks(*ctx.pool, (M + rows_per_task - 1) / rows_per_task, body);
    }
    return;
  }
#endif
  ctx.k->gemm(ctx, c, a, b, bias, M, N, K, ta, tb, alpha, beta, lda, ldb, ldc);
}

}  // namespace troupe
