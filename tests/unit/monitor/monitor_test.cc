// The cgroups task monitor against this machine's cgroup v1 memory
// controller: an OOM-killed task's namespace sees /tasks/oom with
// TaskOOM{container_id}; a task without a cgroup is not watched; Stop ends a
// watch. Needs root and a v1 (or hybrid) host; fails loudly without them.
#include "runtime/monitor/monitor.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstring>

#include "events/exchange.h"
#include "github.com/containerd/containerd/api/events/task.pb.h"
#include "tests/unit/cgroupstats/memory_cgroup.h"
#include "ttrpc/io.h"

namespace mcd::monitor {
namespace {

using cgroupstats::oomtest::Child;
using cgroupstats::oomtest::kMustArrive;
using cgroupstats::oomtest::MemoryCgroup;

TEST(CgroupsMonitor, PublishesTaskOomInTheTasksNamespace) {
  events::Exchange ex;
  auto sub = ex.Subscribe({});
  auto mon = std::make_shared<CgroupsMonitor>(&ex, ttrpc::Io());
  MemoryCgroup cg;
  ASSERT_NO_FATAL_FAILURE(cg.Create());
  Child child(cg.dir(), cgroupstats::oomtest::kAllocateTooMuch);
  ASSERT_GT(child.pid(), 0);
  mon->Monitor("oom-ns", "c1", child.pid());
  EXPECT_EQ(mon->Watching(), 1u);
  child.Go();

  auto env = sub->Next(std::chrono::steady_clock::now() + kMustArrive);
  ASSERT_TRUE(env) << "no event published";
  EXPECT_EQ(env->topic(), "/tasks/oom");
  EXPECT_EQ(env->namespace_(), "oom-ns");
  EXPECT_EQ(env->event().type_url(), "containerd.events.TaskOOM");
  containerd::events::TaskOOM oom;
  ASSERT_TRUE(oom.ParseFromString(env->event().value()));
  EXPECT_EQ(oom.container_id(), "c1");
  int status = child.Wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;

  mon->Stop("oom-ns", "c1");
  EXPECT_EQ(mon->Watching(), 0u);
  mon->Stop("oom-ns", "c1");  // again: nothing to do
  EXPECT_TRUE(cg.Remove()) << std::strerror(errno);
}

TEST(CgroupsMonitor, TaskWithoutACgroupIsNotWatched) {
  events::Exchange ex;
  auto mon = std::make_shared<CgroupsMonitor>(&ex, ttrpc::Io());
  // A reaped child: its pid has no /proc entry, so no cgroup (NotFound).
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) ::_exit(0);
  ASSERT_EQ(::waitpid(pid, nullptr, 0), pid);
  mon->Monitor("ns", "gone", pid);
  EXPECT_EQ(mon->Watching(), 0u);
  // No memory controller: logged, not watched, no error (containerd's
  // ErrMemoryNotSupported).
  cgroupstats::Cgroup cg;
  cg.subsystems.push_back({"pids", "/sys/fs/cgroup/pids"});
  mon->Monitor("ns", "nomem", cg);
  EXPECT_EQ(mon->Watching(), 0u);
}

// A task watched again (a reconnect after a restart) keeps one watch: the
// old one is stopped, so one OOM is not published twice.
TEST(CgroupsMonitor, WatchingATaskAgainReplacesItsWatch) {
  events::Exchange ex;
  auto mon = std::make_shared<CgroupsMonitor>(&ex, ttrpc::Io());
  MemoryCgroup cg;
  ASSERT_NO_FATAL_FAILURE(cg.Create());
  mon->Monitor("ns", "a", cg.AsCgroup());
  mon->Monitor("ns", "a", cg.AsCgroup());
  EXPECT_EQ(mon->Watching(), 1u);
  mon->Stop("ns", "a");
  EXPECT_EQ(mon->Watching(), 0u);
  EXPECT_TRUE(cg.Remove()) << std::strerror(errno);
}

TEST(CgroupsMonitor, CloseEndsEveryWatch) {
  events::Exchange ex;
  auto mon = std::make_shared<CgroupsMonitor>(&ex, ttrpc::Io());
  MemoryCgroup a, b;
  ASSERT_NO_FATAL_FAILURE(a.Create());
  ASSERT_NO_FATAL_FAILURE(b.Create());
  mon->Monitor("ns", "a", a.AsCgroup());
  mon->Monitor("ns", "b", b.AsCgroup());
  mon->Monitor("other", "a", b.AsCgroup());
  EXPECT_EQ(mon->Watching(), 3u);
  mon->Monitor("ns", "a", a.AsCgroup());  // replaces
  EXPECT_EQ(mon->Watching(), 3u);
  mon->Stop("ns", "b");
  EXPECT_EQ(mon->Watching(), 2u);
  mon->Close();
  EXPECT_EQ(mon->Watching(), 0u);
}

}  // namespace
}  // namespace mcd::monitor
