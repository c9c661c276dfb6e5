// The naive reference kernels (namespace troupe::ref); signatures as in core/kernels.h.
#pragma once
#include "../core/kernels.h"

namespace troupe::ref {

void gemm(Ctx&, float* c, const float* a, const float* b, const float* bias, int M, int N, int K,
          bool ta, bool tb, float alpha, float beta, int lda, int ldb, int ldc);
void fill(Ctx&, float* out, float value, int64_t n);
void axpy(Ctx&, float* y, float alpha, const float* x, int64_t n);
float unary_grad(float x, float y, int op, float alpha);
void unary_forward(Ctx&, float* out, const float* inp, int64_t n, int op, float alpha);
void unary_backward(Ctx&, float* dinp, const float* dout, const float* inp, const float* out,
                    int64_t n, int op, float alpha);
void binary_forward(Ctx&, float* out, const float* a, const float* b, int64_t n, int op);
void binary_backward(Ctx&, float* da, float* db, const float* dout, const float* a,
                     const float* b, int64_t n, int op);
void rowwise_forward(Ctx&, float* out, const float* a, const float* b, int64_t N, int C, int op);
void rowwise_backward(Ctx&, float* da, float* db, const float* dout, const float* a,
                      const float* b, int64_t N, int C, int op);
void reduce_forward(Ctx&, float* out, int32_t* arg, const float* inp, int64_t O, int64_t D,
                    int64_t I, int op);
void reduce_backward(Ctx&, float* dinp, const float* dout, const int32_t* arg, int64_t O,
                     int64_t D, int64_t I, int op);
double sum_squares(Ctx&, const float* x, int64_t n);
void dropout_forward(Ctx&, float* out, const float* inp, int64_t n, float p, uint64_t seed,
                     uint64_t offset);
void dropout_backward(Ctx&, float* dinp, const float* dout, int64_t n, float p, uint64_t seed,
                      uint64_t offset);
void embedding_forward(Ctx&, float* out, const int32_t* idx, const float* table, int64_t N,
                       int C, int V);
void embedding_backward(Ctx&, float* dtable, const float* dout, const int32_t* idx, int64_t N,
                        int C, int V);
void layernorm_forward(Ctx&, float* out, float* mean, float* rstd, const float* inp,
                       const float* weight, const float* bias, int64_t N, int C, float eps);
void layernorm_backward(Ctx&, float* dinp, float* dweight, float* dbias, const float* dout,
                        const float* inp, const float* weight, const float* mean,
                        const float* rstd, int64_t N, int C);
void rmsnorm_forward(Ctx&, float* out, float* rstd, const float* inp, const float* weight,
                     int64_t N, int C, float eps);
void rmsnorm_backward(Ctx&, float* dinp, float* dweight, const float* dout, const float* inp,
                      const float* weight, const float* rstd, int64_t N, int C);
void softmax_forward(Ctx&, float* out, const float* inp, int64_t N, int V, bool log);
void softmax_backward(Ctx&, float* dinp, const float* dout, const float* out, int64_t N, int V,
                      bool log);
void attention_forward(Ctx&, float* out, float* lse, float* att, const float* qkv, int B, int T,
                       int C, int H);
void attention_backward(Ctx&, float* dqkv, const float* dout, const float* qkv, const float* lse,
                        int B, int T, int C, int H);
void crossentropy_forward(Ctx&, float* losses, float* lse, const float* logits,
                          const int32_t* targets, int64_t N, int V, int32_t ignore_index);
void crossentropy_backward(Ctx&, float* dlogits, const float* dlosses, int64_t dstride,
                           float scale, const float* logits, const float* lse,
                           const int32_t* targets, int64_t N, int V, int32_t ignore_index);
void kl_forward(Ctx&, float* losses, const float* student, const float* teacher, int64_t N, int V,
                float temperature);
void kl_backward(Ctx&, float* dstudent, const float* dlosses, int64_t dstride, float scale,
                 const float* student, const float* teacher, int64_t N, int V, float temperature);
void bce_forward(Ctx&, float* losses, const float* logits, const float* targets, int64_t n);
void bce_backward(Ctx&, float* dlogits, const float* dlosses, int64_t dstride, float scale,
                  const float* logits, const float* targets, int64_t n);
void cosine_forward(Ctx&, float* out, float* saved, const float* a, const float* b, int64_t N,
                    int C, float eps);
void cosine_backward(Ctx&, float* da, float* db, const float* dout, const float* a,
                     const float* b, const float* saved, int64_t N, int C, float eps);
void adam_step(Ctx&, float* param, float* m, float* v, const float* grad, int64_t n,
               const AdamArgs& args);
void sgd_step(Ctx&, float* param, float* buf, const float* grad, int64_t n, const SgdArgs& args);
void f32_to_f16(Ctx&, uint16_t* out, const float* inp, int64_t n);
void f16_to_f32(Ctx&, float* out, const uint16_t* inp, int64_t n);
void f32_to_bf16(Ctx&, uint16_t* out, const float* inp, int64_t n);
void bf16_to_f32(Ctx&, float* out, const uint16_t* inp, int64_t n);
double fma_peak(Ctx&, double seconds);

}  // namespace troupe::ref
