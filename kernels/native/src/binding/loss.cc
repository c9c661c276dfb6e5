// Thin binding: fused losses (cross-entropy, KL, BCE with logits, cosine similarity).
// Backward row weights are dlosses[r * dstride] * scale (dstride 0: one scalar for all rows).
// Legend: N rows, V classes, C channels, n elements.
#include "args.h"

namespace troupe {
namespace {

using Info = Napi::CallbackInfo;

// elements of dlosses read with a row stride (0: one scalar for all rows)
int64_t dlen(const Args& a, int64_t rows, int64_t stride) {
  if (rows == 0) return 0;
  return stride == 0 ? 1 : a.sum({a.count({rows - 1, stride}), 1});
}

// crossEntropyForward(losses, lse, logits, targets, N, V, ignoreIndex)
Napi::Value CrossEntropyForward(const Info& info) {
  Args a(info, "crossEntropyForward", 7);
  int64_t N = a.size(4);
  int V = a.dim(5);
  a.ctx().k->crossentropy_forward(a.ctx(), a.out(0, N), a.out(1, N), a.f32(2, a.count({N, V})), a.i32(3, N),
                                  N, V, static_cast<int32_t>(a.num(6)));
  return info.Env().Undefined();
}

// crossEntropyBackward(dlogits, dlosses, dstride, scale, logits, lse, targets, N, V, ignoreIndex)
Napi::Value CrossEntropyBackward(const Info& info) {
  Args a(info, "crossEntropyBackward", 10);
  int64_t N = a.size(7), stride = a.size(2);
  int V = a.dim(8);
  const int64_t NV = a.count({N, V});
  a.ctx().k->crossentropy_backward(a.ctx(), a.out(0, NV), a.f32(1, dlen(a, N, stride)),
                                   stride, static_cast<float>(a.num(3)), a.f32(4, NV),
                                   a.f32(5, N), a.i32(6, N), N, V, static_cast<int32_t>(a.num(9)));
  return info.Env().Undefined();
}

// klForward(losses, student, teacher, N, V, temperature)
Napi::Value KlForward(const Info& info) {
  Args a(info, "klForward", 6);
  int64_t N = a.size(3);
  int V = a.dim(4);
  const int64_t NV = a.count({N, V});
  a.ctx().k->kl_forward(a.ctx(), a.out(0, N), a.f32(1, NV), a.f32(2, NV), N, V,
                        static_cast<float>(a.num(5)));
  return info.Env().Undefined();
}

// klBackward(dstudent, dlosses, dstride, scale, student, teacher, N, V, temperature)
Napi::Value KlBackward(const Info& info) {
  Args a(info, "klBackward", 9);
  int64_t N = a.size(6), stride = a.size(2);
  int V = a.dim(7);
  const int64_t NV = a.count({N, V});
  a.ctx().k->kl_backward(a.ctx(), a.out(0, NV), a.f32(1, dlen(a, N, stride)), stride,
                         static_cast<float>(a.num(3)), a.f32(4, NV), a.f32(5, NV), N, V,
                         static_cast<float>(a.num(8)));
  return info.Env().Undefined();
}

// bceForward(losses, logits, targets, n)
Napi::Value BceForward(const Info& info) {
  Args a(info, "bceForward", 4);
  int64_t n = a.size(3);
  a.ctx().k->bce_forward(a.ctx(), a.out(0, n), a.f32(1, n), a.f32(2, n), n);
  return info.Env().Undefined();
}

// bceBackward(dlogits, dlosses, dstride, scale, logits, targets, n)
Napi::Value BceBackward(const Info& info) {
  Args a(info, "bceBackward", 7);
  int64_t n = a.size(6), stride = a.size(2);
  a.ctx().k->bce_backward(a.ctx(), a.out(0, n), a.f32(1, dlen(a, n, stride)), stride,
                          static_cast<float>(a.num(3)), a.f32(4, n), a.f32(5, n), n);
  return info.Env().Undefined();
}

// cosineForward(out, saved, a, b, N, C, eps)
Napi::Value CosineForward(const Info& info) {
  Args a(info, "cosineForward", 7);
  int64_t N = a.size(4);
  int C = a.dim(5);
  const int64_t NC = a.count({N, C});
  a.ctx().k->cosine_forward(a.ctx(), a.out(0, N), a.out(1, a.count({3, N})), a.f32(2, NC), a.f32(3, NC),
                            N, C, static_cast<float>(a.num(6)));
  return info.Env().Undefined();
}

// cosineBackward(da|null, db|null, dout, a, b, saved, N, C, eps)
Napi::Value CosineBackward(const Info& info) {
  Args a(info, "cosineBackward", 9, InPlace::kExact);  // da and db are one buffer for cos(x, x)
  int64_t N = a.size(6);
  int C = a.dim(7);
  const int64_t NC = a.count({N, C});
  a.ctx().k->cosine_backward(a.ctx(), a.out_or_null(0, NC), a.out_or_null(1, NC),
                             a.f32(2, N), a.f32(3, NC), a.f32(4, NC), a.f32(5, a.count({3, N})), N, C,
                             static_cast<float>(a.num(8)));
  return info.Env().Undefined();
}

}  // namespace

void register_loss(Napi::Env env, Exports exports) {
  expose<CrossEntropyForward>(env, exports, "crossEntropyForward");
  expose<CrossEntropyBackward>(env, exports, "crossEntropyBackward");
  expose<KlForward>(env, exports, "klForward");
  expose<KlBackward>(env, exports, "klBackward");
  expose<BceForward>(env, exports, "bceForward");
  expose<BceBackward>(env, exports, "bceBackward");
  expose<CosineForward>(env, exports, "cosineForward");
  expose<CosineBackward>(env, exports, "cosineBackward");
}

}  // namespace troupe
