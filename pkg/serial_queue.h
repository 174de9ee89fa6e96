#pragma once
// Jobs a caller need not wait for, run one at a time in the order posted, on
// a thread of the queue's own that starts with the first job. A queue made
// with a quiet period holds its jobs while posts keep coming (so a burst of
// requests is not slowed by its own clean-up) and runs them once posting
// pauses for that long, or once the oldest has waited max_wait.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace mcd {

class SerialQueue {
 public:
  using Duration = std::chrono::steady_clock::duration;

  SerialQueue() = default;
  SerialQueue(Duration quiet, Duration max_wait) : quiet_(quiet), max_wait_(max_wait) {}
  SerialQueue(const SerialQueue&) = delete;
  SerialQueue& operator=(const SerialQueue&) = delete;
  // Runs what is still queued, then joins.
  ~SerialQueue();

  // A job that throws is logged and the queue goes on.
  void Post(std::function<void()> job);
  // Runs every job posted before the call now, and returns once they ran.
  void Drain();

 private:
  using Clock = std::chrono::steady_clock;
  void Run();
  bool Hold() const;  // with mu_ held: whether the quiet period still runs

  const Duration quiet_{};
  const Duration max_wait_{};
  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable idle_cv_;
  std::deque<std::function<void()>> jobs_;
  Clock::time_point first_post_;  // when the queue last became non-empty
  Clock::time_point last_post_;
  int draining_ = 0;
  bool running_ = false;  // a job is being run outside the lock
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace mcd
