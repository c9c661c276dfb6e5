// A persistent thread pool: the caller thread plus (threads - 1) workers created once per
// addon instance. Pure C++ (no N-API). Tasks are indices [0, ntasks); each task must write a
// disjoint part of the output and compute it in a fixed order, so results do not depend on
// which thread ran which task (deterministic regardless of scheduling).
//
// Waiting: workers and the caller spin briefly (ops run back to back), then block on a
// condition variable, so a pool with more threads than the CPUs it may use does not burn the
// core a descheduled thread needs. An exception thrown by a task (an allocation failure, say)
// skips the job's remaining tasks and is rethrown by run() on the calling thread.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

namespace troupe {

using TaskFn = void (*)(void* ctx, int64_t task, int thread);

// Memory the kernels asked for could not be had (scratch, or a buffer of a reference kernel).
// The binding turns it into a KernelAllocationError; nothing was written to the outputs when
// it comes from Pool::reserve / Pool::scratch on the calling thread.
class AllocationError : public std::bad_alloc {
 public:
  explicit AllocationError(size_t bytes) : bytes_(bytes) {}
  size_t bytes() const { return bytes_; }
  const char* what() const noexcept override { return "troupe: cannot allocate kernel scratch memory"; }

 private:
  size_t bytes_;
};

class Pool {
 public:
  explicit Pool(int threads);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  int size() const { return threads_; }
  // Runs fn(ctx, task, thread) for every task in [0, ntasks) and returns when all are done.
  // Re-entrant calls (from inside a task) run inline on the calling thread. The first
  // exception a task throws is rethrown here once every thread has left the job.
  void run(int64_t ntasks, TaskFn fn, void* ctx);
  // Per-thread scratch memory (64-byte aligned, grown on demand, kept across calls); slot
  // size() is a shared buffer for the calling thread, used between parallel phases. Throws
  // AllocationError when the memory cannot be had (from inside a task, run() rethrows it);
  // call reserve() first so that tasks never allocate.
  float* scratch(int thread, size_t floats);
  // Grows every worker slot [0, size()) to at least `floats`, on the calling thread, before a
  // parallel job whose tasks call scratch(thread, floats): the tasks then never allocate, and a
  // failure throws here before any output is touched.
  void reserve(size_t floats);
  // Stops and joins the workers (idempotent); run() then executes inline.
  void stop();
  // Fills every scratch buffer with NaN (tests: kernels must never read scratch they did not write).
  void poison_scratch();
  // Tests: releases the scratch held now; growth past this many bytes in total then fails as
  // if the system refused it (0: no limit).
  void set_scratch_limit(size_t bytes);

 private:
  void worker(int index);
  void drain(TaskFn fn, void* ctx, int64_t ntasks, int thread);
  void wake_caller();
  template <class Ready>
  void wait_for(Ready ready);  // spin, then block on done_ until ready()
  void grow(int thread, size_t floats);

  int threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_;  // workers: a new job (or stop)
  std::condition_variable done_;  // the caller: the job's tasks are finished / workers left it
  // The current job; generation_ changes when a new job is published.
  TaskFn fn_ = nullptr;
  void* ctx_ = nullptr;
  int64_t ntasks_ = 0;
  std::atomic<int64_t> next_{0};
  std::atomic<int64_t> finished_{0};
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> active_{0};  // workers currently inside drain()
  std::atomic<bool> busy_{false};
  std::atomic<bool> failed_{false};
  std::atomic<bool> sleeping_{false};  // the caller is blocked (or about to block) on done_
  std::exception_ptr error_;  // the first task exception of the current job (under mu_)
  bool stopping_ = false;
  struct Scratch {
    float* ptr = nullptr;
    size_t floats = 0;
    size_t bytes = 0;
  };
  std::vector<Scratch> scratch_;
  std::atomic<size_t> scratch_bytes_{0};
  std::atomic<size_t> scratch_limit_{0};
};

// Runs f(task, thread) over [0, ntasks) on the pool; f is any callable.
template <class F>
inline void parallel_tasks(Pool& pool, int64_t ntasks, F& f) {
  pool.run(
      ntasks, [](void* c, int64_t task, int thread) { (*static_cast<F*>(c))(task, thread); }, &f);
}

}  // namespace troupe
