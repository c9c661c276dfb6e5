// Thin binding for the compression kernels (src/compress): ggml Q8_0/Q4_0 blocks and the fused
// distillation loss. Arity and types only; the TypeScript wrappers in kernels/quant and
// kernels/ops/distill.ts validate shapes first. The reference kernel mode runs compress::ref,
// every other mode compress::fast.
// Legend: N rows, V classes, K teacher entries per row, n element count (multiple of 32).
#include "compress.h"

#include "../compress/compress.h"
#include "args.h"

namespace troupe {
namespace {

using Info = Napi::CallbackInfo;

bool use_ref(const Args& a) { return a.ctx().k == &reference_kernels(); }

uint8_t* u8(const Info& info, const Args& a, size_t i, int64_t need) {
  Napi::Value v = info[i];
  a.check(v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array,
          "argument " + std::to_string(i) + " must be a Uint8Array");
  Napi::TypedArray t = v.As<Napi::TypedArray>();
  a.check(static_cast<int64_t>(t.ElementLength()) >= need,
          "argument " + std::to_string(i) + " holds " + std::to_string(t.ElementLength()) +
              " bytes, the sizes need " + std::to_string(need));
  return static_cast<uint8_t*>(t.ArrayBuffer().Data()) + t.ByteOffset();
}

int64_t blocks(const Args& a, size_t i) {
  int64_t n = a.size(i);
  a.check(n % compress::kBlock == 0, "n must be a multiple of 32");
  return n;
}

int64_t dlen(int64_t rows, int64_t stride) { return stride == 0 ? 1 : (rows - 1) * stride + 1; }

// quantizeQ80(out, x, n) / quantizeQ40(out, x, n)
template <int kBytes>
Napi::Value Quantize(const Info& info) {
  Args a(info, kBytes == compress::kQ8Bytes ? "quantizeQ80" : "quantizeQ40", 3);
  int64_t n = blocks(a, 2);
  uint8_t* out = u8(info, a, 0, n / compress::kBlock * kBytes);
  const float* x = a.f32(1, n);
  if (kBytes == compress::kQ8Bytes) (use_ref(a) ? compress::ref::quantize_q8_0 : compress::fast::quantize_q8_0)(a.ctx(), out, x, n);
  else (use_ref(a) ? compress::ref::quantize_q4_0 : compress::fast::quantize_q4_0)(a.ctx(), out, x, n);
  return info.Env().Undefined();
}

// dequantizeQ80(out, q, n) / dequantizeQ40(out, q, n)
template <int kBytes>
Napi::Value Dequantize(const Info& info) {
  Args a(info, kBytes == compress::kQ8Bytes ? "dequantizeQ80" : "dequantizeQ40", 3);
  int64_t n = blocks(a, 2);
  float* out = a.out(0, n);
  const uint8_t* q = u8(info, a, 1, n / compress::kBlock * kBytes);
  if (kBytes == compress::kQ8Bytes) (use_ref(a) ? compress::ref::dequantize_q8_0 : compress::fast::dequantize_q8_0)(a.ctx(), out, q, n);
  else (use_ref(a) ? compress::ref::dequantize_q4_0 : compress::fast::dequantize_q4_0)(a.ctx(), out, q, n);
  return info.Env().Undefined();
}

compress::KdArgs kd_args(const Args& a, size_t i) {
  compress::KdArgs k{static_cast<float>(a.num(i)), static_cast<float>(a.num(i + 1)),
                     static_cast<int32_t>(a.num(i + 2))};
  a.check(k.temperature > 0.0f, "temperature must be positive");
  return k;
}

// kdForward(losses, saved, student, teacher, targets|null, N, V, T, alpha, ignoreIndex)
Napi::Value KdForward(const Info& info) {
  Args a(info, "kdForward", 10);
  int64_t N = a.size(5);
  int V = a.dim(6);
  auto k = kd_args(a, 7);
  (use_ref(a) ? compress::ref::kd_forward : compress::fast::kd_forward)(
      a.ctx(), a.out(0, N), a.out(1, 3 * N), a.f32(2, N * V), a.f32(3, N * V), a.i32_or_null(4, N), N, V, k);
  return info.Env().Undefined();
}

// kdBackward(dstudent, dlosses, dstride, scale, student, teacher, saved, targets|null, N, V, T, alpha, ignoreIndex)
Napi::Value KdBackward(const Info& info) {
  Args a(info, "kdBackward", 13);
  int64_t N = a.size(8), stride = a.size(2);
  int V = a.dim(9);
  auto k = kd_args(a, 10);
  (use_ref(a) ? compress::ref::kd_backward : compress::fast::kd_backward)(
      a.ctx(), a.out(0, N * V), a.f32(1, N ? dlen(N, stride) : 0), stride, static_cast<float>(a.num(3)),
      a.f32(4, N * V), a.f32(5, N * V), a.f32(6, 3 * N), a.i32_or_null(7, N), N, V, k);
  return info.Env().Undefined();
}

// kdTopkForward(losses, saved, student, tidx, tval, targets|null, N, V, K, T, alpha, ignoreIndex)
Napi::Value KdTopkForward(const Info& info) {
  Args a(info, "kdTopkForward", 12);
  int64_t N = a.size(6);
  int V = a.dim(7), K = a.dim(8);
  auto k = kd_args(a, 9);
  (use_ref(a) ? compress::ref::kd_topk_forward : compress::fast::kd_topk_forward)(
      a.ctx(), a.out(0, N), a.out(1, 3 * N), a.f32(2, N * V), a.i32(3, N * K), a.f32(4, N * K),
      a.i32_or_null(5, N), N, V, K, k);
  return info.Env().Undefined();
}

// kdTopkBackward(dstudent, dlosses, dstride, scale, student, tidx, tval, saved, targets|null, N, V, K, T, alpha, ignoreIndex)
Napi::Value KdTopkBackward(const Info& info) {
  Args a(info, "kdTopkBackward", 15);
  int64_t N = a.size(9), stride = a.size(2);
  int V = a.dim(10), K = a.dim(11);
  auto k = kd_args(a, 12);
  (use_ref(a) ? compress::ref::kd_topk_backward : compress::fast::kd_topk_backward)(
      a.ctx(), a.out(0, N * V), a.f32(1, N ? dlen(N, stride) : 0), stride, static_cast<float>(a.num(3)),
      a.f32(4, N * V), a.i32(5, N * K), a.f32(6, N * K), a.f32(7, 3 * N), a.i32_or_null(8, N), N, V, K, k);
  return info.Env().Undefined();
}

}  // namespace

void register_compress(Napi::Env env, Napi::Object exports) {
  exports.Set("quantizeQ80", Napi::Function::New(env, Quantize<compress::kQ8Bytes>, "quantizeQ80"));
  exports.Set("quantizeQ40", Napi::Function::New(env, Quantize<compress::kQ4Bytes>, "quantizeQ40"));
  exports.Set("dequantizeQ80", Napi::Function::New(env, Dequantize<compress::kQ8Bytes>, "dequantizeQ80"));
  exports.Set("dequantizeQ40", Napi::Function::New(env, Dequantize<compress::kQ4Bytes>, "dequantizeQ40"));
  exports.Set("kdForward", Napi::Function::New(env, KdForward, "kdForward"));
  exports.Set("kdBackward", Napi::Function::New(env, KdBackward, "kdBackward"));
  exports.Set("kdTopkForward", Napi::Function::New(env, KdTopkForward, "kdTopkForward"));
  exports.Set("kdTopkBackward", Napi::Function::New(env, KdTopkBackward, "kdTopkBackward"));
}

}  // namespace troupe
