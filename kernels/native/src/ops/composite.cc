#include "composite.h"

#include <vector>

#include "../core/model_kernels.h"
#include "../core/pool.h"
#include "gemm.h"

namespace troupe {

void linear_forward(Ctx& ctx, float* out, const float* inp, const float* weight, const float* bias,
                    int N, int C, int OC) {
  gemm(ctx, out, inp, weight, N, OC, C, false, true, 1.0f, 0.0f, C, C, OC, bias);
}

void linear_backward(Ctx& ctx, float* dinp, float* dweight, float* dbias, const float* dout,
                     const float* inp, const float* weight, int N, int C, int OC,
                     bool accumulate_dinp) {
  if (dinp) gemm(ctx, dinp, dout, weight, N, C, OC, false, false, 1.0f, accumulate_dinp ? 1.0f : 0.0f, OC, C, C);
  if (dweight) gemm(ctx, dweight, dout, inp, OC, C, N, true, false, 1.0f, 1.0f, OC, C, C);
  if (dbias) ctx.k->rowwise_backward(ctx, nullptr, dbias, dout, dout, dbias, N, OC, binary::kAdd);
}

// Rows of W per dequantised tile: about 1M floats (4 MB), at least kQBlock rows.
static int qtile_rows(int C, int OC) {
  int R = (1 << 20) / (C > 0 ? C : 1);
  if (R < kQBlock) R = kQBlock;
  return R < OC ? R : OC;
}

void qlinear_forward(Ctx& ctx, float* out, const float* inp, const uint8_t* q, const float* scale,
                     int N, int C, int OC, int bits) {
  const int R = qtile_rows(C, OC);
  std::vector<float> tile(static_cast<size_t>(R) * C);
  for (int r0 = 0; r0 < OC; r0 += R) {
    const int rows = r0 + R <= OC ? R : OC - r0;
    ctx.k->model->qdequant_rows(ctx, tile.data(), q, scale, r0, rows, C, bits);
    // out[:, r0:r0+rows] = inp · tileᵀ
    gemm(ctx, out + r0, inp, tile.data(), N, rows, C, false, true, 1.0f, 0.0f, C, C, OC);
  }
}

void qlinear_backward(Ctx& ctx, float* dinp, const float* dout, const uint8_t* q,
                      const float* scale, int N, int C, int OC, int bits) {
  const int R = qtile_rows(C, OC);
  std::vector<float> tile(static_cast<size_t>(R) * C);
  for (int r0 = 0; r0 < OC; r0 += R) {
    const int rows = r0 + R <= OC ? R : OC - r0;
    ctx.k->model->qdequant_rows(ctx, tile.data(), q, scale, r0, rows, C, bits);
    // dinp += dout[:, r0:r0+rows] · tile
    gemm(ctx, dinp, dout + r0, tile.data(), N, C, rows, false, false, 1.0f, 1.0f, OC, C, C);
  }
}

void gemm_batched(Ctx& ctx, float* c, const float* a, const float* b, int batch, int M, int N,
                  int K, bool ta, bool tb, float alpha, float beta) {
  const int64_t sa = static_cast<int64_t>(M) * K, sb = static_cast<int64_t>(K) * N,
                sc = static_cast<int64_t>(M) * N;
  const int lda = ta ? M : K, ldb = tb ? K : N, ldc = N;
  // Small matrices with the BLAS: one task per matrix (cblas needs no pool scratch).
  if (ctx.blas && batch >= 2 * ctx.pool->size() && 2.0 * M * N * K < 4e6) {
    auto body = [&](int64_t i, int) {
      gemm(ctx, c + i * sc, a + i * sa, b + i * sb, M, N, K, ta, tb, alpha, beta, lda, ldb, ldc);
    };
    parallel_tasks(*ctx.pool, batch, body);
    return;
  }
  for (int i = 0; i < batch; i++)
    gemm(ctx, c + i * sc, a + i * sa, b + i * sb, M, N, K, ta, tb, alpha, beta, lda, ldb, ldc);
}

// Calls f(offset_out, offset_x, offset_y) over a rank-`rank` index space in row-major order.
template <class F>
static void walk(int rank, const int64_t* shape, const int64_t* sx, const int64_t* sy, F f) {
  int64_t total = 1;
  for (int d = 0; d < rank; d++) total *= shape[d];
  if (total == 0) return;
  int64_t idx[kMaxRank] = {0};
  int64_t ox = 0, oy = 0;
  for (int64_t i = 0; i < total; i++) {
    f(i, ox, oy);
    for (int d = rank - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) {
        ox += sx[d];
        oy += sy[d];
        break;
      }
      ox -= sx[d] * (shape[d] - 1);
      oy -= sy[d] * (shape[d] - 1);
      idx[d] = 0;
    }
  }
}

void broadcast_binary(Ctx&, float* out, const float* a, const float* b, int rank,
                      const int64_t* shape, const int64_t* sa, const int64_t* sb, int op) {
  walk(rank, shape, sa, sb, [&](int64_t i, int64_t ia, int64_t ib) {
    float x = a[ia], y = b[ib];
    out[i] = op == binary::kAdd ? x + y : op == binary::kSub ? x - y : op == binary::kMul ? x * y : x / y;
  });
}

void reduce_into(Ctx&, float* dst, const float* src, int rank, const int64_t* shape,
                 const int64_t* sd, float scale) {
  walk(rank, shape, sd, sd, [&](int64_t i, int64_t id, int64_t) { dst[id] += scale * src[i]; });
}

void copy_strided(Ctx&, float* out, const float* inp, int rank, const int64_t* shape,
                  const int64_t* strides, int64_t offset) {
  walk(rank, shape, strides, strides, [&](int64_t i, int64_t is, int64_t) { out[i] = inp[offset + is]; });
}

}  // namespace troupe
