#pragma once
// Helpers for the runtime integration tests: a live `ctr events` reader,
// the shim processes that belong to a daemon, and what a daemon may have
// left behind (shims, mounts, bundles, sockets).
#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <memory>
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

// A command's exit code, stdout and stderr, for assertion messages.
std::string ResultText(const process::Result& r);

// A daemon on a temp dir with the busybox test image imported, once the
// tools the tests need are found; the tasks and containers named in ids_
// are removed after each test. The v1 runtime tests share it.
class BusyboxDaemonTest : public ::testing::Test {
 protected:
  BusyboxDaemonTest(std::vector<std::string> tools, std::string image)
      : tools_(std::move(tools)), image_(std::move(image)) {}
  void SetUp() override;
  void TearDown() override;
  Daemon& d() { return *d_; }

  TempDir dir_;
  std::unique_ptr<Daemon> d_;
  std::vector<std::string> ids_;

 private:
  std::vector<std::string> tools_;
  std::string image_;
};

}  // namespace mcd::itest::rt
