#pragma once
// Running a child process to completion: argv, environment, cwd, stdin bytes,
// captured stdout/stderr. Used for shim start/delete and by tests to run ctr.
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace mcd::process {

struct Options {
  std::vector<std::string> argv;                     // argv[0] is looked up on PATH
  std::vector<std::string> extra_env;                // "K=V" over the inherited environment
  std::string cwd;                                   // empty: inherit
  std::string stdin_data;                            // written then closed
  bool merge_stderr = false;                         // stderr into stdout, as CombinedOutput
  bool new_process_group = false;                    // setpgid(0, 0)
  std::optional<std::chrono::milliseconds> timeout;  // SIGKILL after this
};

struct Result {
  int exit_code = -1;  // -1 when killed by a signal
  int term_signal = 0;
  bool timed_out = false;
  std::string out;
  std::string err;
};

// Throws errdefs errors when the process cannot be started.
Result Run(const Options& opts);

// Starting a child without waiting for it (Run's first half, and the v1
// shim's start): the child's fd i is fds[i] (-1: /dev/null), every fd above
// them is closed, signal mask and handlers are reset.
struct SpawnOptions {
  std::string exe;  // a path: no PATH lookup here
  std::vector<std::string> argv;
  std::vector<std::string> extra_env;  // "K=V" over the inherited environment
  std::string cwd;                     // empty: inherit
  bool new_process_group = false;      // setpgid(0, 0)
  std::vector<int> fds;                // the child's 0, 1, 2, ...
};
// 0 and the child's pid, or posix_spawn's errno (the caller words the error:
// containerd's callers each say it their way). Setup failures throw.
int Spawn(const SpawnOptions& opts, pid_t* pid);

// How the process ended, worded as Go's os.ProcessState: "exit status 3",
// "signal: killed". containerd puts it in its errors.
std::string Describe(const Result& r);

// PATH lookup as exec does; empty when not found.
std::string LookPath(const std::string& name);

}  // namespace mcd::process
