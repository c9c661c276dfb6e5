// The optimized kernels built with -mavx512f -mavx512bw -mavx512vl -mavx512dq (x86-64 only;
// selected at run time).
#if defined(__x86_64__) && defined(__AVX512F__)
#define TROUPE_VW 16
#define TROUPE_ISA_NAME avx512
#define TROUPE_ISA_LABEL "avx512"
#include "../fast/all.inc"

namespace troupe {
const Kernels* avx512_kernels() { return &avx512::table(); }
}  // namespace troupe
#else
#include "../core/kernels.h"
namespace troupe {
const Kernels* avx512_kernels() { return nullptr; }
}  // namespace troupe
#endif
