// The optimized kernels built with -mavx2 -mfma -mf16c (x86-64 only; selected at run time).
#if defined(__x86_64__) && defined(__AVX2__)
#define TROUPE_VW 8
#define TROUPE_ISA_NAME avx2
#define TROUPE_ISA_LABEL "avx2"
#include "../fast/all.inc"

namespace troupe {
const Kernels* avx2_kernels() { return &avx2::table(); }
}  // namespace troupe
#else
#include "../core/kernels.h"
namespace troupe {
const Kernels* avx2_kernels() { return nullptr; }
}  // namespace troupe
#endif
