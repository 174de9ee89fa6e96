#pragma once
// Counted background jobs of a runtime (dead-shim cleanups, delete tails):
// blocking work kept off the io threads that the runtime's Close must still
// wait for. Shared by the v2 TaskManager and the v1 runtime. The count lives
// under the owner's mutex and its end is signalled on the owner's condition
// variable, so the owner's other waits on that variable keep their wake-ups.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace mcd::runtime {

class BackgroundJobs {
 public:
  BackgroundJobs(std::mutex& mu, std::condition_variable& cv) : mu_(mu), cv_(cv) {}

  // Runs fn on a detached thread; keep (the owner) lives until the thread
  // ends, so the owner, this object included, outlives its jobs. Takes mu.
  void Run(std::shared_ptr<void> keep, std::function<void()> fn) {
    {
      std::lock_guard lk(mu_);
      ++count_;
    }
    std::thread([this, keep = std::move(keep), fn = std::move(fn)] {
      fn();
      {
        std::lock_guard lk(mu_);
        --count_;
      }
      cv_.notify_all();
    }).detach();
  }

  // Jobs still running; the caller holds mu.
  size_t Pending() const { return count_; }

  // Waits, lk holding mu, until no job runs or the timeout passes.
  template <class Rep, class Period>
  void WaitIdle(std::unique_lock<std::mutex>& lk, std::chrono::duration<Rep, Period> timeout) {
    cv_.wait_for(lk, timeout, [&] { return count_ == 0; });
  }

 private:
  std::mutex& mu_;
  std::condition_variable& cv_;
  size_t count_ = 0;
};

}  // namespace mcd::runtime
