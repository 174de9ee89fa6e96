// process::Run: the child gets exactly stdio, its cwd, its environment and
// its own process group; output, exit codes and signals come back.
#include "pkg/process.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <unistd.h>

#include <csignal>
#include <sstream>
#include <vector>

#include "pkg/errdefs.h"
#include "pkg/fd.h"

namespace mcd::process {
namespace {

Result Sh(const std::string& script, Options o = {}) {
  o.argv = {"/bin/sh", "-c", script};
  return process::Run(o);
}

TEST(Process, CapturesStdoutAndStderrSeparately) {
  auto r = Sh("echo out; echo err >&2");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
}

TEST(Process, MergesStderrWhenAsked) {
  Options o;
  o.merge_stderr = true;
  auto r = Sh("echo out; echo err >&2", o);
  EXPECT_EQ(r.out, "out\nerr\n");
  EXPECT_EQ(r.err, "");
}

TEST(Process, FeedsStdin) {
  Options o;
  o.stdin_data = std::string(200000, 'x');  // more than a pipe holds
  auto r = Sh("wc -c", o);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(std::stoul(r.out), 200000u);
}

TEST(Process, ExitCodeAndSignal) {
  EXPECT_EQ(Sh("exit 7").exit_code, 7);
  auto r = Sh("kill -TERM $$");
  EXPECT_EQ(r.exit_code, -1);
  EXPECT_EQ(r.term_signal, SIGTERM);
}

TEST(Process, CwdEnvAndProcessGroup) {
  Options o;
  o.cwd = "/tmp";
  o.extra_env = {"MCD_PROCESS_TEST=yes"};
  o.new_process_group = true;
  auto r = Sh("pwd; echo $MCD_PROCESS_TEST; ps -o pgid= -p $$; echo $$", o);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream in(r.out);
  std::string cwd, env, pgid, pid;
  in >> cwd >> env >> pgid >> pid;
  EXPECT_EQ(cwd, "/tmp");
  EXPECT_EQ(env, "yes");
  EXPECT_EQ(pgid, pid);  // its own group: the daemon's signals do not reach it
}

TEST(Process, OnlyStdioCrossesExec) {
  UniqueFd fd(::open("/dev/null", O_RDONLY));  // no O_CLOEXEC on purpose
  ASSERT_TRUE(fd);
  auto r = Sh("ls /proc/self/fd");
  ASSERT_EQ(r.exit_code, 0);
  // 0, 1, 2 and the fd ls opened to list the directory.
  std::istringstream in(r.out);
  std::vector<int> fds;
  for (int f; in >> f;) fds.push_back(f);
  ASSERT_EQ(fds.size(), 4u) << r.out;
  EXPECT_EQ(fds[0], 0);
  EXPECT_EQ(fds[1], 1);
  EXPECT_EQ(fds[2], 2);
}

TEST(Process, SignalMaskIsClearedInTheChild) {
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &block, &old), 0);
  auto r = Sh("kill -TERM $$; exit 3");
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  EXPECT_EQ(r.term_signal, SIGTERM);
}

TEST(Process, TimeoutKills) {
  Options o;
  o.timeout = std::chrono::milliseconds(100);
  auto r = Sh("exec sleep 10", o);
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.term_signal, SIGKILL);
}

TEST(Process, StartFailuresThrow) {
  Options o;
  o.argv = {"mcd-no-such-binary"};
  EXPECT_THROW(process::Run(o), errdefs::Error);
  o.argv = {"/bin/true"};
  o.cwd = "/nonexistent/dir";
  EXPECT_THROW(process::Run(o), errdefs::Error);
}

// containerd quotes Go's wording of how a shim's start command ended.
TEST(Process, DescribeAsGo) {
  EXPECT_EQ(Describe(Sh("exit 3")), "exit status 3");
  EXPECT_EQ(Describe(Sh("exit 0")), "exit status 0");
  EXPECT_EQ(Describe(Sh("kill -SEGV $$")), "signal: segmentation fault");
  EXPECT_EQ(Describe(Sh("kill -KILL $$")), "signal: killed");
  EXPECT_EQ(Describe(Sh("kill -TERM $$")), "signal: terminated");
  Result rt;
  rt.term_signal = 40;  // a real-time signal has no name
  EXPECT_EQ(Describe(rt), "signal: signal 40");
}

}  // namespace
}  // namespace mcd::process
