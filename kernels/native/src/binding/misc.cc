// Thin binding: optimizer updates, dtype conversions, runtime configuration and probes.
// Legend: n element count.
#include "../ops/gemm.h"
#include "args.h"

namespace troupe {
namespace {

using Info = Napi::CallbackInfo;

// adamStep(param, m, v, grad, n, lr, beta1, beta2, eps, weightDecay, step, decoupled)
Napi::Value AdamStep(const Info& info) {
  Args a(info, "adamStep", 12);
  int64_t n = a.size(4);
  AdamArgs s{a.num(5), a.num(6), a.num(7), a.num(8), a.num(9), a.size(10), a.flag(11)};
  a.check(s.step >= 1, "step must be >= 1");
  a.ctx().k->adam_step(a.ctx(), a.out(0, n), a.out(1, n), a.out(2, n), a.f32(3, n), n, s);
  return info.Env().Undefined();
}

// sgdStep(param, buf|null, grad, n, lr, momentum, dampening, weightDecay, nesterov, first)
Napi::Value SgdStep(const Info& info) {
  Args a(info, "sgdStep", 10);
  int64_t n = a.size(3);
  SgdArgs s{a.num(4), a.num(5), a.num(6), a.num(7), a.flag(8), a.flag(9)};
  float* buf = a.out_or_null(1, n);
  a.check(buf != nullptr || s.momentum == 0.0, "momentum needs a buffer");
  a.ctx().k->sgd_step(a.ctx(), a.out(0, n), buf, a.f32(2, n), n, s);
  return info.Env().Undefined();
}

// f32ToF16(out, inp, n) and friends
Napi::Value F32ToF16(const Info& info) {
  Args a(info, "f32ToF16", 3);
  int64_t n = a.size(2);
  a.ctx().k->f32_to_f16(a.ctx(), a.out_u16(0, n), a.f32(1, n), n);
  return info.Env().Undefined();
}
Napi::Value F16ToF32(const Info& info) {
  Args a(info, "f16ToF32", 3);
  int64_t n = a.size(2);
  a.ctx().k->f16_to_f32(a.ctx(), a.out(0, n), a.u16(1, n), n);
  return info.Env().Undefined();
}
Napi::Value F32ToBf16(const Info& info) {
  Args a(info, "f32ToBf16", 3);
  int64_t n = a.size(2);
  a.ctx().k->f32_to_bf16(a.ctx(), a.out_u16(0, n), a.f32(1, n), n);
  return info.Env().Undefined();
}
Napi::Value Bf16ToF32(const Info& info) {
  Args a(info, "bf16ToF32", 3);
  int64_t n = a.size(2);
  a.ctx().k->bf16_to_f32(a.ctx(), a.out(0, n), a.u16(1, n), n);
  return info.Env().Undefined();
}

// fmaPeak(seconds) -> GFLOP/s of the selected kernels on all pool threads
Napi::Value FmaPeak(const Info& info) {
  Args a(info, "fmaPeak", 1);
  double seconds = a.num(0);
  a.check(seconds > 0.0 && seconds <= 10.0, "seconds must be in (0, 10]");
  return Napi::Number::New(info.Env(), a.ctx().k->fma_peak(a.ctx(), seconds));
}

// configure(mode, blas, threads) -> boolean (false: mode unknown or not supported by this CPU)
// blas: 0 off, 1 auto (when its kernels are at least as wide as ours), 2 force
Napi::Value Configure(const Info& info) {
  Args a(info, "configure", 3);
  if (!info[0].IsString()) throw Napi::TypeError::New(info.Env(), "troupe native configure: mode must be a string");
  std::string mode = info[0].As<Napi::String>().Utf8Value();
  int blas = a.dim(1);
  a.check(blas <= kBlasForce, "blas must be 0, 1 or 2");
  bool ok = a.runtime().configure(mode, blas, a.dim(2));
  return Napi::Boolean::New(info.Env(), ok);
}

// info() -> { kernels, mode, blas, blasAvailable, blasSetting, blasCore, threads, cpu }
Napi::Value InfoFn(const Info& info) {
  Args a(info, "info", 0);
  Runtime& rt = a.runtime();
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("kernels", rt.ctx().k->name);
  o.Set("mode", rt.mode());
  o.Set("blas", rt.ctx().blas ? Napi::Value(Napi::String::New(env, blas_name())) : env.Null());
  o.Set("blasAvailable", blas_name() ? Napi::Value(Napi::String::New(env, blas_name())) : env.Null());
  o.Set("blasSetting", rt.blas_setting());
  o.Set("blasCore", blas_core());
  o.Set("threads", rt.threads());
  Napi::Object cpu = Napi::Object::New(env);
  cpu.Set("avx2", rt.cpu().avx2);
  cpu.Set("avx512", rt.cpu().avx512);
  cpu.Set("neon", rt.cpu().neon);
  cpu.Set("f16c", rt.cpu().f16c);
  o.Set("cpu", cpu);
  return o;
}

// debugPoisonScratch(): fill the pool's scratch memory with NaN (tests)
Napi::Value DebugPoisonScratch(const Info& info) {
  Args a(info, "debugPoisonScratch", 0);
  a.runtime().poison_scratch();
  return info.Env().Undefined();
}

// debugScratchLimit(bytes): releases the scratch held now; scratch memory past this many bytes
// in total then fails as if the system refused it; 0 lifts the limit (tests of the
// allocation-failure path)
Napi::Value DebugScratchLimit(const Info& info) {
  Args a(info, "debugScratchLimit", 1);
  a.runtime().set_scratch_limit(static_cast<size_t>(a.size(0)));
  return info.Env().Undefined();
}

// debugX86Features(flags) -> { avx2, avx512, f16c }: which kernel sets these CPU flags allow
// (tests of the feature rules, e.g. no avx2 kernels without F16C)
Napi::Value DebugX86Features(const Info& info) {
  Args a(info, "debugX86Features", 1);
  if (!info[0].IsObject()) throw Napi::TypeError::New(info.Env(), "troupe native debugX86Features: flags must be an object");
  Napi::Object in = info[0].As<Napi::Object>();
  auto get = [&](const char* k) { return in.Get(k).ToBoolean().Value(); };
  X86Flags x;
  x.avx2 = get("avx2");
  x.fma = get("fma");
  x.f16c = get("f16c");
  x.avx512f = get("avx512f");
  x.avx512bw = get("avx512bw");
  x.avx512vl = get("avx512vl");
  x.avx512dq = get("avx512dq");
  CpuFeatures f = x86_features(x);
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("avx2", f.avx2);
  o.Set("avx512", f.avx512);
  o.Set("f16c", f.f16c);
  return o;
}

// setErrorClasses({ allocation }): the JS class thrown for allocation failures, constructed
// as new allocation(message, bytes) (the loader passes KernelAllocationError)
Napi::Value SetErrorClasses(const Info& info) {
  Args a(info, "setErrorClasses", 1);
  if (!info[0].IsObject()) throw Napi::TypeError::New(info.Env(), "troupe native setErrorClasses: expected an object");
  Napi::Value allocation = info[0].As<Napi::Object>().Get("allocation");
  if (!allocation.IsFunction()) throw Napi::TypeError::New(info.Env(), "troupe native setErrorClasses: allocation must be a class");
  info.Env().GetInstanceData<Addon>()->allocation_error = Napi::Persistent(allocation.As<Napi::Function>());
  return info.Env().Undefined();
}

}  // namespace

void register_misc(Napi::Env env, Exports exports) {
  expose<AdamStep>(env, exports, "adamStep");
  expose<SgdStep>(env, exports, "sgdStep");
  expose<F32ToF16>(env, exports, "f32ToF16");
  expose<F16ToF32>(env, exports, "f16ToF32");
  expose<F32ToBf16>(env, exports, "f32ToBf16");
  expose<Bf16ToF32>(env, exports, "bf16ToF32");
  expose<FmaPeak>(env, exports, "fmaPeak");
  expose<Configure>(env, exports, "configure");
  expose<InfoFn>(env, exports, "info");
  expose<DebugPoisonScratch>(env, exports, "debugPoisonScratch");
  expose<DebugScratchLimit>(env, exports, "debugScratchLimit");
  expose<DebugX86Features>(env, exports, "debugX86Features");
  expose<SetErrorClasses>(env, exports, "setErrorClasses");
}

}  // namespace troupe
