// Ops composed from table kernels, and the strided (broadcast / view) kernels that have a
// single implementation. Pure C++.
// Legend: N rows, C in channels, OC out channels, rank/shape/strides of a strided view.
#pragma once
#include "../core/kernels.h"

namespace troupe {

constexpr int kMaxRank = 8;

// out[N,OC] = inp[N,C] · weight[OC,C]ᵀ + bias[OC] (bias may be null)
void linear_forward(Ctx& ctx, float* out, const float* inp, const float* weight, const float* bias,
                    int N, int C, int OC);
// dinp[N,C], dweight[OC,C], dbias[OC] += ... (each may be null) <- dout[N,OC], inp, weight.
// With accumulate_dinp false, dinp is overwritten instead (the caller's fresh, unzeroed
// gradient buffer: GEMM beta 0 saves the zero-fill and the read).
void linear_backward(Ctx& ctx, float* dinp, float* dweight, float* dbias, const float* dout,
                     const float* inp, const float* weight, int N, int C, int OC,
                     bool accumulate_dinp = true);
// QLoRA's frozen base: out[N,OC] = inp[N,C] · W[OC,C]ᵀ (+ out when accumulate) and
// dinp[N,C] += dout[N,OC] · W, W block-quantised (core/model_kernels.h: q, scale, bits 4 or 8).
// W is dequantised a tile of rows at a time inside the GEMM (never whole): tile → gemm.
void qlinear_forward(Ctx& ctx, float* out, const float* inp, const uint8_t* q, const float* scale,
                     int N, int C, int OC, int bits);
void qlinear_backward(Ctx& ctx, float* dinp, const float* dout, const uint8_t* q,
                      const float* scale, int N, int C, int OC, int bits);
// c[batch][M,N] = alpha * op(a[batch]) · op(b[batch]) + beta * c, each matrix contiguous
void gemm_batched(Ctx& ctx, float* c, const float* a, const float* b, int batch, int M, int N,
                  int K, bool ta, bool tb, float alpha, float beta);

// out[shape] (contiguous) = a[sa] op b[sb]; a broadcast dimension has stride 0
void broadcast_binary(Ctx& ctx, float* out, const float* a, const float* b, int rank,
                      const int64_t* shape, const int64_t* sa, const int64_t* sb, int op);
// dst[sd] += scale * src[shape] (src contiguous); several src elements may share a dst slot
void reduce_into(Ctx& ctx, float* dst, const float* src, int rank, const int64_t* shape,
                 const int64_t* sd, float scale);
// out[shape] (contiguous) = inp[offset + strides]
void copy_strided(Ctx& ctx, float* out, const float* inp, int rank, const int64_t* shape,
                  const int64_t* strides, int64_t offset);

}  // namespace troupe
