#include "pkg/blocking_pool.h"

#include <system_error>
#include <thread>

#include "pkg/errdefs.h"
#include "pkg/log.h"

namespace mcd {

BlockingPool& BlockingPool::Default() {
  static auto* pool = new BlockingPool();
  return *pool;
}

BlockingPool::~BlockingPool() {
  std::unique_lock lk(mu_);
  stop_ = true;
  work_cv_.notify_all();
  gone_cv_.wait(lk, [&] { return threads_ == 0; });
}

void BlockingPool::Post(std::function<void()> job) {
  std::lock_guard lk(mu_);
  jobs_.push_back(std::move(job));
  // Each idle thread takes one job: more jobs than idle threads need a new
  // thread, or the newest would wait for a running one.
  if (jobs_.size() <= idle_) {
    work_cv_.notify_one();
    return;
  }
  try {
    // The new thread waits for mu_, held here, before it counts anything.
    start_([this] { Run(); });
    ++threads_;
  } catch (const std::system_error& e) {
    if (threads_ > 0) {
      log::Warn("cannot start a thread: the job waits for a busy one", {{"error", e.what()}});
      return;
    }
    jobs_.pop_back();
    throw errdefs::Unavailable(std::string("cannot start a thread: ") + e.what());
  }
}

void BlockingPool::StartDetached(std::function<void()> fn) {
  std::thread(std::move(fn)).detach();
}

size_t BlockingPool::threads() const {
  std::lock_guard lk(mu_);
  return threads_;
}

size_t BlockingPool::idle() const {
  std::lock_guard lk(mu_);
  return idle_;
}

void BlockingPool::Run() {
  std::unique_lock lk(mu_);
  for (;;) {
    if (jobs_.empty()) {
      if (stop_) break;
      ++idle_;
      bool woken = work_cv_.wait_for(lk, idle_exit_, [&] { return stop_ || !jobs_.empty(); });
      --idle_;
      if (!woken) break;
      continue;
    }
    auto job = std::move(jobs_.front());
    jobs_.pop_front();
    lk.unlock();
    try {
      job();
    } catch (const std::exception& e) {
      log::Warn("blocking job failed", {{"error", e.what()}});
    }
    job = nullptr;  // its captures go before the pool may
    lk.lock();
  }
  // Nothing of the pool is touched once the lock is released: the destructor
  // may run from then on.
  --threads_;
  gone_cv_.notify_all();
}

}  // namespace mcd
