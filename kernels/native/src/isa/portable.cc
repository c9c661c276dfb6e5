// The optimized kernels built for the baseline instruction set (SSE2 on x86-64, NEON on arm64).
#define TROUPE_VW 4
#define TROUPE_ISA_NAME portable
#define TROUPE_ISA_LABEL "portable"
#include "../fast/all.inc"

namespace troupe {
const Kernels& portable_kernels() { return portable::table(); }
}  // namespace troupe
