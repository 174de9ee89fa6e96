#pragma once
// The io.containerd.gc.v1 "scheduler" plugin: decides when the metadata
// collector runs, with containerd 1.6's configuration and rules
// (gc/scheduler):
//   pause_threshold    0.02   collections take at most this share of time:
//                             the interval after one is avg/threshold - avg
//   deletion_threshold 0      collect at once (after schedule_delay) after
//                             this many deletions; 0 = at the next interval
//                             after any deletion
//   mutation_threshold 100    collect at the next interval after this many
//                             mutations (0 = mutations never trigger)
//   schedule_delay     "0ms"  delay of a triggered collection
//   startup_delay      "100ms" the first collection after start-up
// Woken by DB::OnMutation and by requests; it sleeps with no timer when
// nothing is pending (no polling).
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>

#include "metadata/db.h"
#include "metadata/gc.h"

namespace mcd::metadata::gc {

struct SchedulerConfig {
  double pause_threshold = 0.02;
  int deletion_threshold = 0;
  int mutation_threshold = 100;
  std::chrono::nanoseconds schedule_delay{0};
  std::chrono::nanoseconds startup_delay{std::chrono::milliseconds(100)};
};

// Go's time.ParseDuration ("0ms", "100ms", "1.5s", "1m30s"); InvalidArgument
// when malformed.
std::chrono::nanoseconds ParseDuration(std::string_view text);
// Go's time.Duration.String() ("0s", "100ms", "1.5s", "1m0s").
std::string FormatDuration(std::chrono::nanoseconds d);

class Scheduler : public plugin::Instance, public std::enable_shared_from_this<Scheduler> {
 public:
  // Starts the scheduler thread and hooks DB::OnMutation.
  static std::shared_ptr<Scheduler> Start(std::shared_ptr<DB> db, SchedulerConfig cfg);
  Scheduler(std::shared_ptr<DB> db, SchedulerConfig cfg);  // use Start()
  ~Scheduler() override;
  void Close() override;

  // Runs a collection (after schedule_delay) and waits for it: images and
  // leases Delete with sync. Throws when the collection failed.
  Stats ScheduleAndWait();

  const SchedulerConfig& config() const { return cfg_; }
  uint64_t collections() const;

 private:
  using Clock = std::chrono::steady_clock;
  void OnMutation(bool deletion);
  void Run();
  void ScheduleLocked(Clock::time_point at);

  std::shared_ptr<DB> db_;
  SchedulerConfig cfg_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable done_cv_;
  bool stop_ = false;
  bool triggered_ = false;
  int deletions_ = 0;
  int mutations_ = 0;
  std::optional<Clock::time_point> next_;
  std::optional<Clock::time_point> last_;
  std::chrono::nanoseconds interval_{std::chrono::seconds(1)};
  std::chrono::nanoseconds gc_time_{0};
  uint64_t collections_ = 0;  // completed, successful or not
  uint64_t successes_ = 0;
  bool running_ = false;
  bool last_failed_ = false;
  std::optional<Stats> last_stats_;
  std::thread thread_;
};

}  // namespace mcd::metadata::gc
