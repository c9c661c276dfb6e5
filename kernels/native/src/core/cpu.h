// What the CPU can run, detected at run time. Pure C++.
#pragma once

namespace troupe {

struct CpuFeatures {
  bool x86 = false;
  bool f16c = false;    // half-precision conversions (x86)
  bool avx2 = false;    // with FMA and F16C
  bool avx512 = false;  // F, BW, VL, DQ (and everything avx2 needs)
  bool neon = false;
};

// The instruction-set extensions one by one, as the CPU (and the OS, for the AVX state)
// reports them on x86.
struct X86Flags {
  bool avx2 = false, fma = false, f16c = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false;
};

// Which kernel sets the flags allow: avx2 needs AVX2, FMA and F16C; avx512 needs all of those
// and F, BW, VL, DQ.
CpuFeatures x86_features(const X86Flags& flags);

CpuFeatures detect_cpu();

// Seconds on a monotonic clock (compiled once, for the instruction-set builds to share).
double monotonic_seconds();

}  // namespace troupe
