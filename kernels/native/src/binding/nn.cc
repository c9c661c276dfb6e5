// Thin binding: embedding, norms, softmax, attention, dropout (checks as in args.h).
// Legend: N rows, C channels, V table rows / classes, B batch, T time, H heads, n elements.
#include "args.h"

namespace troupe {
namespace {

using Info = Napi::CallbackInfo;

// embeddingForward(out, idx, table, N, C, V)
Napi::Value EmbeddingForward(const Info& info) {
  Args a(info, "embeddingForward", 6);
  int64_t N = a.size(3);
  int C = a.dim(4), V = a.dim(5);
  a.ctx().k->embedding_forward(a.ctx(), a.out(0, a.count({N, C})), a.i32(1, N), a.f32(2, a.count({V, C})), N,
                               C, V);
  return info.Env().Undefined();
}

// embeddingBackward(dtable, dout, idx, N, C, V)
Napi::Value EmbeddingBackward(const Info& info) {
  Args a(info, "embeddingBackward", 6);
  int64_t N = a.size(3);
  int C = a.dim(4), V = a.dim(5);
  a.ctx().k->embedding_backward(a.ctx(), a.out(0, a.count({V, C})), a.f32(1, a.count({N, C})), a.i32(2, N), N,
                                C, V);
  return info.Env().Undefined();
}

// layernormForward(out, mean, rstd, inp, weight, bias, N, C, eps)
Napi::Value LayernormForward(const Info& info) {
  Args a(info, "layernormForward", 9);
  int64_t N = a.size(6);
  int C = a.dim(7);
  const int64_t NC = a.count({N, C});
  a.ctx().k->layernorm_forward(a.ctx(), a.out(0, NC), a.out(1, N), a.out(2, N), a.f32(3, NC),
                               a.f32(4, C), a.f32(5, C), N, C, static_cast<float>(a.num(8)));
  return info.Env().Undefined();
}

// layernormBackward(dinp|null, dweight|null, dbias|null, dout, inp, weight, mean, rstd, N, C)
Napi::Value LayernormBackward(const Info& info) {
  Args a(info, "layernormBackward", 10);
  int64_t N = a.size(8);
  int C = a.dim(9);
  const int64_t NC = a.count({N, C});
  a.ctx().k->layernorm_backward(a.ctx(), a.out_or_null(0, NC), a.out_or_null(1, C),
                                a.out_or_null(2, C), a.f32(3, NC), a.f32(4, NC), a.f32(5, C),
                                a.f32(6, N), a.f32(7, N), N, C);
  return info.Env().Undefined();
}

// rmsnormForward(out, rstd, inp, weight, N, C, eps)
Napi::Value RmsnormForward(const Info& info) {
  Args a(info, "rmsnormForward", 7);
  int64_t N = a.size(4);
  int C = a.dim(5);
  const int64_t NC = a.count({N, C});
  a.ctx().k->rmsnorm_forward(a.ctx(), a.out(0, NC), a.out(1, N), a.f32(2, NC), a.f32(3, C),
                             N, C, static_cast<float>(a.num(6)));
  return info.Env().Undefined();
}

// rmsnormBackward(dinp|null, dweight|null, dout, inp, weight, rstd, N, C)
Napi::Value RmsnormBackward(const Info& info) {
  Args a(info, "rmsnormBackward", 8);
  int64_t N = a.size(6);
  int C = a.dim(7);
  const int64_t NC = a.count({N, C});
  a.ctx().k->rmsnorm_backward(a.ctx(), a.out_or_null(0, NC), a.out_or_null(1, C),
                              a.f32(2, NC), a.f32(3, NC), a.f32(4, C), a.f32(5, N), N, C);
  return info.Env().Undefined();
}

// softmaxForward(out, inp, N, V, log)
Napi::Value SoftmaxForward(const Info& info) {
  Args a(info, "softmaxForward", 5);
  int64_t N = a.size(2);
  int V = a.dim(3);
  const int64_t NV = a.count({N, V});
  a.ctx().k->softmax_forward(a.ctx(), a.out(0, NV), a.f32(1, NV), N, V, a.flag(4));
  return info.Env().Undefined();
}

// softmaxBackward(dinp, dout, out, N, V, log)
Napi::Value SoftmaxBackward(const Info& info) {
  Args a(info, "softmaxBackward", 6);
  int64_t N = a.size(3);
  int V = a.dim(4);
  const int64_t NV = a.count({N, V});
  a.ctx().k->softmax_backward(a.ctx(), a.out(0, NV), a.f32(1, NV), a.f32(2, NV), N, V,
                              a.flag(5));
  return info.Env().Undefined();
}

// attentionForward(out, lse, att|null, qkv, B, T, C, H)
Napi::Value AttentionForward(const Info& info) {
  Args a(info, "attentionForward", 8);
  int B = a.dim(4), T = a.dim(5), C = a.dim(6), H = a.dim(7);
  a.check(H > 0 && C % H == 0, "C must be a multiple of H");
  a.ctx().k->attention_forward(a.ctx(), a.out(0, a.count({B, T, C})), a.out(1, a.count({B, T, H})),
                               a.out_or_null(2, a.count({B, T, H, T})), a.f32(3, a.count({B, T, 3, C})),
                               B, T, C, H);
  return info.Env().Undefined();
}

// attentionBackward(dqkv, dout, qkv, lse, B, T, C, H)
Napi::Value AttentionBackward(const Info& info) {
  Args a(info, "attentionBackward", 8);
  int B = a.dim(4), T = a.dim(5), C = a.dim(6), H = a.dim(7);
  a.check(H > 0 && C % H == 0, "C must be a multiple of H");
  a.ctx().k->attention_backward(a.ctx(), a.out(0, a.count({B, T, 3, C})), a.f32(1, a.count({B, T, C})),
                                a.f32(2, a.count({B, T, 3, C})), a.f32(3, a.count({B, T, H})), B, T, C, H);
  return info.Env().Undefined();
}

uint64_t seed64(double seed) { return static_cast<uint64_t>(seed) * 0x9e3779b97f4a7c15ull + 1; }

// dropoutForward(out, inp, n, p, seed, offset)
Napi::Value DropoutForward(const Info& info) {
  Args a(info, "dropoutForward", 6, InPlace::kExact);
  int64_t n = a.size(2);
  a.ctx().k->dropout_forward(a.ctx(), a.out(0, n), a.f32(1, n), n, static_cast<float>(a.num(3)),
                             seed64(static_cast<double>(a.size(4))), static_cast<uint64_t>(a.size(5)));
  return info.Env().Undefined();
}

// dropoutBackward(dinp, dout, n, p, seed, offset)
Napi::Value DropoutBackward(const Info& info) {
  Args a(info, "dropoutBackward", 6, InPlace::kExact);
  int64_t n = a.size(2);
  a.ctx().k->dropout_backward(a.ctx(), a.out(0, n), a.f32(1, n), n, static_cast<float>(a.num(3)),
                              seed64(static_cast<double>(a.size(4))), static_cast<uint64_t>(a.size(5)));
  return info.Env().Undefined();
}

}  // namespace

void register_nn(Napi::Env env, Exports exports) {
  expose<EmbeddingForward>(env, exports, "embeddingForward");
  expose<EmbeddingBackward>(env, exports, "embeddingBackward");
  expose<LayernormForward>(env, exports, "layernormForward");
  expose<LayernormBackward>(env, exports, "layernormBackward");
  expose<RmsnormForward>(env, exports, "rmsnormForward");
  expose<RmsnormBackward>(env, exports, "rmsnormBackward");
  expose<SoftmaxForward>(env, exports, "softmaxForward");
  expose<SoftmaxBackward>(env, exports, "softmaxBackward");
  expose<AttentionForward>(env, exports, "attentionForward");
  expose<AttentionBackward>(env, exports, "attentionBackward");
  expose<DropoutForward>(env, exports, "dropoutForward");
  expose<DropoutBackward>(env, exports, "dropoutBackward");
}

}  // namespace troupe
