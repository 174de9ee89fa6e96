// Stopping the daemon while a client waits on a long-running task: as
// containerd, the daemon exits promptly (the Wait fails with the
// connection), and the task keeps running for the next daemon.
// (containerd's integration/client TestDaemonRestart hung here for the
// length of the task: the pending Wait held the daemon's gRPC shutdown.)
#include <gtest/gtest.h>
#include <signal.h>

#include <regex>
#include <thread>

#include "tests/integration/runtime/support.h"
#include "tests/integration/support/image_builder.h"

namespace mcd::itest::rt {
namespace {

const char* const kImage = "docker.io/library/busybox:latest";

TEST(DaemonStop, DoesNotWaitForAWaitedTask) {
  for (const char* tool : {"ctr", "runc", "containerd-shim-runc-v2"}) Require(tool);
  TempDir dir;
  Daemon d(dir.path(), {});
  d.Start();
  const std::string tar = dir.path() + "/busybox.tar";
  image::WriteOciArchive({image::Busybox(kImage)}, tar);
  auto r = Ctr(d, {"images", "import", tar});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

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
  r = Ctr(d, {"task", "ls"});
  EXPECT_TRUE(std::regex_search(r.out, std::regex("stopw\\s+\\d+\\s+RUNNING"))) << r.out;
  EXPECT_EQ(Ctr(d, {"task", "rm", "-f", "stopw"}).exit_code, 0);
  EXPECT_EQ(Ctr(d, {"containers", "rm", "stopw"}).exit_code, 0);
  auto left = Leftovers(d);
  EXPECT_TRUE(left.empty()) << left.front();
}

}  // namespace
}  // namespace mcd::itest::rt
