// One runtime per addon instance: the thread pool, the chosen kernel table and the BLAS
// switch. No process-wide state: each worker thread that loads the addon gets its own.
#pragma once
#include <memory>
#include <string>

#include "cpu.h"
#include "kernels.h"
#include "pool.h"

namespace troupe {

constexpr int kBlasOff = 0, kBlasAuto = 1, kBlasForce = 2;

class Runtime {
 public:
  Runtime();
  // mode: "auto" | "avx512" | "avx2" | "portable" | "reference"; returns false (and changes
  // nothing) when the mode is unknown or the CPU cannot run it. threads <= 0 keeps the count.
  // blas: kBlasOff, kBlasAuto (when its kernels are at least as wide as ours), kBlasForce.
  bool configure(const std::string& mode, int blas, int threads);
  void shutdown();
  void poison_scratch() { pool_->poison_scratch(); }
  // Tests: releases the scratch held now; scratch memory past this many bytes then fails as if
  // the system refused it (0: no limit).
  void set_scratch_limit(size_t bytes) {
    scratch_limit_ = bytes;
    pool_->set_scratch_limit(bytes);
  }

  Ctx& ctx() { return ctx_; }
  const std::string& mode() const { return mode_; }
  const CpuFeatures& cpu() const { return cpu_; }
  int blas_setting() const { return blas_setting_; }
  int threads() const { return pool_ ? pool_->size() : 0; }

 private:
  const Kernels* pick(const std::string& mode) const;
  bool use_blas(int setting, const std::string& mode, const Kernels* k) const;

  CpuFeatures cpu_;
  std::unique_ptr<Pool> pool_;
  std::string mode_ = "auto";
  int blas_setting_ = 1;
  size_t scratch_limit_ = 0;
  Ctx ctx_{};
};

int default_threads();

}  // namespace troupe
