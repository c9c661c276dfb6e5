#include "pool.h"

#include <cstdint>
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

// Spin this many rounds before blocking: ops run back to back, so a short spin saves the
// wake-up latency of the next job (workers) or of the last task (the caller), while the bound
// keeps a waiting thread off a CPU that a descheduled thread of the same job needs.
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
    if (!failed_.load(std::memory_order_relaxed)) {
      try {
        fn(ctx, task, thread);
      } catch (...) {
        // never out of a worker thread (std::terminate): the caller rethrows it
        std::lock_guard<std::mutex> lock(mu_);
        if (!error_) error_ = std::current_exception();
        failed_.store(true, std::memory_order_relaxed);
      }
    }
    if (finished_.fetch_add(1) + 1 == ntasks && thread != 0) wake_caller();
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
    if (active_.fetch_sub(1) == 1) wake_caller();  // run() may wait for the workers to leave
  }
}

// Seq-cst on both sides (the caller stores sleeping_ then reads the counters, a worker changes
// a counter then reads sleeping_): either the caller sees the change and does not block, or
// the worker sees it sleeping and wakes it. The common case, a caller that only spun, costs
// the workers no lock and no syscall.
void Pool::wake_caller() {
  if (!sleeping_.load()) return;
  std::lock_guard<std::mutex> lock(mu_);
  done_.notify_all();
}

template <class Ready>
void Pool::wait_for(Ready ready) {
  for (int i = 0; i < kSpinRounds; i++) {
    if (ready()) return;
    cpu_relax();
  }
  std::unique_lock<std::mutex> lock(mu_);
  sleeping_.store(true);
  done_.wait(lock, ready);
  sleeping_.store(false);
}

void Pool::run(int64_t ntasks, TaskFn fn, void* ctx) {
  if (ntasks <= 0) return;
  bool expected = false;
  if (ntasks == 1 || workers_.empty() || !busy_.compare_exchange_strong(expected, true)) {
    for (int64_t t = 0; t < ntasks; t++) fn(ctx, t, 0);
    return;
  }
  {
    // Workers still inside the previous job (woken late, finding no task) must leave first;
    // they join a job only under mu_, so the check that counts is the one made holding it.
    std::unique_lock<std::mutex> lock(mu_);
    while (active_.load() != 0) {
      lock.unlock();
      wait_for([&] { return active_.load() == 0; });
      lock.lock();
    }
    fn_ = fn;
    ctx_ = ctx;
    ntasks_ = ntasks;
    error_ = nullptr;
    failed_.store(false, std::memory_order_relaxed);
    finished_.store(0, std::memory_order_relaxed);
    next_.store(0, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }
  wake_.notify_all();
  drain(fn, ctx, ntasks, 0);
  // the other threads' last tasks: spin a little, then sleep until the last one is done
  wait_for([&] { return finished_.load() >= ntasks; });
  std::exception_ptr error;
  if (failed_.load()) {  // set before the failing task counted itself finished
    std::lock_guard<std::mutex> lock(mu_);
    error = error_;
    error_ = nullptr;
  }
  busy_.store(false, std::memory_order_release);
  if (error) std::rethrow_exception(error);
}

void Pool::poison_scratch() {
  for (auto& s : scratch_)
    for (size_t i = 0; i < s.floats; i++) s.ptr[i] = __builtin_nanf("");
}

void Pool::grow(int thread, size_t floats) {
  Scratch& s = scratch_[thread];
  if (s.floats >= floats) return;
  constexpr size_t kMaxFloats = (SIZE_MAX - 63) / sizeof(float);
  const size_t bytes = floats > kMaxFloats ? SIZE_MAX : (floats * sizeof(float) + 63) / 64 * 64;
  std::free(s.ptr);
  scratch_bytes_.fetch_sub(s.bytes);
  s = Scratch{};
  const size_t limit = scratch_limit_.load();
  const bool refused = bytes == SIZE_MAX || (limit != 0 && scratch_bytes_.load() + bytes > limit);
  float* p = refused ? nullptr : static_cast<float*>(std::aligned_alloc(64, bytes));
  if (!p) throw AllocationError(bytes);
  s = Scratch{p, floats, bytes};
  scratch_bytes_.fetch_add(bytes);
}

float* Pool::scratch(int thread, size_t floats) {
  grow(thread, floats);
  return scratch_[thread].ptr;
}

void Pool::set_scratch_limit(size_t bytes) {
  for (auto& s : scratch_) {
    std::free(s.ptr);
    s = Scratch{};
  }
  scratch_bytes_ = 0;
  scratch_limit_ = bytes;
}

void Pool::reserve(size_t floats) {
  for (int t = 0; t < threads_; t++) grow(t, floats);
}

}  // namespace troupe
