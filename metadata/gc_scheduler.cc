#include "metadata/gc_scheduler.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "pkg/errdefs.h"
#include "pkg/log.h"

namespace mcd::metadata::gc {

std::chrono::nanoseconds ParseDuration(std::string_view text) {
  auto bad = [&] {
    return errdefs::InvalidArgument(fmt::format("time: invalid duration {:?}", text));
  };
  std::string_view s = text;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return std::chrono::nanoseconds(0);
  if (s.empty()) throw bad();
  long double total = 0;
  while (!s.empty()) {
    size_t i = 0;
    long double v = 0;
    bool digits = false;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      v = v * 10 + (s[i++] - '0');
      digits = true;
    }
    if (i < s.size() && s[i] == '.') {
      ++i;
      long double scale = 0.1L;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
        v += (s[i++] - '0') * scale;
        scale /= 10;
        digits = true;
      }
    }
    if (!digits) throw bad();
    size_t u = i;
    while (u < s.size() && !std::isdigit(static_cast<unsigned char>(s[u])) && s[u] != '.') ++u;
    std::string_view unit = s.substr(i, u - i);
    long double mult;
    if (unit == "ns")
      mult = 1;
    else if (unit == "us" || unit == "\u00b5s" || unit == "\u03bcs")
      mult = 1e3L;
    else if (unit == "ms")
      mult = 1e6L;
    else if (unit == "s")
      mult = 1e9L;
    else if (unit == "m")
      mult = 60e9L;
    else if (unit == "h")
      mult = 3600e9L;
    else
      throw bad();
    total += v * mult;
    s.remove_prefix(u);
  }
  // Go's bounds: int64 nanoseconds, one more when negative.
  constexpr long double kMax = 9223372036854775807.0L;
  if (total > kMax + (neg ? 1 : 0)) throw bad();
  if (neg && total > kMax) return std::chrono::nanoseconds::min();
  auto ns = static_cast<int64_t>(std::llround(total));
  return std::chrono::nanoseconds(neg ? -ns : ns);
}

std::string FormatDuration(std::chrono::nanoseconds d) {
  int64_t n = d.count();
  if (n == 0) return "0s";
  std::string sign = n < 0 ? "-" : "";
  uint64_t u = n < 0 ? 0 - static_cast<uint64_t>(n) : static_cast<uint64_t>(n);  // INT64_MIN too
  // Trailing zeros of a fraction are dropped, as Go does.
  auto frac = [](uint64_t v, uint64_t unit) {
    std::string s = std::to_string(v / unit);
    uint64_t rem = v % unit;
    if (rem) {
      std::string f = std::to_string(unit + rem).substr(1);
      while (!f.empty() && f.back() == '0') f.pop_back();
      s += "." + f;
    }
    return s;
  };
  if (u < 1000) return sign + std::to_string(u) + "ns";
  if (u < 1000000) return sign + frac(u, 1000) + "\u00b5s";
  if (u < 1000000000) return sign + frac(u, 1000000) + "ms";
  uint64_t secs_total = u / 1000000000;
  uint64_t h = secs_total / 3600, m = (secs_total / 60) % 60;
  std::string sec = frac(u % 60000000000ULL, 1000000000) + "s";
  if (h) return sign + std::to_string(h) + "h" + std::to_string(m) + "m" + sec;
  if (m) return sign + std::to_string(m) + "m" + sec;
  return sign + sec;
}

namespace {
// t + d without overflow: a configured delay of centuries is "never".
std::chrono::steady_clock::time_point After(std::chrono::steady_clock::time_point t,
                                            std::chrono::nanoseconds d) {
  if (d > std::chrono::steady_clock::time_point::max() - t)
    return std::chrono::steady_clock::time_point::max();
  return t + d;
}
}  // namespace

Scheduler::Scheduler(std::shared_ptr<DB> db, SchedulerConfig cfg) : db_(std::move(db)), cfg_(cfg) {
  // containerd's bounds.
  cfg_.pause_threshold = std::clamp(cfg_.pause_threshold, 0.0, 0.5);
  cfg_.mutation_threshold = std::max(cfg_.mutation_threshold, 0);
  cfg_.schedule_delay = std::max(cfg_.schedule_delay, std::chrono::nanoseconds(0));
  cfg_.startup_delay = std::max(cfg_.startup_delay, std::chrono::nanoseconds(0));
  if (cfg_.startup_delay.count() > 0) next_ = After(Clock::now(), cfg_.startup_delay);
}

std::shared_ptr<Scheduler> Scheduler::Start(std::shared_ptr<DB> db, SchedulerConfig cfg) {
  auto s = std::make_shared<Scheduler>(db, cfg);
  // The DB may outlive the scheduler: the hook holds it weakly.
  std::weak_ptr<Scheduler> weak = s;
  db->OnMutation([weak](bool deletion) {
    if (auto self = weak.lock()) self->OnMutation(deletion);
  });
  s->thread_ = std::thread([raw = s.get()] { raw->Run(); });
  return s;
}

Scheduler::~Scheduler() {
  Close();
}

void Scheduler::Close() {
  {
    std::lock_guard lk(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  done_cv_.notify_all();
  if (thread_.joinable()) {
    // The last reference may drop on the scheduler's own thread.
    if (thread_.get_id() == std::this_thread::get_id())
      thread_.detach();
    else
      thread_.join();
  }
}

uint64_t Scheduler::collections() const {
  std::lock_guard lk(mu_);
  return collections_;
}

void Scheduler::ScheduleLocked(Clock::time_point at) {
  if (!next_ || *next_ > at) {
    next_ = at;
    cv_.notify_all();
  }
}

void Scheduler::OnMutation(bool deletion) {
  // The collector's own sweep is not a reason to collect again.
  if (Collector::InCollection()) return;
  std::lock_guard lk(mu_);
  if (stop_) return;
  if (deletion) ++deletions_;
  ++mutations_;
  auto now = Clock::now();
  if (cfg_.deletion_threshold > 0 && deletions_ >= cfg_.deletion_threshold) {
    ScheduleLocked(After(now, cfg_.schedule_delay));
    return;
  }
  // Otherwise a deletion (threshold 0) or enough mutations make the next
  // interval's collection due: one interval after the last collection.
  bool due = (cfg_.deletion_threshold == 0 && deletions_ > 0) ||
             (cfg_.mutation_threshold > 0 && mutations_ >= cfg_.mutation_threshold);
  if (due) {
    auto at = last_ ? *last_ + interval_ : After(now, cfg_.schedule_delay);
    ScheduleLocked(std::max(at, now));
  }
}

Stats Scheduler::ScheduleAndWait() {
  std::unique_lock lk(mu_);
  if (stop_) throw errdefs::Unavailable("garbage collector stopped");
  uint64_t target = collections_ + 1;
  // A collection already running may have marked before our caller's
  // change: wait for one that starts after this call.
  if (running_) ++target;
  triggered_ = true;
  ScheduleLocked(After(Clock::now(), cfg_.schedule_delay));
  done_cv_.wait(lk, [&] { return stop_ || collections_ >= target; });
  if (collections_ < target) throw errdefs::Unavailable("garbage collector stopped");
  if (last_failed_) throw errdefs::Internal("gc failed");
  return *last_stats_;
}

void Scheduler::Run() {
  std::unique_lock lk(mu_);
  while (!stop_) {
    if (!next_) {
      cv_.wait(lk);
      continue;
    }
    if (Clock::now() < *next_) {
      cv_.wait_until(lk, *next_);
      continue;
    }
    next_.reset();
    running_ = true;
    lk.unlock();
    std::optional<Stats> stats;
    try {
      stats = db_->collector().Collect();
    } catch (const std::exception& e) {
      log::Error("garbage collection failed", {{"error", e.what()}});
    }
    lk.lock();
    running_ = false;
    auto now = Clock::now();
    last_ = now;
    ++collections_;
    last_failed_ = !stats;
    if (stats) {
      log::Debug("garbage collected", {{"d", FormatDuration(stats->elapsed)}});
      last_stats_ = *stats;
      gc_time_ += stats->elapsed;
      ++successes_;
      triggered_ = false;
      deletions_ = 0;
      mutations_ = 0;
      if (cfg_.pause_threshold > 0) {
        double avg = static_cast<double>(gc_time_.count()) / static_cast<double>(successes_);
        interval_ =
            std::chrono::nanoseconds(static_cast<int64_t>(avg / cfg_.pause_threshold - avg));
      }
    } else {
      // As containerd: try again a second later than planned.
      next_ = now + interval_ + std::chrono::seconds(1);
    }
    done_cv_.notify_all();
  }
}

namespace {

SchedulerConfig ConfigFrom(const toml::table& t) {
  SchedulerConfig c;
  c.pause_threshold = t["pause_threshold"].value<double>().value_or(c.pause_threshold);
  c.deletion_threshold =
      static_cast<int>(t["deletion_threshold"].value<int64_t>().value_or(c.deletion_threshold));
  c.mutation_threshold =
      static_cast<int>(t["mutation_threshold"].value<int64_t>().value_or(c.mutation_threshold));
  if (auto v = t["schedule_delay"].value<std::string>()) c.schedule_delay = ParseDuration(*v);
  if (auto v = t["startup_delay"].value<std::string>()) c.startup_delay = ParseDuration(*v);
  return c;
}

plugin::Registrar reg{{
    .type = plugin::kGC,
    .id = "scheduler",
    .requires_ = {plugin::kMetadata},
    .config = toml::table{{"pause_threshold", 0.02},
                          {"deletion_threshold", 0},
                          {"mutation_threshold", 100},
                          {"schedule_delay", "0ms"},
                          {"startup_delay", "100ms"}},
    .init = [](plugin::InitContext& ic) -> std::shared_ptr<plugin::Instance> {
      auto cfg = ConfigFrom(ic.config);
      auto s = Scheduler::Start(ic.GetAs<DB>(plugin::kMetadata), cfg);
      auto& ex = ic.exports();
      ex["PauseThreshold"] = fmt::format("{}", s->config().pause_threshold);
      ex["DeletionThreshold"] = std::to_string(s->config().deletion_threshold);
      ex["MutationThreshold"] = std::to_string(s->config().mutation_threshold);
      ex["ScheduleDelay"] = FormatDuration(s->config().schedule_delay);
      return s;
    },
}};

}  // namespace
}  // namespace mcd::metadata::gc
