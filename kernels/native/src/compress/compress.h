// Compression kernels: ggml's Q8_0 / Q4_0 block quantisation and the fused knowledge-
// distillation loss (dense or top-k teacher). Pure C++ (no N-API). Two implementations with
// the same signatures: `ref` (naive, double accumulation, the ground truth) and `fast`
// (float, rows/blocks split over the pool); the binding runs `ref` in the reference kernel
// mode and `fast` in every other mode. Backward kernels ACCUMULATE (+=).
//
// Block layouts (ggml-common.h): Q8_0 = { f16 d; int8 qs[32] } (34 bytes per 32 values),
// x ≈ qs[j]·d; Q4_0 = { f16 d; uint8 qs[16] } (18 bytes per 32 values), element j in the low
// nibble of qs[j] and element j+16 in the high nibble, x ≈ (nibble − 8)·d.
//
// Legend: N rows, V classes (vocab), K teacher entries kept per row (top-k), n element count
// (a multiple of 32 for the block formats).
#pragma once
#include <cstdint>

#include "../core/kernels.h"

namespace troupe::compress {

constexpr int kBlock = 32;
constexpr int kQ8Bytes = 34;
constexpr int kQ4Bytes = 18;

// KD loss per row r (targets may be null: no CE term, every row counts):
//   losses[r] = alpha · T² · KL(p_t ‖ p_s) + (1 − alpha) · CE(student_r, targets[r])
// with p_t = softmax(teacher_r / T), p_s = softmax(student_r / T); a row whose target is
// ignore_index gives 0 and no gradient. saved[3N] = (lse(s/T), lse(s), lse(t/T)) per row.
// Top-k: the teacher is tidx[N,K] (i32 class ids, distinct) and tval[N,K] (its logits there);
// p_t = softmax(tval_r / T) over those K classes and 0 elsewhere.
struct KdArgs {
  float temperature;
  float alpha;
  int32_t ignore_index;
};

#define TROUPE_COMPRESS_DECLS                                                                  \
  void quantize_q8_0(Ctx&, uint8_t* out, const float* x, int64_t n);                          \
  void dequantize_q8_0(Ctx&, float* out, const uint8_t* q, int64_t n);                        \
  void quantize_q4_0(Ctx&, uint8_t* out, const float* x, int64_t n);                          \
  void dequantize_q4_0(Ctx&, float* out, const uint8_t* q, int64_t n);                        \
  void kd_forward(Ctx&, float* losses, float* saved, const float* student, const float* teacher, \
                  const int32_t* targets, int64_t N, int V, const KdArgs& a);                 \
  void kd_backward(Ctx&, float* dstudent, const float* dlosses, int64_t dstride, float scale,  \
                   const float* student, const float* teacher, const float* saved,            \
                   const int32_t* targets, int64_t N, int V, const KdArgs& a);                \
  void kd_topk_forward(Ctx&, float* losses, float* saved, const float* student,               \
                       const int32_t* tidx, const float* tval, const int32_t* targets,        \
                       int64_t N, int V, int K, const KdArgs& a);                             \
  void kd_topk_backward(Ctx&, float* dstudent, const float* dlosses, int64_t dstride,         \
                        float scale, const float* student, const int32_t* tidx,               \
                        const float* tval, const float* saved, const int32_t* targets,        \
                        int64_t N, int V, int K, const KdArgs& a);

namespace ref {
TROUPE_COMPRESS_DECLS
}
namespace fast {
TROUPE_COMPRESS_DECLS
}

}  // namespace troupe::compress
