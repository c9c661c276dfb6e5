#include "cpu.h"

#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace troupe {

CpuFeatures x86_features(const X86Flags& x) {
  CpuFeatures f;
  f.x86 = true;
  f.f16c = x.f16c;
  f.avx2 = x.avx2 && x.fma && x.f16c;
  f.avx512 = f.avx2 && x.avx512f && x.avx512bw && x.avx512vl && x.avx512dq;
  return f;
}

#if defined(__x86_64__) || defined(__i386__)
// F16C is CPUID.1:ECX bit 29 (not every compiler's __builtin_cpu_supports knows it). The avx2
// kernels convert f16 with it, and a CPU or a hypervisor may offer AVX2 and FMA without it.
static bool cpuid_f16c() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
  return (ecx & (1u << 29)) != 0;
}
#endif

CpuFeatures detect_cpu() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  X86Flags x;
  x.avx2 = __builtin_cpu_supports("avx2");  // false unless the OS saves the AVX state
  x.fma = __builtin_cpu_supports("fma");
  x.f16c = cpuid_f16c();
  x.avx512f = __builtin_cpu_supports("avx512f");
  x.avx512bw = __builtin_cpu_supports("avx512bw");
  x.avx512vl = __builtin_cpu_supports("avx512vl");
  x.avx512dq = __builtin_cpu_supports("avx512dq");
  return x86_features(x);
#else
  CpuFeatures f;
#if defined(__aarch64__)
  f.neon = true;
#endif
  return f;
#endif
}

double monotonic_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace troupe
