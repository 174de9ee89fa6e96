#pragma once
// Threads for jobs that may block (durable writes, calls to a shim, file
// trees), kept off threads that must stay responsive, such as gRPC's callback
// threads, which are also its I/O pollers. A thread is added whenever a job
// finds none idle, so a slow job never holds up another; a thread idle for
// idle_exit ends.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>

namespace mcd {

class BlockingPool {
 public:
  // Starts a detached thread running fn; throws std::system_error when none
  // can be had. Replaceable for tests.
  using ThreadStarter = std::function<void(std::function<void()> fn)>;
  static void StartDetached(std::function<void()> fn);

  explicit BlockingPool(std::chrono::milliseconds idle_exit = std::chrono::minutes(1),
                        ThreadStarter start = StartDetached)
      : idle_exit_(idle_exit), start_(std::move(start)) {}
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;
  // Runs what is queued, then waits for every thread to end.
  ~BlockingPool();

  // The process's pool. Never destroyed: a job still blocked when the
  // process exits must not hold the exit.
  static BlockingPool& Default();

  // A job that throws is logged; the thread goes on. When no thread can be
  // started (the process's limit), a running thread takes the job once it is
  // free; with none running, throws Unavailable and the job is not kept.
  void Post(std::function<void()> job);

  size_t threads() const;
  // Threads waiting for a job.
  size_t idle() const;

 private:
  void Run();

  const std::chrono::milliseconds idle_exit_;
  const ThreadStarter start_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable gone_cv_;
  std::deque<std::function<void()>> jobs_;
  size_t threads_ = 0;
  size_t idle_ = 0;
  bool stop_ = false;
};

}  // namespace mcd
