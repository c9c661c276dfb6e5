// Argument helpers for the thin binding: arity, types, sizes and aliasing. The TypeScript
// wrappers validate shapes with friendly messages before calling; these checks keep a direct
// caller from crashing the process or getting wrong numbers, each failure a JS error naming
// the op ("troupe native gemm: ..."):
//  - a buffer shorter than the sizes say is a RangeError, not a segfault;
//  - sizes are non-negative integers below 2^53 (size(), ints()); every product or sum of them
//    goes through count() / sum() / extent(), which refuse a result past 2^53 - 1 with a
//    RangeError instead of wrapping to a small number that would pass the length check;
//  - an output (out(), out_or_null()) that overlaps another argument in the same memory is a
//    RangeError (in-place elementwise bindings may pass an input as the output, exactly);
//  - a function registered with expose<> turns a C++ allocation failure into a
//    KernelAllocationError and any other C++ exception into an Error, never std::terminate.
#pragma once
#include <napi.h>

#include <cstdint>
#include <initializer_list>
#include <new>
#include <string>

#include "../core/runtime.h"

namespace troupe {

struct Addon {
  Runtime runtime;
  // the loader's KernelAllocationError class (setErrorClasses); a plain Error with a code without it
  Napi::FunctionReference allocation_error;
};

// The largest size a binding accepts: above it a double no longer holds every integer, and no
// typed array is that long.
constexpr int64_t kMaxSize = 9007199254740991;  // 2^53 - 1

// Whether an output may be exactly one of the inputs (same start, same length): only for
// elementwise kernels, which read each element before writing it.
enum class InPlace { kNo, kExact };

class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* op, size_t arity, InPlace in_place = InPlace::kNo)
      : info_(info), op_(op), in_place_(in_place) {
    if (info.Length() != arity)
      fail<Napi::TypeError>("expected " + std::to_string(arity) + " arguments, got " +
                            std::to_string(info.Length()));
  }

  Runtime& runtime() const { return info_.Env().GetInstanceData<Addon>()->runtime; }
  Ctx& ctx() const { return runtime().ctx(); }
  Napi::Env env() const { return info_.Env(); }

  // Inputs: read only (they may overlap each other).
  const float* f32(size_t i, int64_t need) const { return array<float>(i, need, napi_float32_array, "Float32Array", false, false); }
  const float* f32_or_null(size_t i, int64_t need) const { return array<float>(i, need, napi_float32_array, "Float32Array", true, false); }
  const int32_t* i32(size_t i, int64_t need) const { return array<int32_t>(i, need, napi_int32_array, "Int32Array", false, false); }
  const int32_t* i32_or_null(size_t i, int64_t need) const { return array<int32_t>(i, need, napi_int32_array, "Int32Array", true, false); }
  const uint16_t* u16(size_t i, int64_t need) const { return array<uint16_t>(i, need, napi_uint16_array, "Uint16Array", false, false); }
  // Outputs (written, or accumulated into): may overlap no other argument.
  float* out(size_t i, int64_t need) const { return array<float>(i, need, napi_float32_array, "Float32Array", false, true); }
  float* out_or_null(size_t i, int64_t need) const { return array<float>(i, need, napi_float32_array, "Float32Array", true, true); }
  int32_t* out_i32(size_t i, int64_t need) const { return array<int32_t>(i, need, napi_int32_array, "Int32Array", false, true); }
  int32_t* out_i32_or_null(size_t i, int64_t need) const { return array<int32_t>(i, need, napi_int32_array, "Int32Array", true, true); }
  uint16_t* out_u16(size_t i, int64_t need) const { return array<uint16_t>(i, need, napi_uint16_array, "Uint16Array", false, true); }

  double num(size_t i) const {
    if (!info_[i].IsNumber()) fail<Napi::TypeError>(arg(i) + " must be a number");
    return info_[i].As<Napi::Number>().DoubleValue();
  }
  // a non-negative integer below 2^53
  int64_t size(size_t i) const { return integer(num(i), arg(i)); }
  int dim(size_t i) const {
    int64_t v = size(i);
    if (v > 2147483647) fail<Napi::RangeError>(arg(i) + " is too large");
    return static_cast<int>(v);
  }
  bool flag(size_t i) const {
    if (!info_[i].IsBoolean()) fail<Napi::TypeError>(arg(i) + " must be a boolean");
    return info_[i].As<Napi::Boolean>().Value();
  }
  // a small array of non-negative integers below 2^53 (shapes, strides)
  int ints(size_t i, int64_t* out, int max) const {
    if (!info_[i].IsArray()) fail<Napi::TypeError>(arg(i) + " must be an array");
    Napi::Array a = info_[i].As<Napi::Array>();
    if (a.Length() > static_cast<uint32_t>(max)) fail<Napi::RangeError>(arg(i) + " is too long");
    for (uint32_t k = 0; k < a.Length(); k++) {
      Napi::Value v = a.Get(k);
      if (!v.IsNumber()) fail<Napi::TypeError>(arg(i) + " must hold numbers");
      out[k] = integer(v.As<Napi::Number>().DoubleValue(), arg(i) + "[" + std::to_string(k) + "]");
    }
    return static_cast<int>(a.Length());
  }
  void check(bool ok, const std::string& what) const {
    if (!ok) fail<Napi::RangeError>(what);
  }

  // Checked size arithmetic: the product / sum of sizes (each in [0, 2^53)), a RangeError when
  // it passes 2^53 - 1. Use them for every element count a binding computes.
  int64_t count(std::initializer_list<int64_t> factors) const {
    int64_t r = 1;
    bool zero = false;
    for (int64_t f : factors) zero = zero || f == 0;
    if (zero) return 0;  // an empty tensor, however large its other sizes
    for (int64_t f : factors)
      if (f < 0 || __builtin_mul_overflow(r, f, &r) || r > kMaxSize) fail<Napi::RangeError>(overflow(factors, " x "));
    return r;
  }
  int64_t sum(std::initializer_list<int64_t> terms) const {
    int64_t r = 0;
    for (int64_t t : terms)
      if (t < 0 || __builtin_add_overflow(r, t, &r) || r > kMaxSize) fail<Napi::RangeError>(overflow(terms, " + "));
    return r;
  }
  // Elements of a strided walk: offset + sum((shape[d] - 1) * strides[d]) + 1, 0 when empty.
  int64_t extent(int rank, const int64_t* shape, const int64_t* strides, int64_t offset) const {
    int64_t hi = offset;
    for (int d = 0; d < rank; d++) {
      if (shape[d] == 0) return 0;
      hi = sum({hi, count({shape[d] - 1, strides[d]})});
    }
    return sum({hi, 1});
  }
  // Elements of a shape.
  int64_t numel(int rank, const int64_t* shape) const {
    int64_t n = 1;
    for (int d = 0; d < rank; d++) n = count({n, shape[d]});
    return n;
  }

 private:
  std::string arg(size_t i) const { return "argument " + std::to_string(i); }

  int64_t integer(double v, const std::string& what) const {
    if (!(v >= 0.0 && v <= static_cast<double>(kMaxSize)) || v != static_cast<double>(static_cast<int64_t>(v)))
      fail<Napi::RangeError>(what + " must be a non-negative integer below 2^53, got " + Napi::Number::New(info_.Env(), v).ToString().Utf8Value());
    return static_cast<int64_t>(v);
  }

  static std::string overflow(std::initializer_list<int64_t> xs, const char* op) {
    std::string s;
    for (int64_t x : xs) s += (s.empty() ? "" : op) + std::to_string(x);
    return "the sizes overflow: " + s + " is beyond 2^53 - 1";
  }

  template <class E>
  [[noreturn]] void fail(const std::string& msg) const {
    throw E::New(info_.Env(), std::string("troupe native ") + op_ + ": " + msg);
  }

  // The byte ranges handed out so far, to refuse an output overlapping another argument.
  struct Range {
    uintptr_t lo, hi;
    size_t index;
    bool output;
  };

  void claim(size_t i, const void* p, int64_t need, size_t elem, bool output) const {
    if (need == 0) return;
    const Range r{reinterpret_cast<uintptr_t>(p), reinterpret_cast<uintptr_t>(p) + static_cast<uintptr_t>(need) * elem, i, output};
    for (int k = 0; k < nranges_; k++) {
      const Range& o = ranges_[k];
      if (!(r.output || o.output) || r.hi <= o.lo || o.hi <= r.lo) continue;
      if (in_place_ == InPlace::kExact && r.lo == o.lo && r.hi == o.hi) continue;
      const Range& w = r.output ? r : o;
      const Range& x = r.output ? o : r;
      fail<Napi::RangeError>(arg(w.index) + " (an output) overlaps " + arg(x.index) +
                             (x.output ? " (an output)" : "") + " in the same memory");
    }
    if (nranges_ < kMaxRanges) ranges_[nranges_++] = r;
  }

  template <class T>
  T* array(size_t i, int64_t need, napi_typedarray_type type, const char* name, bool nullable, bool output) const {
    Napi::Value v = info_[i];
    if (nullable && (v.IsNull() || v.IsUndefined())) return nullptr;
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type)
      fail<Napi::TypeError>(arg(i) + " must be a " + name + (nullable ? " or null" : ""));
    Napi::TypedArray t = v.As<Napi::TypedArray>();
    if (need < 0 || static_cast<int64_t>(t.ElementLength()) < need)
      fail<Napi::RangeError>(arg(i) + " holds " + std::to_string(t.ElementLength()) +
                             " elements, the sizes need " + std::to_string(need));
    // napi_get_typedarray_info's data pointer (already at the first element) also works for
    // views of a SharedArrayBuffer, where t.ArrayBuffer() throws (gradients shared with a
    // worker thread, hosts/thunder)
    void* data = nullptr;
    napi_status st = napi_get_typedarray_info(info_.Env(), v, nullptr, nullptr, &data, nullptr, nullptr);
    if (st != napi_ok) fail<Napi::TypeError>(arg(i) + " could not be read as a " + name);
    if (data == nullptr && t.ElementLength() > 0) fail<Napi::TypeError>(arg(i) + " has no backing store");
    T* p = static_cast<T*>(data);
    claim(i, p, need, sizeof(T), output);
    return p;
  }

  static constexpr int kMaxRanges = 16;
  const Napi::CallbackInfo& info_;
  const char* op_;
  InPlace in_place_;
  mutable Range ranges_[kMaxRanges];
  mutable int nranges_ = 0;
};

// A binding function: Args first, then one call into the kernels.
using Binding = Napi::Value (*)(const Napi::CallbackInfo&);

// Rethrows the C++ exception being handled as a JS error of the op `name` (see expose).
[[noreturn]] void throw_native_failure(Napi::Env env, const char* name);

template <Binding F>
Napi::Value guarded(const Napi::CallbackInfo& info) {
  try {
    return F(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    throw_native_failure(info.Env(), static_cast<const char*>(info.Data()));
  }
}

// exports[name] = F, with a C++ exception out of it (an allocation failure above all) turned
// into a JS error. Every binding is registered this way; name must be a string literal.
template <Binding F>
void expose(Napi::Env env, Napi::Object exports, const char* name) {
  exports.Set(name, Napi::Function::New<guarded<F>>(env, name, const_cast<char*>(name)));
}

using Exports = Napi::Object;
void register_linalg(Napi::Env env, Exports exports);
void register_nn(Napi::Env env, Exports exports);
void register_loss(Napi::Env env, Exports exports);
void register_misc(Napi::Env env, Exports exports);

}  // namespace troupe
