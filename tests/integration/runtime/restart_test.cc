// The restart monitor (io.containerd.internal.v1.restart): a container
// labelled containerd.io/restart.status=running gets a task, gets it back
// after it is killed, and loses it when the label says stopped; its output
// goes to the containerd.io/restart.loguri file.
#include <gtest/gtest.h>
#include <signal.h>

#include <memory>
#include <regex>
#include <vector>

#include "pkg/fs.h"
#include "tests/integration/runtime/support.h"

namespace mcd::itest::rt {
namespace {

const char* const kImage = "docker.io/library/busybox:latest";

std::string PidOf(const Daemon& d, const std::string& id) {
  std::smatch m;
  std::string ls = Ctr(d, {"task", "ls"}).out;
  if (!std::regex_search(ls, m, std::regex(id + "\\s+(\\d+)\\s+RUNNING"))) return "";
  return m[1];
}

// On any exit: the label first, or the monitor would restart what is removed.
struct Cleanup {
  const Daemon& d;
  std::string id;
  ~Cleanup() {
    if (!d.running()) return;
    Ctr(d, {"containers", "label", id, "containerd.io/restart.status="});
    Ctr(d, {"task", "rm", "-f", id});
    Ctr(d, {"containers", "rm", id});
  }
};

const char* const kConfig =
    "version = 2\n[plugins.\"io.containerd.internal.v1.restart\"]\n  interval = \"1s\"\n";
// An interval longer than any test: the monitor looks only at start-up.
const char* const kHourConfig =
    "version = 2\n[plugins.\"io.containerd.internal.v1.restart\"]\n  interval = \"1h\"\n";

TEST(RestartMonitor, KeepsTheLabelledStatus) {
  for (const char* tool : {"ctr", "runc", "containerd-shim-runc-v2"}) Require(tool);
  TempDir dir;
  Daemon d(dir.path(), {.extra_args = {}, .config_toml = kConfig});
  d.Start();
  ASSERT_NO_FATAL_FAILURE(ImportBusybox(d, dir.path(), kImage));
  process::Result r;
  EXPECT_NE(Ctr(d, {"plugins", "ls", "id==restart"}).out.find(" ok "), std::string::npos);

  EventWatcher events(d);
  Cleanup cleanup{d, "rmon1"};
  const std::string log = dir.path() + "/logs/rmon1.log";
  r = Ctr(d, {"containers", "create", "--label", "containerd.io/restart.status=running", "--label",
              "containerd.io/restart.loguri=file://" + log, kImage, "rmon1", "--", "sh", "-c",
              "echo started; exec sleep 1000"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  // Nobody started it but the monitor.
  ASSERT_TRUE(events.WaitFor({"/tasks/start", "\"rmon1\""})) << events.seen();
  const std::string first = PidOf(d, "rmon1");
  ASSERT_FALSE(first.empty()) << Ctr(d, {"task", "ls"}).out;

  r = Ctr(d, {"task", "kill", "-s", "SIGKILL", "rmon1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(events.WaitFor({"/tasks/exit", "\"rmon1\""})) << events.seen();
  ASSERT_TRUE(events.WaitFor({"/tasks/start", "\"rmon1\""})) << events.seen();
  const std::string second = PidOf(d, "rmon1");
  EXPECT_FALSE(second.empty());
  EXPECT_NE(second, first);

  r = Ctr(d, {"containers", "label", "rmon1", "containerd.io/restart.status=stopped"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(events.WaitFor({"/tasks/delete", "\"rmon1\""})) << events.seen();
  EXPECT_EQ(Ctr(d, {"task", "ls", "-q"}).out, "");
  // Both runs wrote there (complete once each task was deleted).
  EXPECT_EQ(fs::ReadFile(log), "started\nstarted\n");

  r = Ctr(d, {"containers", "rm", "rmon1"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto left = Leftovers(d);
  EXPECT_TRUE(left.empty()) << left.front();
}

// A crash of the daemon and of the task's shim: the shim is found dead at
// start-up, cleaned up, and the monitor starts the task again.
TEST(RestartMonitor, StartsTheTaskAgainAfterACrash) {
  for (const char* tool : {"ctr", "runc", "containerd-shim-runc-v2"}) Require(tool);
  TempDir dir;
  Daemon d(dir.path(), {.extra_args = {}, .config_toml = kConfig});
  d.Start();
  ASSERT_NO_FATAL_FAILURE(ImportBusybox(d, dir.path(), kImage));
  Cleanup cleanup{d, "rmon2"};
  {
    EventWatcher events(d);
    auto r = Ctr(d, {"containers", "create", "--label", "containerd.io/restart.status=running",
                     kImage, "rmon2", "sleep", "1000"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    ASSERT_TRUE(events.WaitFor({"/tasks/start", "\"rmon2\""})) << events.seen();
  }
  const std::string first = PidOf(d, "rmon2");
  auto shims = ShimPids(d, "rmon2");
  ASSERT_EQ(shims.size(), 1u);
  d.Kill();
  ASSERT_EQ(::kill(shims[0], SIGKILL), 0);
  ASSERT_TRUE(AwaitExit("-id rmon2 ", -1).empty());
  d.Start();
  // Subscribed before looking, so a start after the look is not missed.
  EventWatcher events(d);
  std::string again = PidOf(d, "rmon2");
  if (again.empty()) {
    ASSERT_TRUE(events.WaitFor({"/tasks/start", "\"rmon2\""})) << events.seen() << d.Log();
    again = PidOf(d, "rmon2");
  }
  EXPECT_FALSE(again.empty());
  EXPECT_NE(again, first);
  // The label off, the task and container go, and the crash left nothing.
  Ctr(d, {"containers", "label", "rmon2", "containerd.io/restart.status="});
  EXPECT_EQ(Ctr(d, {"task", "rm", "-f", "rmon2"}).exit_code, 0);
  EXPECT_EQ(Ctr(d, {"containers", "rm", "rmon2"}).exit_code, 0);
  auto left = Leftovers(d);
  EXPECT_TRUE(left.empty()) << left.front();
}

// A client that creates a labelled container and then its task itself (as
// `nerdctl run --restart=always`, `ctr run --label ...`, containerd's
// TestRestartMonitor): containerd's monitor only looks at the container on
// its next round, so the client's own NewTask never finds a task already
// there. (The monitor acted on the create event at once, and the client's
// NewTask failed with "file exists".)
TEST(RestartMonitor, LeavesANewContainerToItsClient) {
  for (const char* tool : {"ctr", "runc", "containerd-shim-runc-v2"}) Require(tool);
  TempDir dir;
  Daemon d(dir.path(), {.extra_args = {}, .config_toml = kHourConfig});
  d.Start();
  ASSERT_NO_FATAL_FAILURE(ImportBusybox(d, dir.path(), kImage));
  std::vector<std::unique_ptr<Cleanup>> cleanups;
  for (int i = 0; i < 5; ++i) {
    const std::string id = "rmonc" + std::to_string(i);
    cleanups.push_back(std::make_unique<Cleanup>(Cleanup{d, id}));
    auto r = Ctr(d, {"run", "-d", "--label", "containerd.io/restart.status=running", kImage, id,
                     "sleep", "1000"});
    EXPECT_EQ(r.exit_code, 0) << id << ": " << r.out << r.err;
    EXPECT_FALSE(PidOf(d, id).empty()) << Ctr(d, {"task", "ls"}).out;
  }
  cleanups.clear();
  auto left = Leftovers(d);
  EXPECT_TRUE(left.empty()) << left.front();
}

// A client that kills a labelled container's task and then deletes the task
// and the container (containerd's TestRestartMonitor cleanup, `ctr task kill`
// then `ctr task rm`): containerd's monitor looks only at its next round, so
// the deletes are not raced by a restart. (The monitor restarted the task on
// its exit event at once: "task ... is being deleted", then "cannot delete
// running task".)
TEST(RestartMonitor, LeavesAKilledTaskToItsClient) {
  for (const char* tool : {"ctr", "runc", "containerd-shim-runc-v2"}) Require(tool);
  TempDir dir;
  Daemon d(dir.path(), {.extra_args = {}, .config_toml = kHourConfig});
  d.Start();
  ASSERT_NO_FATAL_FAILURE(ImportBusybox(d, dir.path(), kImage));
  for (int i = 0; i < 3; ++i) {
    const std::string id = "rmonk" + std::to_string(i);
    Cleanup cleanup{d, id};
    auto r = Ctr(d, {"run", "-d", "--label", "containerd.io/restart.status=running", kImage, id,
                     "sleep", "1000"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EventWatcher events(d);
    r = Ctr(d, {"task", "kill", "-s", "SIGKILL", id});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_TRUE(events.WaitFor({"/tasks/exit", "\"" + id + "\""})) << events.seen();
    r = Ctr(d, {"task", "rm", id});
    EXPECT_EQ(r.exit_code, 0) << id << ": " << r.err;
    r = Ctr(d, {"containers", "rm", id});
    EXPECT_EQ(r.exit_code, 0) << id << ": " << r.err;
  }
  auto left = Leftovers(d);
  EXPECT_TRUE(left.empty()) << left.front();
}

}  // namespace
}  // namespace mcd::itest::rt
