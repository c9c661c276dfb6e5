#include "runtime.h"

#include <thread>

#if defined(__linux__)
#include <sched.h>
#endif

#include "../ops/gemm.h"

namespace troupe {

// The CPUs this process may run on (its affinity mask: taskset, a container's cpuset), not
// every core of the machine. The loader (load.ts) narrows this further to the cgroup CPU quota.
int default_threads() {
  unsigned n = 0;
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) n = static_cast<unsigned>(CPU_COUNT(&set));
#endif
  if (n == 0) n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n > 64 ? 64 : n);
}

Runtime::Runtime() : cpu_(detect_cpu()) {
  blas_init();
  pool_ = std::make_unique<Pool>(default_threads());
  ctx_.pool = pool_.get();
  ctx_.k = pick("auto");
  ctx_.blas = use_blas(kBlasAuto, "auto", ctx_.k);
}

// The BLAS runs the GEMMs unless it is off, absent, or its kernels use narrower SIMD than our
// own (OpenBLAS pinned to Haswell kernels on an AVX-512 CPU is slower than our AVX-512 GEMM).
// The reference mode never uses it.
bool Runtime::use_blas(int setting, const std::string& mode, const Kernels* k) const {
  if (setting == kBlasOff || blas_name() == nullptr || mode == "reference") return false;
  if (setting == kBlasForce) return true;
  int own = 128;
  if (k == avx512_kernels()) own = 512;
  else if (k == avx2_kernels()) own = 256;
  return blas_simd_bits() >= own;
}

const Kernels* Runtime::pick(const std::string& mode) const {
  if (mode == "reference") return &reference_kernels();
  if (mode == "portable") return &portable_kernels();
  if (mode == "avx2") return cpu_.avx2 ? avx2_kernels() : nullptr;
  if (mode == "avx512") return cpu_.avx512 ? avx512_kernels() : nullptr;
  if (mode == "auto") {
    if (cpu_.avx512 && avx512_kernels()) return avx512_kernels();
    if (cpu_.avx2 && avx2_kernels()) return avx2_kernels();
    return &portable_kernels();
  }
  return nullptr;
}

bool Runtime::configure(const std::string& mode, int blas, int threads) {
  const Kernels* k = pick(mode);
  if (!k) return false;
  if (threads > 0 && threads != pool_->size()) {
    pool_ = std::make_unique<Pool>(threads > 64 ? 64 : threads);
    pool_->set_scratch_limit(scratch_limit_);
    ctx_.pool = pool_.get();
  }
  mode_ = mode;
  blas_setting_ = blas;
  ctx_.k = k;
  ctx_.blas = use_blas(blas, mode, k);
  return true;
}

void Runtime::shutdown() {
  if (pool_) pool_->stop();
}

}  // namespace troupe
