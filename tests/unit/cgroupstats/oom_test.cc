// OomWatch against this machine's cgroup v1 memory controller: a process
// allocating past a small limit is OOM-killed and reported; one staying under
// it is not; removing the cgroup ends the watch without a report and leaves
// no descriptor behind. Needs root and a v1 (or hybrid) host; fails loudly
// without them.
#include "runtime/cgroupstats/oom.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <chrono>
#include <cstring>
#include <future>
#include <string>

#include "pkg/errdefs.h"
#include "tests/unit/cgroupstats/memory_cgroup.h"
#include "ttrpc/io.h"

namespace mcd::cgroupstats {
namespace {

using oomtest::Child;
using oomtest::CountFds;
using oomtest::kMustArrive;
using oomtest::MemoryCgroup;

// Counts OOMs; tells when the first arrived and when the cgroup was gone.
struct Recorder {
  std::atomic<int> ooms{0};
  std::promise<void> first_oom, gone;
  OomWatch::Callbacks Callbacks() {
    return {.oom =
                [this] {
                  if (ooms++ == 0) first_oom.set_value();
                },
            .gone = [this] { gone.set_value(); }};
  }
};

TEST(OomWatch, ReportsAnOomKillThenEndsWhenTheCgroupIsRemoved) {
  ASSERT_EQ(::access("/bin/busybox", X_OK), 0) << "busybox-static is required";
  MemoryCgroup cg;
  ASSERT_NO_FATAL_FAILURE(cg.Create());
  // One shell process doubling a string up to 128 MiB: far past the limit.
  Child child(cg.dir(), oomtest::kAllocateTooMuch);
  ASSERT_GT(child.pid(), 0);
  // Resolved from the process, as the monitor does for a task.
  Cgroup loaded = Load(child.pid());
  Recorder rec;
  auto watch = OomWatch::Start(ttrpc::Io(), loaded, rec.Callbacks());
  ASSERT_TRUE(watch->Active());
  child.Go();
  ASSERT_EQ(rec.first_oom.get_future().wait_for(kMustArrive), std::future_status::ready)
      << "no OOM reported";
  int status = child.Wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
  EXPECT_TRUE(watch->Active());

  ASSERT_TRUE(cg.Remove()) << std::strerror(errno);
  ASSERT_EQ(rec.gone.get_future().wait_for(kMustArrive), std::future_status::ready)
      << "the removal did not end the watch";
  EXPECT_FALSE(watch->Active());
  EXPECT_GE(rec.ooms, 1);
}

TEST(OomWatch, NothingReportedUnderTheLimit) {
  MemoryCgroup cg;
  ASSERT_NO_FATAL_FAILURE(cg.Create());
  Child child(cg.dir(), "a=$(head -c 100000 /dev/zero | tr '\\0' x); test ${#a} = 100000");
  ASSERT_GT(child.pid(), 0);
  Recorder rec;
  auto watch = OomWatch::Start(ttrpc::Io(), cg.AsCgroup(), rec.Callbacks());
  child.Go();
  int status = child.Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  // The removal's notification comes after any OOM's on the same eventfd:
  // once the watch has ended, every OOM would have been reported.
  ASSERT_TRUE(cg.Remove()) << std::strerror(errno);
  ASSERT_EQ(rec.gone.get_future().wait_for(kMustArrive), std::future_status::ready);
  EXPECT_EQ(rec.ooms, 0);
}

TEST(OomWatch, RemovalEndsTheWatchAndClosesItsDescriptors) {
  {
    // The context's reactor (epoll, interrupter, timer descriptors) is made
    // with its first descriptor object: make it before counting.
    boost::asio::posix::stream_descriptor warm(ttrpc::Io());
  }
  MemoryCgroup cg;
  ASSERT_NO_FATAL_FAILURE(cg.Create());
  const int before = CountFds();
  Recorder rec;
  auto watch = OomWatch::Start(ttrpc::Io(), cg.AsCgroup(), rec.Callbacks());
  EXPECT_EQ(CountFds(), before + 1);  // the eventfd only
  ASSERT_TRUE(cg.Remove()) << std::strerror(errno);
  ASSERT_EQ(rec.gone.get_future().wait_for(kMustArrive), std::future_status::ready);
  EXPECT_EQ(CountFds(), before);
  EXPECT_EQ(rec.ooms, 0);
  EXPECT_FALSE(watch->Active());
  watch->Stop();  // after the end: harmless
}

TEST(OomWatch, StopClosesTheDescriptorAndCallsNothing) {
  MemoryCgroup cg;
  ASSERT_NO_FATAL_FAILURE(cg.Create());
  boost::asio::io_context io;  // run here, so "all work done" is observable
  // A first watch makes the context create its reactor's descriptors.
  OomWatch::Start(io, cg.AsCgroup(), {})->Stop();
  io.run();
  io.restart();
  const int before = CountFds();
  Recorder rec;
  auto watch = OomWatch::Start(io, cg.AsCgroup(), rec.Callbacks());
  io.poll();  // the wait is armed
  watch->Stop();
  EXPECT_FALSE(watch->Active());
  io.run();  // returns once the close ran and the wait finished
  EXPECT_EQ(CountFds(), before);
  // The removal after Stop reports nothing.
  ASSERT_TRUE(cg.Remove()) << std::strerror(errno);
  io.restart();
  io.run();
  EXPECT_EQ(rec.ooms, 0);
  EXPECT_EQ(rec.gone.get_future().wait_for(std::chrono::seconds(0)), std::future_status::timeout);
}

TEST(OomWatch, NeedsAMemoryController) {
  boost::asio::io_context io;
  Cgroup cg;
  cg.subsystems.push_back({"pids", "/sys/fs/cgroup/pids"});
  EXPECT_THROW(OomWatch::Start(io, cg, {}), MemoryNotSupported);
  cg.subsystems.push_back({"memory", "/sys/fs/cgroup/memory/mcd-no-such-cgroup"});
  try {
    OomWatch::Start(io, cg, {});
    FAIL() << "expected NotFound";
  } catch (const errdefs::Error& e) {
    EXPECT_EQ(e.code(), errdefs::Code::kNotFound) << e.what();
  }
}

}  // namespace
}  // namespace mcd::cgroupstats
