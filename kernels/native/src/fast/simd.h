// Portable SIMD on GCC/Clang vector extensions. Included only by isa/*.cc, which define
// TROUPE_VW (floats per vector: 16 avx512, 8 avx2, 4 portable/NEON) and compile with the
// matching -m flags. Everything here has internal linkage, so the builds for different
// instruction sets never share a symbol (no ODR mix-ups between AVX-512 and baseline code).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#include "../core/kernels.h"
#include "../core/pool.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#ifndef TROUPE_VW
#error "fast/simd.h needs TROUPE_VW"
#endif

namespace troupe {
namespace {

constexpr int W = TROUPE_VW;
typedef float vf __attribute__((vector_size(W * 4)));
typedef int32_t vi __attribute__((vector_size(W * 4)));
typedef uint32_t vu __attribute__((vector_size(W * 4)));

inline vf vload(const float* p) {
  vf v;
  std::memcpy(&v, p, sizeof(vf));
  return v;
}
inline void vstore(float* p, vf v) { std::memcpy(p, &v, sizeof(vf)); }
inline vf vsplat(float x) {
  // a lane loop becomes a 256-bit broadcast plus an insert with GCC; name the broadcast
#if defined(__AVX512F__) && TROUPE_VW == 16
  return (vf)_mm512_set1_ps(x);
#elif defined(__AVX__) && TROUPE_VW == 8
  return (vf)_mm256_set1_ps(x);
#elif defined(__SSE__) && TROUPE_VW == 4
  return (vf)_mm_set1_ps(x);
#else
  vf v;
  for (int i = 0; i < W; i++) v[i] = x;
  return v;
#endif
}
inline vi visplat(int32_t x) {
  vi v;
  for (int i = 0; i < W; i++) v[i] = x;
  return v;
}
// Loads the first n (< W) floats, zero elsewhere; stores the first n lanes.
inline vf vload_part(const float* p, int n, float pad = 0.0f) {
  vf v = vsplat(pad);
  for (int i = 0; i < n; i++) v[i] = p[i];
  return v;
}
inline void vstore_part(float* p, vf v, int n) {
  for (int i = 0; i < n; i++) p[i] = v[i];
}
inline vf vselect(vi mask, vf a, vf b) {  // mask ? a : b
  return (vf)((mask & (vi)a) | (~mask & (vi)b));
}
// max and min that pass a NaN in either argument on (as PyTorch's maximum, clamp and relu do;
// a bare a > b select would turn max(NaN, 0) into 0)
inline vi visnan(vf a) { return a != a; }
inline vf vmax(vf a, vf b) { return vselect((a > b) | visnan(a), a, b); }
inline vf vmin(vf a, vf b) { return vselect((a < b) | visnan(a), a, b); }
// Horizontal sum and max in a fixed pairwise order (deterministic), in registers: a lane loop
// through memory would stall on store forwarding in every row of softmax and attention.
// hmax may drop a NaN lane: it only ever picks the shift of a log-sum-exp, whose sum then
// holds exp(NaN - max) = NaN anyway.
inline float hsum(vf v) {
#if defined(__AVX512F__) && TROUPE_VW == 16
  return _mm512_reduce_add_ps((__m512)v);
#elif defined(__AVX__) && TROUPE_VW == 8
  __m128 x = _mm_add_ps(_mm256_castps256_ps128((__m256)v), _mm256_extractf128_ps((__m256)v, 1));
  x = _mm_add_ps(x, _mm_movehl_ps(x, x));
  return _mm_cvtss_f32(_mm_add_ss(x, _mm_shuffle_ps(x, x, 1)));
#elif defined(__SSE__) && TROUPE_VW == 4
  __m128 x = (__m128)v;
  x = _mm_add_ps(x, _mm_movehl_ps(x, x));
  return _mm_cvtss_f32(_mm_add_ss(x, _mm_shuffle_ps(x, x, 1)));
#else
  float t[W];
  std::memcpy(t, &v, sizeof(vf));
  for (int w = W / 2; w >= 1; w /= 2)
    for (int i = 0; i < w; i++) t[i] += t[i + w];
  return t[0];
#endif
}
inline float hmax(vf v) {
#if defined(__AVX512F__) && TROUPE_VW == 16
  return _mm512_reduce_max_ps((__m512)v);
#elif defined(__AVX__) && TROUPE_VW == 8
  __m128 x = _mm_max_ps(_mm256_castps256_ps128((__m256)v), _mm256_extractf128_ps((__m256)v, 1));
  x = _mm_max_ps(x, _mm_movehl_ps(x, x));
  return _mm_cvtss_f32(_mm_max_ss(x, _mm_shuffle_ps(x, x, 1)));
#elif defined(__SSE__) && TROUPE_VW == 4
  __m128 x = (__m128)v;
  x = _mm_max_ps(x, _mm_movehl_ps(x, x));
  return _mm_cvtss_f32(_mm_max_ss(x, _mm_shuffle_ps(x, x, 1)));
#else
  float m = v[0];
  for (int i = 1; i < W; i++) m = v[i] > m ? v[i] : m;
  return m;
#endif
}

// exp with a Cephes polynomial (about 1 ulp over the normal range) and expf's edges: NaN stays
// NaN, +inf and anything past ln(FLT_MAX) give +inf, -inf gives 0; results below FLT_MIN flush
// to 0 (expf returns a subnormal there).
inline vf vexp(vf x) {
  const vf hi = vsplat(88.72283935546875f), lo = vsplat(-87.3365447504f);
  const vi nan = visnan(x), over = x > hi, under = x < lo;
  vf z = vselect(over, hi, vselect(under, lo, vselect(nan, vsplat(0.0f), x)));
  const vf magic = vsplat(12582912.0f);  // 1.5 * 2^23: adding it rounds to an integer
  vf t = z * 1.44269504088896341f + magic;
  vi n = (vi)t - (vi)magic;
  vf fx = t - magic;
  z = z - fx * 0.693359375f;
  z = z - fx * -2.12194440e-4f;
  vf z2 = z * z;
  vf y = vsplat(1.9875691500E-4f);
  y = y * z + 1.3981999507E-3f;
  y = y * z + 8.3334519073E-3f;
  y = y * z + 4.1665795894E-2f;
  y = y * z + 1.6666665459E-1f;
  y = y * z + 5.0000001201E-1f;
  y = y * z2 + z + 1.0f;
  // 2^n as two factors, so that n = 128 (x just below ln(FLT_MAX)) does not overflow the exponent
  const vi n1 = n >> 1;
  y = y * (vf)((n1 + 127) << 23) * (vf)((n - n1 + 127) << 23);
  y = vselect(under, vsplat(0.0f), y);
  return vselect(over | nan, x * INFINITY, y);  // +inf * inf = inf, NaN * inf = NaN
}

// tanh with Eigen's rational approximation (its argument clamped to +-7.9); +-1 exactly past
// +-9, where tanhf rounds to +-1 too (the approximation stops at 1 - 2.4e-7: gelu(-inf) would
// be -inf, not NaN); NaN stays NaN.
inline vf vtanh(vf x) {
  const vf c = vsplat(7.90531110763549805f), one = vsplat(1.0f);
  const vi nan = visnan(x), pos = x > vsplat(9.0f), neg = x < vsplat(-9.0f);
  vf z = vselect(x > c, c, vselect(x < -c, -c, x));
  vf x2 = z * z;
  vf p = x2 * -2.76076847742355e-16f + 2.00018790482477e-13f;
  p = p * x2 + -8.60467152213735e-11f;
  p = p * x2 + 5.12229709037114e-08f;
  p = p * x2 + 1.48572235717979e-05f;
  p = p * x2 + 6.37261928875436e-04f;
  p = p * x2 + 4.89352455891786e-03f;
  p = p * z;
  vf q = x2 * 1.19825839466702e-06f + 1.18534705686654e-04f;
  q = q * x2 + 2.26843463243900e-03f;
  q = q * x2 + 4.89352518554385e-03f;
  return vselect(nan, x, vselect(pos, one, vselect(neg, -one, p / q)));
}

inline vf vsigmoid(vf x) { return 1.0f / (1.0f + vexp(-x)); }

inline vf vsqrt(vf x) {
  vf r;
  for (int i = 0; i < W; i++) r[i] = __builtin_sqrtf(x[i]);
  return r;
}

// Splits [0, n) into tasks of at least `grain` elements (a multiple of W) and runs
// f(lo, hi) on the pool. Elementwise kernels only: every element is computed alone.
template <class F>
inline void parallel_range(Ctx& ctx, int64_t n, int64_t grain, F f) {
  int threads = ctx.pool->size();
  int64_t tasks = n / (grain > 0 ? grain : 1);
  if (tasks > threads * 4) tasks = threads * 4;
  if (tasks <= 1 || threads == 1) {
    f(int64_t(0), n);
    return;
  }
  int64_t chunk = (n + tasks - 1) / tasks;
  chunk = (chunk + W - 1) / W * W;
  auto body = [&](int64_t task, int) {
    int64_t lo = task * chunk, hi = lo + chunk < n ? lo + chunk : n;
    if (lo < hi) f(lo, hi);
  };
  parallel_tasks(*ctx.pool, tasks, body);
}

// Runs f(row_lo, row_hi, thread) over rows [0, N) in blocks; rows are independent.
template <class F>
inline void parallel_rows(Ctx& ctx, int64_t N, int64_t row_cost, F f) {
  int threads = ctx.pool->size();
  int64_t grain = (1 << 15) / (row_cost > 0 ? row_cost : 1) + 1;  // ~32K flops per task at least
  int64_t tasks = N / grain;
  if (tasks > threads * 8) tasks = threads * 8;
  if (tasks <= 1 || threads == 1) {
    f(int64_t(0), N, 0);
    return;
  }
  int64_t chunk = (N + tasks - 1) / tasks;
  auto body = [&](int64_t task, int thread) {
    int64_t lo = task * chunk, hi = lo + chunk < N ? lo + chunk : N;
    if (lo < hi) f(lo, hi, thread);
  };
  parallel_tasks(*ctx.pool, tasks, body);
}

// Column sums with a fixed split of the rows: chunk boundaries depend only on N, so the
// result is bitwise the same for any thread count. partial(lo, hi, acc) adds the rows
// [lo, hi) of its contribution into acc[cols]; the chunks are then summed in order and each
// column total is handed to emit(column, total).
template <class F, class E>
inline void chunked_column_sum(Ctx& ctx, int64_t N, int64_t cols, F partial, E emit) {
  // short float runs (8 rows) keep the rounding small; the chunk totals are added in double,
  // in chunk order, by column blocks
  constexpr int64_t kRows = 8, kChunksPerTask = 16, kColBlock = 256;
  const int64_t chunks = (N + kRows - 1) / kRows;
  float* buf = ctx.pool->scratch(ctx.pool->size(), static_cast<size_t>(chunks * cols));
  auto body = [&](int64_t task, int thread) {
    const int64_t c1 = (task + 1) * kChunksPerTask < chunks ? (task + 1) * kChunksPerTask : chunks;
    for (int64_t chunk = task * kChunksPerTask; chunk < c1; chunk++) {
      float* acc = buf + chunk * cols;  // each chunk owns its row of buf
      std::memset(acc, 0, sizeof(float) * cols);
      const int64_t lo = chunk * kRows, hi = lo + kRows < N ? lo + kRows : N;
      partial(lo, hi, acc, thread);
    }
  };
  const int64_t tasks = (chunks + kChunksPerTask - 1) / kChunksPerTask;
  if (tasks > 1) parallel_tasks(*ctx.pool, tasks, body);
  else if (tasks == 1) body(0, 0);
  auto reduce = [&](int64_t block, int) {
    const int64_t j0 = block * kColBlock, j1 = j0 + kColBlock < cols ? j0 + kColBlock : cols;
    double acc[kColBlock];
    for (int64_t j = j0; j < j1; j++) acc[j - j0] = 0.0;
    for (int64_t c = 0; c < chunks; c++) {
      const float* row = buf + c * cols;
      for (int64_t j = j0; j < j1; j++) acc[j - j0] += row[j];
    }
    for (int64_t j = j0; j < j1; j++) emit(j, static_cast<float>(acc[j - j0]));
  };
  const int64_t blocks = (cols + kColBlock - 1) / kColBlock;
  if (blocks > 1 && chunks * cols > (1 << 15)) parallel_tasks(*ctx.pool, blocks, reduce);
  else for (int64_t b = 0; b < blocks; b++) reduce(b, 0);
}

}  // namespace
}  // namespace troupe
