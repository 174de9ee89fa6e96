#include "pkg/serial_queue.h"

#include <algorithm>

#include "pkg/log.h"

namespace mcd {

SerialQueue::~SerialQueue() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SerialQueue::Post(std::function<void()> job) {
  bool was_empty;
  {
    std::lock_guard lk(mu_);
    was_empty = jobs_.empty();
    last_post_ = Clock::now();
    if (was_empty) first_post_ = last_post_;
    jobs_.push_back(std::move(job));
    if (!thread_.joinable()) thread_ = std::thread([this] { Run(); });
  }
  // A thread holding jobs wakes at its deadline and looks again: only an
  // idle one needs waking.
  if (was_empty) work_cv_.notify_one();
}

void SerialQueue::Drain() {
  std::unique_lock lk(mu_);
  ++draining_;
  work_cv_.notify_one();
  idle_cv_.wait(lk, [&] { return jobs_.empty() && !running_; });
  --draining_;
}

bool SerialQueue::Hold() const {
  if (stop_ || draining_ > 0 || quiet_ == Duration::zero()) return false;
  return Clock::now() < std::min(last_post_ + quiet_, first_post_ + max_wait_);
}

void SerialQueue::Run() {
  std::unique_lock lk(mu_);
  for (;;) {
    if (jobs_.empty()) {
      if (stop_) return;
      work_cv_.wait(lk);
      continue;
    }
    if (Hold()) {
      work_cv_.wait_until(lk, std::min(last_post_ + quiet_, first_post_ + max_wait_));
      continue;
    }
    auto job = std::move(jobs_.front());
    jobs_.pop_front();
    running_ = true;
    lk.unlock();
    try {
      job();
    } catch (const std::exception& e) {
      log::Warn("background job failed", {{"error", e.what()}});
    }
    lk.lock();
    running_ = false;
    if (jobs_.empty()) idle_cv_.notify_all();
  }
}

}  // namespace mcd
