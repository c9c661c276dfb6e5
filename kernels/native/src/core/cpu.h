// What the CPU can run, detected at run time. Pure C++.
#pragma once

namespace troupe {

struct CpuFeatures {
  bool x86 = false;
  bool avx2 = false;    // with FMA and F16C
  bool avx512 = false;  // F, BW, VL, DQ
  bool neon = false;
};

CpuFeatures detect_cpu();

// Seconds on a monotonic clock (compiled once, for the instruction-set builds to share).
double monotonic_seconds();

}  // namespace troupe
