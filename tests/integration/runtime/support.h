#pragma once
// Helpers for the runtime integration tests: a live `ctr events` reader,
// the shim processes that belong to a daemon, and what a daemon may have
// left behind (shims, mounts, bundles, sockets).
#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "tests/integration/support/harness.h"

namespace mcd::itest::rt {

// `ctr events` running in the background, subscribed once constructed;
// lines are read as they come.
class EventWatcher {
 public:
  explicit EventWatcher(const Daemon& d);
  ~EventWatcher();
  // Blocks (poll on the pipe, no sleeping) until a line containing every
  // needle arrives; false after `timeout`. Lines seen are kept.
  bool WaitFor(const std::vector<std::string>& needles,
               std::chrono::seconds timeout = std::chrono::seconds(60));
  const std::string& seen() const { return seen_; }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string buf_, seen_;
  size_t scanned_ = 0;
};

// Pids of processes whose command line mentions `needle` (e.g. the socket
// a daemon gave its shims as -address), excluding `except`.
std::vector<pid_t> ProcessesMentioning(const std::string& needle, pid_t except = -1);
// Pids of the shim serving task `id` of this daemon.
std::vector<pid_t> ShimPids(const Daemon& d, const std::string& id);

// Waits (pidfd, no polling) up to `timeout` for the processes mentioning
// `needle` to exit; returns those still running.
std::vector<pid_t> AwaitExit(const std::string& needle, pid_t except = -1,
                             std::chrono::seconds timeout = std::chrono::seconds(20));

// Everything a daemon's tasks may leave behind, described (empty = clean),
// once the background end of their deletes had a bounded time to finish.
std::vector<std::string> Leftovers(const Daemon& d);

// Writes the busybox test image, named `name`, as a tarball under `dir` and
// imports it with ctr; a failure fails the calling test (ASSERT_NO_FATAL_FAILURE).
void ImportBusybox(const Daemon& d, const std::string& dir, const std::string& name);

// Runs argv with a pty as stdin/stdout via script(1); returns its output.
process::Result RunWithPty(const std::string& command);

}  // namespace mcd::itest::rt
