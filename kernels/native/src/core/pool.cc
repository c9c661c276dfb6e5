#include "pool.h"

#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#include <immintrin.h>
static inline void cpu_relax() { _mm_pause(); }
#elif defined(__aarch64__)
static inline void cpu_relax() { __asm__ __volatile__("yield"); }
#else
static inline void cpu_relax() {}
#endif

namespace troupe {

// Spin this many rounds before sleeping: ops run back to back, so a short spin saves the
// wake-up latency, while the bound keeps idle workers off a shared CPU.
static constexpr int kSpinRounds = 4000;

Pool::Pool(int threads) : threads_(threads < 1 ? 1 : threads), scratch_(threads_ + 1) {
  for (int i = 1; i < threads_; i++) workers_.emplace_back([this, i] { worker(i); });
}

Pool::~Pool() {
  stop();
  for (auto& s : scratch_) std::free(s.ptr);
}

void Pool::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

void Pool::drain(TaskFn fn, void* ctx, int64_t ntasks, int thread) {
  for (;;) {
    int64_t task = next_.fetch_add(1, std::memory_order_relaxed);
    if (task >= ntasks) break;
    fn(ctx, task, thread);
    finished_.fetch_add(1, std::memory_order_release);
  }
}

void Pool::worker(int index) {
  uint64_t seen = 0;
  for (;;) {
    uint64_t gen = generation_.load(std::memory_order_acquire);
    for (int i = 0; gen == seen && i < kSpinRounds; i++) {
      cpu_relax();
      gen = generation_.load(std::memory_order_acquire);
    }
    TaskFn fn;
    void* ctx;
    int64_t ntasks;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return generation_.load() != seen || stopping_; });
      if (stopping_) return;
      // A consistent snapshot of the job: run() rewrites these only while active_ == 0.
      seen = generation_.load();
      fn = fn_;
      ctx = ctx_;
      ntasks = ntasks_;
      active_.fetch_add(1, std::memory_order_acq_rel);
    }
    drain(fn, ctx, ntasks, index);
    active_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

void Pool::run(int64_t ntasks, TaskFn fn, void* ctx) {
  if (ntasks <= 0) return;
  bool expected = false;
  if (ntasks == 1 || workers_.empty() || !busy_.compare_exchange_strong(expected, true)) {
    for (int64_t t = 0; t < ntasks; t++) fn(ctx, t, 0);
    return;
  }
  {
    std::unique_lock<std::mutex> lock(mu_);
    // Workers still inside the previous job (woken late, finding no task) must leave first.
    while (active_.load(std::memory_order_acquire) != 0) {
      lock.unlock();
      cpu_relax();
      lock.lock();
    }
    fn_ = fn;
    ctx_ = ctx;
    ntasks_ = ntasks;
    finished_.store(0, std::memory_order_relaxed);
    next_.store(0, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }
  wake_.notify_all();
  drain(fn, ctx, ntasks, 0);
  for (int i = 0; finished_.load(std::memory_order_acquire) < ntasks; i++) {
    if (i < kSpinRounds) cpu_relax();
    else std::this_thread::yield();  // a worker was descheduled: give the core back
  }
  busy_.store(false, std::memory_order_release);
}

void Pool::poison_scratch() {
  for (auto& s : scratch_)
    for (size_t i = 0; i < s.floats; i++) s.ptr[i] = __builtin_nanf("");
}

float* Pool::scratch(int thread, size_t floats) {
  Scratch& s = scratch_[thread];
  if (s.floats < floats) {
    std::free(s.ptr);
    size_t bytes = ((floats * sizeof(float)) + 63) / 64 * 64;
    s.ptr = static_cast<float*>(std::aligned_alloc(64, bytes));
    s.floats = s.ptr ? floats : 0;
  }
  return s.ptr;
}

}  // namespace troupe
