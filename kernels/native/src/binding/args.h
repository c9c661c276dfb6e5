// Argument helpers for the thin binding: arity and types only. The TypeScript wrappers validate
// shapes with friendly messages before calling; these checks only keep a direct caller from
// crashing the process (a buffer shorter than the sizes say is a RangeError, not a segfault).
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>

#include "../core/runtime.h"

namespace troupe {

struct Addon {
  Runtime runtime;
};

class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* op, size_t arity) : info_(info), op_(op) {
    if (info.Length() != arity)
      fail<Napi::TypeError>("expected " + std::to_string(arity) + " arguments, got " +
                            std::to_string(info.Length()));
  }

  Runtime& runtime() const { return info_.Env().GetInstanceData<Addon>()->runtime; }
  Ctx& ctx() const { return runtime().ctx(); }
  Napi::Env env() const { return info_.Env(); }

  float* f32(size_t i, int64_t need) const { return array<float>(i, need, napi_float32_array, "Float32Array", false); }
  float* f32_or_null(size_t i, int64_t need) const { return array<float>(i, need, napi_float32_array, "Float32Array", true); }
  int32_t* i32(size_t i, int64_t need) const { return array<int32_t>(i, need, napi_int32_array, "Int32Array", false); }
  int32_t* i32_or_null(size_t i, int64_t need) const { return array<int32_t>(i, need, napi_int32_array, "Int32Array", true); }
  uint16_t* u16(size_t i, int64_t need) const { return array<uint16_t>(i, need, napi_uint16_array, "Uint16Array", false); }

  double num(size_t i) const {
    if (!info_[i].IsNumber()) fail<Napi::TypeError>(arg(i) + " must be a number");
    return info_[i].As<Napi::Number>().DoubleValue();
  }
  // a non-negative integer below 2^53
  int64_t size(size_t i) const {
    double v = num(i);
    if (!(v >= 0.0 && v <= 9007199254740991.0) || v != static_cast<double>(static_cast<int64_t>(v)))
      fail<Napi::RangeError>(arg(i) + " must be a non-negative integer");
    return static_cast<int64_t>(v);
  }
  int dim(size_t i) const {
    int64_t v = size(i);
    if (v > 2147483647) fail<Napi::RangeError>(arg(i) + " is too large");
    return static_cast<int>(v);
  }
  bool flag(size_t i) const {
    if (!info_[i].IsBoolean()) fail<Napi::TypeError>(arg(i) + " must be a boolean");
    return info_[i].As<Napi::Boolean>().Value();
  }
  // a small array of non-negative integers (shapes, strides)
  int ints(size_t i, int64_t* out, int max) const {
    if (!info_[i].IsArray()) fail<Napi::TypeError>(arg(i) + " must be an array");
    Napi::Array a = info_[i].As<Napi::Array>();
    if (a.Length() > static_cast<uint32_t>(max)) fail<Napi::RangeError>(arg(i) + " is too long");
    for (uint32_t k = 0; k < a.Length(); k++) {
      Napi::Value v = a.Get(k);
      if (!v.IsNumber()) fail<Napi::TypeError>(arg(i) + " must hold numbers");
      out[k] = v.As<Napi::Number>().Int64Value();
      if (out[k] < 0) fail<Napi::RangeError>(arg(i) + " must hold non-negative integers");
    }
    return static_cast<int>(a.Length());
  }
  void check(bool ok, const std::string& what) const {
    if (!ok) fail<Napi::RangeError>(what);
  }

 private:
  std::string arg(size_t i) const { return "argument " + std::to_string(i); }

  template <class E>
  [[noreturn]] void fail(const std::string& msg) const {
    throw E::New(info_.Env(), std::string("troupe native ") + op_ + ": " + msg);
  }

  template <class T>
  T* array(size_t i, int64_t need, napi_typedarray_type type, const char* name, bool nullable) const {
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
    return static_cast<T*>(data);
  }

  const Napi::CallbackInfo& info_;
  const char* op_;
};

using Exports = Napi::Object;
void register_linalg(Napi::Env env, Exports exports);
void register_nn(Napi::Env env, Exports exports);
void register_loss(Napi::Env env, Exports exports);
void register_misc(Napi::Env env, Exports exports);

}  // namespace troupe
