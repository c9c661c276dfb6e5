// Thin binding of the Llama-family ops (core/model_kernels.h): rotary embeddings, the SwiGLU
// gate, grouped-query attention. Arity, types, checked sizes, buffer lengths and aliasing
// (binding/args.h); kernels/ops validates shapes with friendly messages first.
// Legend: N rows, H heads, KV key/value heads, hs head size, P table positions, B batch,
// Tq/Tk query/key rows, n elements.
#include "../core/model_kernels.h"
#include "args.h"

namespace troupe {
namespace {

using Info = Napi::CallbackInfo;

const ModelKernels& mk(const Args& a) { return *a.ctx().k->model; }

// ropeForward(out, inp, pos, cos, sin, N, H, hs, P)
Napi::Value RopeForward(const Info& info) {
  Args a(info, "ropeForward", 9);
  int64_t N = a.size(5);
  int H = a.dim(6), hs = a.dim(7), P = a.dim(8);
  a.check(hs % 2 == 0, "hs must be even");
  const int64_t n = a.count({N, H, hs}), table = a.count({P, hs / 2});
  mk(a).rope_forward(a.ctx(), a.out(0, n), a.f32(1, n), a.i32(2, N), a.f32(3, table), a.f32(4, table), N, H, hs);
  return info.Env().Undefined();
}

// ropeBackward(dinp, dout, pos, cos, sin, N, H, hs, P)
Napi::Value RopeBackward(const Info& info) {
  Args a(info, "ropeBackward", 9);
  int64_t N = a.size(5);
  int H = a.dim(6), hs = a.dim(7), P = a.dim(8);
  a.check(hs % 2 == 0, "hs must be even");
  const int64_t n = a.count({N, H, hs}), table = a.count({P, hs / 2});
  mk(a).rope_backward(a.ctx(), a.out(0, n), a.f32(1, n), a.i32(2, N), a.f32(3, table), a.f32(4, table), N, H, hs);
  return info.Env().Undefined();
}

// swigluForward(out, gate, up, n)
Napi::Value SwigluForward(const Info& info) {
  Args a(info, "swigluForward", 4);
  int64_t n = a.size(3);
  mk(a).swiglu_forward(a.ctx(), a.out(0, n), a.f32(1, n), a.f32(2, n), n);
  return info.Env().Undefined();
}

// swigluBackward(dgate|null, dup|null, dout, gate, up, n)
Napi::Value SwigluBackward(const Info& info) {
  Args a(info, "swigluBackward", 6);
  int64_t n = a.size(5);
  mk(a).swiglu_backward(a.ctx(), a.out_or_null(0, n), a.out_or_null(1, n), a.f32(2, n), a.f32(3, n), a.f32(4, n), n);
  return info.Env().Undefined();
}

// gqaForward(out, lse, q, k, v, start|null, B, Tq, Tk, H, KV, hs, kvBatchStride)
Napi::Value GqaForward(const Info& info) {
  Args a(info, "gqaForward", 13);
  int B = a.dim(6), Tq = a.dim(7), Tk = a.dim(8), H = a.dim(9), KV = a.dim(10), hs = a.dim(11);
  int64_t bs = a.size(12);
  a.check(KV > 0 && H % KV == 0, "H must be a multiple of KV");
  a.check(Tq <= Tk, "Tq must not exceed Tk");
  const int64_t row = a.count({Tk, KV, hs});
  a.check(bs >= row, "the key/value batch stride is shorter than Tk rows");
  const int64_t nq = a.count({B, Tq, H, hs});
  const int64_t nkv = B == 0 ? 0 : a.sum({a.count({B - 1, bs}), row});
  const int32_t* start = a.i32_or_null(5, B);
  if (start)
    for (int b = 0; b < B; b++) a.check(start[b] >= 0 && start[b] <= Tk, "start must be in [0, Tk]");
  mk(a).gqa_forward(a.ctx(), a.out(0, nq), a.out(1, a.count({B, H, Tq})), a.f32(2, nq), a.f32(3, nkv),
                    a.f32(4, nkv), start, B, Tq, Tk, H, KV, hs, bs);
  return info.Env().Undefined();
}

// gqaBackward(dq, dk, dv, dout, q, k, v, lse, B, T, H, KV, hs)
Napi::Value GqaBackward(const Info& info) {
  Args a(info, "gqaBackward", 13);
  int B = a.dim(8), T = a.dim(9), H = a.dim(10), KV = a.dim(11), hs = a.dim(12);
  a.check(KV > 0 && H % KV == 0, "H must be a multiple of KV");
  const int64_t nq = a.count({B, T, H, hs}), nkv = a.count({B, T, KV, hs});
  mk(a).gqa_backward(a.ctx(), a.out(0, nq), a.out(1, nkv), a.out(2, nkv), a.f32(3, nq), a.f32(4, nq),
                     a.f32(5, nkv), a.f32(6, nkv), a.f32(7, a.count({B, H, T})), B, T, H, KV, hs);
  return info.Env().Undefined();
}

}  // namespace

void register_model(Napi::Env env, Exports exports) {
  expose<RopeForward>(env, exports, "ropeForward");
  expose<RopeBackward>(env, exports, "ropeBackward");
  expose<SwigluForward>(env, exports, "swigluForward");
  expose<SwigluBackward>(env, exports, "swigluBackward");
  expose<GqaForward>(env, exports, "gqaForward");
  expose<GqaBackward>(env, exports, "gqaBackward");
}

}  // namespace troupe
