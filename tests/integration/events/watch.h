#pragma once
// Helpers for the events integration tests: waiting for a daemon log line
// (inotify, no polling) and a background child whose stdout is read line by
// line (ctr events).
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "pkg/fd.h"

namespace mcd::itest {

// Follows a growing file from its current end.
class LogWatch {
 public:
  explicit LogWatch(const std::string& path);
  // True once a line containing `needle` (with at_end: ending with it) was
  // appended after construction (or after the previous match); false at the
  // deadline.
  bool WaitFor(const std::string& needle, std::chrono::seconds timeout, bool at_end = false);

 private:
  std::string path_;
  UniqueFd inotify_;
  off_t offset_ = 0;
  std::string pending_;  // read but not yet matched
};

// A child process with stdout on a pipe; killed (SIGKILL) and reaped at the end.
class Background {
 public:
  explicit Background(const std::vector<std::string>& argv);
  ~Background();
  // The next stdout line, or nullopt at EOF or the deadline.
  std::optional<std::string> ReadLine(std::chrono::seconds timeout);
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  UniqueFd out_;
  std::string buf_;
};

}  // namespace mcd::itest
