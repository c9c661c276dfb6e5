// A persistent thread pool: the caller thread plus (threads - 1) workers created once per
// addon instance. Pure C++ (no N-API). Tasks are indices [0, ntasks); each task must write a
// disjoint part of the output and compute it in a fixed order, so results do not depend on
// which thread ran which task (deterministic regardless of scheduling).
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace troupe {

using TaskFn = void (*)(void* ctx, int64_t task, int thread);

class Pool {
 public:
  explicit Pool(int threads);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  int size() const { return threads_; }
  // Runs fn(ctx, task, thread) for every task in [0, ntasks) and returns when all are done.
  // Re-entrant calls (from inside a task) run inline on the calling thread.
  void run(int64_t ntasks, TaskFn fn, void* ctx);
  // Per-thread scratch memory (64-byte aligned, grown on demand, kept across calls); slot
  // size() is a shared buffer for the calling thread, used between parallel phases.
  float* scratch(int thread, size_t floats);
  // Stops and joins the workers (idempotent); run() then executes inline.
  void stop();
  // Fills every scratch buffer with NaN (tests: kernels must never read scratch they did not write).
  void poison_scratch();

 private:
  void worker(int index);
  void drain(TaskFn fn, void* ctx, int64_t ntasks, int thread);

  int threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_;
  // The current job; generation_ changes when a new job is published.
  TaskFn fn_ = nullptr;
  void* ctx_ = nullptr;
  int64_t ntasks_ = 0;
  std::atomic<int64_t> next_{0};
  std::atomic<int64_t> finished_{0};
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> active_{0};  // workers currently inside drain()
  std::atomic<bool> busy_{false};
  bool stopping_ = false;
  struct Scratch {
    float* ptr = nullptr;
    size_t floats = 0;
  };
  std::vector<Scratch> scratch_;
};

// Runs f(task, thread) over [0, ntasks) on the pool; f is any callable.
template <class F>
inline void parallel_tasks(Pool& pool, int64_t ntasks, F& f) {
  pool.run(
      ntasks, [](void* c, int64_t task, int thread) { (*static_cast<F*>(c))(task, thread); }, &f);
}

}  // namespace troupe
