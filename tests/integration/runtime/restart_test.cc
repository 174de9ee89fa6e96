// The restart monitor (io.containerd.internal.v1.restart): a container
// labelled containerd.io/restart.status=running gets a task, gets it back
// after it is killed, and loses it when the label says stopped; its output
// goes to the containerd.io/restart.loguri file.
#include <gtest/gtest.h>

#include <regex>

#include "pkg/fs.h"
#include "tests/integration/runtime/support.h"
#include "tests/integration/support/image_builder.h"

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
  ~Cleanup() {
    Ctr(d, {"containers", "label", "rmon1", "containerd.io/restart.status="});
    Ctr(d, {"task", "rm", "-f", "rmon1"});
    Ctr(d, {"containers", "rm", "rmon1"});
  }
};

TEST(RestartMonitor, KeepsTheLabelledStatus) {
  for (const char* tool : {"ctr", "runc", "containerd-shim-runc-v2"}) Require(tool);
  TempDir dir;
  Daemon d(dir.path(),
           {.extra_args = {},
            .config_toml = "version = 2\n[plugins.\"io.containerd.internal.v1.restart\"]\n"
                           "  interval = \"1s\"\n"});
  d.Start();
  const std::string tar = dir.path() + "/busybox.tar";
  image::WriteOciArchive({image::Busybox(kImage)}, tar);
  auto r = Ctr(d, {"images", "import", tar});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(Ctr(d, {"plugins", "ls", "id==restart"}).out.find(" ok "), std::string::npos);

  EventWatcher events(d);
  Cleanup cleanup{d};
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

}  // namespace
}  // namespace mcd::itest::rt
