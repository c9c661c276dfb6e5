// Thin binding: fused losses (cross-entropy, KL, BCE with logits, cosine similarity).
// Backward row weights are dlosses[r * dstride] * scale (dstride 0: one scalar for all rows).
// Legend: N rows, V classes, C channels, n elements.
#include "args.h"

namespace troupe {
namespace {

using Info = Napi::CallbackInfo;

int64_t dlen(int64_t rows, int64_t stride) { return stride == 0 ? 1 : (rows - 1) * stride + 1; }

// crossEntropyForward(losses, lse, logits, targets, N, V, ignoreIndex)
Napi::Value CrossEntropyForward(const Info& info) {
  Args a(info, "crossEntropyForward", 7);
  int64_t N = a.size(4);
  int V = a.dim(5);
  a.ctx().k->crossentropy_forward(a.ctx(), a.f32(0, N), a.f32(1, N), a.f32(2, N * V), a.i32(3, N),
                                  N, V, static_cast<int32_t>(a.num(6)));
  return info.Env().Undefined();
}

// crossEntropyBackward(dlogits, dlosses, dstride, scale, logits, lse, targets, N, V, ignoreIndex)
Napi::Value CrossEntropyBackward(const Info& info) {
  Args a(info, "crossEntropyBackward", 10);
  int64_t N = a.size(7), stride = a.size(2);
  int V = a.dim(8);
  a.ctx().k->crossentropy_backward(a.ctx(), a.f32(0, N * V), a.f32(1, N ? dlen(N, stride) : 0),
                                   stride, static_cast<float>(a.num(3)), a.f32(4, N * V),
                                   a.f32(5, N), a.i32(6, N), N, V, static_cast<int32_t>(a.num(9)));
  return info.Env().Undefined();
}

// klForward(losses, student, teacher, N, V, temperature)
Napi::Value KlForward(const Info& info) {
  Args a(info, "klForward", 6);
  int64_t N = a.size(3);
  int V = a.dim(4);
  a.ctx().k->kl_forward(a.ctx(), a.f32(0, N), a.f32(1, N * V), a.f32(2, N * V), N, V,
                        static_cast<float>(a.num(5)));
  return info.Env().Undefined();
}

// klBackward(dstudent, dlosses, dstride, scale, student, teacher, N, V, temperature)
Napi::Value KlBackward(const Info& info) {
  Args a(info, "klBackward", 9);
  int64_t N = a.size(6), stride = a.size(2);
  int V = a.dim(7);
  a.ctx().k->kl_backward(a.ctx(), a.f32(0, N * V), a.f32(1, N ? dlen(N, stride) : 0), stride,
                         static_cast<float>(a.num(3)), a.f32(4, N * V), a.f32(5, N * V), N, V,
                         static_cast<float>(a.num(8)));
  return info.Env().Undefined();
}

// bceForward(losses, logits, targets, n)
Napi::Value BceForward(const Info& info) {
  Args a(info, "bceForward", 4);
  int64_t n = a.size(3);
  a.ctx().k->bce_forward(a.ctx(), a.f32(0, n), a.f32(1, n), a.f32(2, n), n);
  return info.Env().Undefined();
}

// bceBackward(dlogits, dlosses, dstride, scale, logits, targets, n)
Napi::Value BceBackward(const Info& info) {
  Args a(info, "bceBackward", 7);
  int64_t n = a.size(6), stride = a.size(2);
  a.ctx().k->bce_backward(a.ctx(), a.f32(0, n), a.f32(1, n ? dlen(n, stride) : 0), stride,
                          static_cast<float>(a.num(3)), a.f32(4, n), a.f32(5, n), n);
  return info.Env().Undefined();
}

// cosineForward(out, saved, a, b, N, C, eps)
Napi::Value CosineForward(const Info& info) {
  Args a(info, "cosineForward", 7);
  int64_t N = a.size(4);
  int C = a.dim(5);
  a.ctx().k->cosine_forward(a.ctx(), a.f32(0, N), a.f32(1, 3 * N), a.f32(2, N * C), a.f32(3, N * C),
                            N, C, static_cast<float>(a.num(6)));
  return info.Env().Undefined();
}

// cosineBackward(da|null, db|null, dout, a, b, saved, N, C, eps)
Napi::Value CosineBackward(const Info& info) {
  Args a(info, "cosineBackward", 9);
  int64_t N = a.size(6);
  int C = a.dim(7);
  a.ctx().k->cosine_backward(a.ctx(), a.f32_or_null(0, N * C), a.f32_or_null(1, N * C),
                             a.f32(2, N), a.f32(3, N * C), a.f32(4, N * C), a.f32(5, 3 * N), N, C,
                             static_cast<float>(a.num(8)));
  return info.Env().Undefined();
}

}  // namespace

void register_loss(Napi::Env env, Exports exports) {
  exports.Set("crossEntropyForward", Napi::Function::New(env, CrossEntropyForward, "crossEntropyForward"));
  exports.Set("crossEntropyBackward", Napi::Function::New(env, CrossEntropyBackward, "crossEntropyBackward"));
  exports.Set("klForward", Napi::Function::New(env, KlForward, "klForward"));
  exports.Set("klBackward", Napi::Function::New(env, KlBackward, "klBackward"));
  exports.Set("bceForward", Napi::Function::New(env, BceForward, "bceForward"));
  exports.Set("bceBackward", Napi::Function::New(env, BceBackward, "bceBackward"));
  exports.Set("cosineForward", Napi::Function::New(env, CosineForward, "cosineForward"));
  exports.Set("cosineBackward", Napi::Function::New(env, CosineBackward, "cosineBackward"));
}

}  // namespace troupe
