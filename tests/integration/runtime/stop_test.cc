// Stopping the daemon while a client waits on a long-running task: as
// containerd, the daemon exits promptly (the Wait fails with the
// connection), and the task keeps running for the next daemon.
// (containerd's integration/client TestDaemonRestart hung here for the
// length of the task: the pending Wait held the daemon's gRPC shutdown.)
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <fcntl.h>

#include <regex>
#include <thread>

#include "pkg/fd.h"
#include "pkg/fs.h"

#include "tests/integration/runtime/support.h"

namespace mcd::itest::rt {
namespace {

const char* const kImage = "docker.io/library/busybox:latest";

TEST(DaemonStop, DoesNotWaitForAWaitedTask) {
  for (const char* tool : {"ctr", "runc", "containerd-shim-runc-v2"}) Require(tool);
  TempDir dir;
  Daemon d(dir.path(), {});
  d.Start();
  ASSERT_NO_FATAL_FAILURE(ImportBusybox(d, dir.path(), kImage));

  // `ctr run` (attached) holds a Tasks.Wait for as long as the task runs.
  process::Result waiter;
  std::thread client;
  {
    EventWatcher events(d);
    client = std::thread([&] { waiter = Ctr(d, {"run", kImage, "stopw", "sleep", "1000"}); });
    ASSERT_TRUE(events.WaitFor({"/tasks/start", "\"stopw\""})) << events.seen();
  }
  const std::string root_arg = "--root " + d.root();
  ASSERT_EQ(::kill(d.pid(), SIGTERM), 0);
  // Bounded far below the task's 1000 s: the daemon must not wait for it.
  auto alive = AwaitExit(root_arg, -1, std::chrono::seconds(30));
  EXPECT_TRUE(alive.empty()) << "daemon still running after SIGTERM while a Wait was pending";
  if (!alive.empty()) d.Kill();
  d.Stop();  // reaps it
  client.join();
  EXPECT_NE(waiter.exit_code, 0) << waiter.out;  // its Wait failed with the daemon gone

  // The task survived the stop.
  d.Start();
  auto r = Ctr(d, {"task", "ls"});
  EXPECT_TRUE(std::regex_search(r.out, std::regex("stopw\\s+\\d+\\s+RUNNING"))) << r.out;
  EXPECT_EQ(Ctr(d, {"task", "rm", "-f", "stopw"}).exit_code, 0);
  EXPECT_EQ(Ctr(d, {"containers", "rm", "stopw"}).exit_code, 0);
  auto left = Leftovers(d);
  EXPECT_TRUE(left.empty()) << left.front();
}

// Blocks (inotify, no polling) until `path` contains `text`; false after 60 s.
bool AwaitText(const std::string& path, const std::string& text) {
  UniqueFd in(::inotify_init1(IN_CLOEXEC));
  if (!in || ::inotify_add_watch(in.get(), path.c_str(), IN_MODIFY) < 0) return false;
  for (;;) {
    if (fs::ReadFile(path).find(text) != std::string::npos) return true;
    pollfd pfd{in.get(), POLLIN, 0};
    if (::poll(&pfd, 1, 60000) <= 0) return false;
    char buf[4096];
    if (::read(in.get(), buf, sizeof buf) < 0) return false;
  }
}

// SIGTERM cancels open calls at once, as containerd's grpcServer.Stop():
// a subscriber (dockerd's event stream) is cut off when the daemon stops,
// not served for a grace period. (With a 2 s grace dockerd stayed on the
// old daemon's stream, saw events published while it was going away, and
// was cut off 2 s later: a restart left it without events that long.)
TEST(DaemonStop, CutsOffSubscribersAtOnce) {
  for (const char* tool : {"ctr", "runc", "containerd-shim-runc-v2"}) Require(tool);
  TempDir dir;
  Daemon d(dir.path(), {});
  d.Start();
  ASSERT_NO_FATAL_FAILURE(ImportBusybox(d, dir.path(), kImage));
  auto r = Ctr(d, {"run", "-d", kImage, "stops", "sleep", "1000"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::smatch m;
  const std::string ls = Ctr(d, {"task", "ls"}).out;
  ASSERT_TRUE(std::regex_search(ls, m, std::regex("stops\\s+(\\d+)\\s+RUNNING"))) << ls;
  const pid_t task_pid = static_cast<pid_t>(std::stoi(m[1]));

  EventWatcher events(d);
  // The subscription is live once it sees an event (`ctr events` connects
  // in the background: probe until one arrives).
  bool live = false;
  for (int i = 0; i < 30 && !live; ++i) {
    r = Ctr(d, {"namespaces", "create", "stop-probe" + std::to_string(i)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    live = events.WaitFor({"/namespaces/create", "stop-probe"}, std::chrono::seconds(1));
  }
  ASSERT_TRUE(live) << events.seen();

  ASSERT_EQ(::kill(d.pid(), SIGTERM), 0);
  ASSERT_TRUE(AwaitText(d.log_path(), "stop received")) << d.Log();
  // The daemon is stopping: the task's exit (the shim forwards it) must not
  // reach the subscriber any more.
  ASSERT_EQ(::kill(task_pid, SIGKILL), 0);
  d.Stop();  // reaps it
  EXPECT_FALSE(events.WaitFor({"/tasks/exit", "\"stops\""}))
      << "a subscriber was still served after SIGTERM:\n"
      << events.seen();

  d.Start();
  EXPECT_EQ(Ctr(d, {"task", "rm", "-f", "stops"}).exit_code, 0);
  EXPECT_EQ(Ctr(d, {"containers", "rm", "stops"}).exit_code, 0);
  auto left = Leftovers(d);
  EXPECT_TRUE(left.empty()) << left.front();
}

}  // namespace
}  // namespace mcd::itest::rt
