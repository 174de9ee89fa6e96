#pragma once
// Integration harness: a minicontainerd on a temporary root/state/socket and
// the real ctr pointed at it.
#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "pkg/process.h"

namespace mcd::itest {

// A temporary directory, traversable (0711), removed (mounts first) at the end.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class Daemon {
 public:
  struct Options {
    std::vector<std::string> extra_args = {};  // e.g. {"--config", path}
    std::string config_toml = {};              // written to <dir>/config.toml and passed when set
    // The daemon to run, found on PATH; empty: this project's. "containerd"
    // runs the real one (same flags, same boot line) for side-by-side checks.
    std::string binary = {};
  };
  // Uses `dir` for root/, state/ and the socket; the same dir restarts on
  // the same root.
  explicit Daemon(const std::string& dir, Options opts);
  explicit Daemon(const std::string& dir) : Daemon(dir, Options{}) {}
  ~Daemon();

  // Starts and waits until the daemon logs that it booted; throws with the
  // log when it exits first.
  void Start();
  // Starts and expects failure: returns the exit code and fills `log`.
  int StartExpectFailure(std::string* log);
  // SIGTERM and wait; returns the exit code.
  int Stop();
  // SIGKILL and wait (a crash).
  void Kill();
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  const std::string& socket() const { return socket_; }
  std::string root() const { return dir_ + "/root"; }
  std::string state() const { return dir_ + "/state"; }
  std::string log_path() const { return dir_ + "/daemon.log"; }
  // Where ctr and the Go test clients make their IO FIFOs for this daemon
  // (instead of the host's /run/containerd/fifo): removed with the dir.
  std::string fifo_dir() const { return dir_ + "/fifo"; }
  std::string Log() const;

 private:
  std::vector<std::string> Argv() const;
  std::string dir_;
  Options opts_;
  std::string socket_;
  pid_t pid_ = -1;
};

// `ctr -a <socket> [-n ns] args...` with a timeout; the result keeps output.
// The commands that make IO FIFOs (run, task start, task exec) get
// `--fifo-dir d.fifo_dir()` unless args already name one: a client killed
// or a task never removed leaves its FIFOs in the test's dir, not the host's.
process::Result Ctr(const Daemon& d, const std::vector<std::string>& args,
                    const std::string& ns = "default", const std::string& stdin_data = "");

// Runs a command (argv[0] on PATH).
process::Result Sh(const std::vector<std::string>& argv, const std::string& stdin_data = "");

// Makes a btrfs filesystem in a sparse image under `dir` and mounts it at
// <dir>/btrfs, which it returns (a loop device, freed with the unmount that
// the TempDir holding `dir` does at its end).
std::string MountBtrfs(const std::string& dir);

// Fails the test loudly when a tool or kernel feature the tests need is missing.
void Require(const std::string& tool);

// Builds the Go program in `src_dir` into `out` against Debian's containerd
// 1.6.20 client sources, offline (GOPATH mode).
process::Result BuildGo(const std::string& src_dir, const std::string& out);

// The same for a Go test package: `go test -c`, so containerd's own test
// suites (snapshots/testsuite, content/testsuite) can run against the daemon.
process::Result BuildGoTest(const std::string& src_dir, const std::string& out);

// The outcome of every test and subtest in `go test -test.v` output, by full
// name ("TestX/Sub" -> "PASS", "FAIL" or "SKIP").
std::map<std::string, std::string> GoTestOutcomes(const std::string& out);

}  // namespace mcd::itest
