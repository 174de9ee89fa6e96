// OOM events of runtime v1 tasks, as containerd 1.6.20 publishes them: with
// runtime v1 the shim does not report OOMs, the daemon's cgroups task
// monitor (io.containerd.monitor.v1) does, as /tasks/oom
// {"container_id":...} in the task's namespace. Checked side by side with
// containerd: a v1 task OOM-killed under `--memory-limit` gives one
// /tasks/oom (seen before its /tasks/exit, though neither daemon orders the
// two); after a daemon restart an OOM in a reconnected v1 task is reported
// too.
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "tests/integration/runtime/support.h"

namespace mcd::itest::rt {
namespace {

const char* const kImage = "docker.io/library/busybox:latest";
const char* const kV1 = "io.containerd.runtime.v1.linux";
const char* const kLimit = "8388608";  // 8 MiB
// One shell process doubling a string up to 128 MiB: far past the limit.
const char* const kHog = "a=x; i=0; while [ $i -lt 27 ]; do a=$a$a; i=$((i+1)); done";

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

class V1OomTest : public BusyboxDaemonTest {
 protected:
  V1OomTest()
      : BusyboxDaemonTest({"ctr", "runc", "containerd-shim", "containerd-shim-runc-v2"}, kImage) {}
};

TEST_F(V1OomTest, OomKilledTaskPublishesTaskOom) {
  EventWatcher events(d());
  // A task that stays under its limit: no OOM event.
  ids_ = {"v1fine", "v1oom"};
  auto r = Ctr(d(), {"run", "--rm", "--runtime", kV1, "--memory-limit", kLimit, kImage, "v1fine",
                     "sh", "-c", "a=x; echo ${#a}"});
  EXPECT_EQ(r.exit_code, 0) << ResultText(r);
  ASSERT_TRUE(events.WaitFor({"/tasks/delete", "\"v1fine\""})) << events.seen();

  r = Ctr(d(), {"run", "--rm", "--runtime", kV1, "--memory-limit", kLimit, kImage, "v1oom", "sh",
                "-c", kHog});
  EXPECT_EQ(r.exit_code, 137) << ResultText(r);
  ASSERT_TRUE(events.WaitFor({"default /tasks/oom {\"container_id\":\"v1oom\"}"})) << events.seen();
  ASSERT_TRUE(events.WaitFor({"/tasks/delete", "\"v1oom\""})) << events.seen();
  // One OOM, one event; none for the task that stayed under its limit.
  EXPECT_EQ(Count(events.seen(), "/tasks/oom"), 1u) << events.seen();
}

TEST_F(V1OomTest, V2TasksReportTheirOwnOoms) {
  // The runc v2 shim publishes the OOM itself: the monitor adds no second one.
  EventWatcher events(d());
  ids_ = {"v2oom"};
  auto r = Ctr(d(), {"run", "--rm", "--memory-limit", kLimit, kImage, "v2oom", "sh", "-c", kHog});
  EXPECT_EQ(r.exit_code, 137) << ResultText(r);
  ASSERT_TRUE(events.WaitFor({"default /tasks/oom {\"container_id\":\"v2oom\"}"})) << events.seen();
  ASSERT_TRUE(events.WaitFor({"/tasks/delete", "\"v2oom\""})) << events.seen();
  EXPECT_EQ(Count(events.seen(), "/tasks/oom {\"container_id\":\"v2oom\"}"), 1u) << events.seen();
}

TEST_F(V1OomTest, ReconnectedTaskIsMonitoredAfterARestart) {
  ids_ = {"v1oomr"};
  auto r = Ctr(d(), {"run", "-d", "--runtime", kV1, "--memory-limit", kLimit, kImage, "v1oomr",
                     "sleep", "1000"});
  ASSERT_EQ(r.exit_code, 0) << ResultText(r);
  d().Kill();
  d().Start();
  EventWatcher events(d());
  // An exec'd process shares the task's memory cgroup.
  r = Ctr(d(), {"task", "exec", "--exec-id", "hog", "v1oomr", "sh", "-c", kHog});
  EXPECT_EQ(r.exit_code, 137) << ResultText(r);
  ASSERT_TRUE(events.WaitFor({"default /tasks/oom {\"container_id\":\"v1oomr\"}"}))
      << events.seen();
  // The task lives on (only the hog was killed) and is deleted as usual.
  EXPECT_TRUE(
      std::regex_search(Ctr(d(), {"task", "ls"}).out, std::regex(R"(v1oomr\s+\d+\s+RUNNING)")));
  r = Ctr(d(), {"task", "rm", "-f", "v1oomr"});
  EXPECT_EQ(r.exit_code, 0) << ResultText(r);
  r = Ctr(d(), {"c", "rm", "v1oomr"});
  EXPECT_EQ(r.exit_code, 0) << ResultText(r);
  // Not "exactly once": the kernel may signal one hog's OOM twice (seen: two
  // notifications 0.6 ms apart, read apart), as containerd would pass on
  // too. That a task watched again keeps one watch is a unit test's.
  EXPECT_GE(Count(events.seen(), "/tasks/oom"), 1u) << events.seen();
}

}  // namespace
}  // namespace mcd::itest::rt
