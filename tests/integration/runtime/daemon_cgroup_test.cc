// config.toml's `[cgroup] path` and `oom_score` for the daemon itself, as
// containerd 1.6 (its integration/client TestDaemonCustomCgroup): at start-up
// the daemon creates the cgroup in every hierarchy and moves into it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "pkg/fs.h"
#include "tests/integration/support/harness.h"

namespace mcd::itest {
namespace {

// Mount points of the hierarchies a process is placed in: the v1 ones, or
// the unified one when there is no v1.
std::vector<std::string> CgroupMounts() {
  std::vector<std::string> v1, v2;
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::vector<std::string> w;
    for (std::string s; f >> s;) w.push_back(s);
    auto sep = std::find(w.begin(), w.end(), "-");
    if (w.size() < 5 || sep == w.end() || sep + 1 == w.end()) continue;
    if (*(sep + 1) == "cgroup") v1.push_back(w[4]);
    if (*(sep + 1) == "cgroup2") v2.push_back(w[4]);
  }
  return v1.empty() ? v2 : v1;
}

TEST(DaemonSettings, CgroupPathAndOomScore) {
  auto mounts = CgroupMounts();
  ASSERT_FALSE(mounts.empty()) << "no cgroup hierarchy mounted";
  const std::string cg = "mcd-itest-" + std::to_string(::getpid());
  TempDir dir;
  Daemon d(dir.path(), {.extra_args = {},
                        .config_toml = "version = 2\noom_score = 500\n[cgroup]\n  path = \"" + cg +
                                       "/daemon\"\n"});
  d.Start();
  const std::string pid = std::to_string(d.pid());
  for (const auto& m : mounts) {
    const std::string procs = m + "/" + cg + "/daemon/cgroup.procs";
    ASSERT_TRUE(fs::Exists(procs)) << procs;
    EXPECT_NE(("\n" + fs::ReadFile(procs)).find("\n" + pid + "\n"), std::string::npos) << procs;
  }
  EXPECT_EQ(fs::ReadFile("/proc/" + pid + "/oom_score_adj"), "500\n");
  d.Stop();
  for (const auto& m : mounts) {
    std::error_code ec;
    std::filesystem::remove(m + "/" + cg + "/daemon", ec);
    std::filesystem::remove(m + "/" + cg, ec);
    EXPECT_FALSE(fs::Exists(m + "/" + cg)) << m;
  }
}

}  // namespace
}  // namespace mcd::itest
