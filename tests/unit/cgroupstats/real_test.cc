// cgroupstats against this machine's cgroup v1 hierarchies: a `sleep` started
// in fresh memory, cpuacct and pids cgroups, its statistics read back.
// Needs root and a v1 (or hybrid) host; fails loudly without them.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "pkg/errdefs.h"
#include "runtime/cgroupstats/metrics.h"

namespace mcd::cgroupstats {
namespace {

constexpr uint64_t kLimit = 64ull << 20;
const char* const kControllers[] = {"memory", "cpuacct", "pids"};

// The test's cgroups, removed (after their process is gone) on destruction.
struct TestCgroups {
  std::vector<std::string> dirs;
  ~TestCgroups() {
    for (const auto& d : dirs) ::rmdir(d.c_str());
  }
};

// A child that joins the cgroups, then execs sleep; killed and reaped on
// destruction.
struct Child {
  pid_t pid = -1;
  ~Child() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
  f.close();
  ASSERT_TRUE(f) << "write " << path;
}

TEST(CgroupStatsReal, SleepInFreshCgroups) {
  ASSERT_EQ(::geteuid(), 0u) << "this test needs root to create cgroups";
  TestCgroups cgs;
  const std::string name = "mcd-test-" + std::to_string(::getpid());
  for (const char* c : kControllers) {
    std::string d = std::string("/sys/fs/cgroup/") + c + "/" + name;
    ASSERT_EQ(::mkdir(d.c_str(), 0755), 0)
        << "mkdir " << d << ": " << std::strerror(errno) << " (a cgroup v1 host is required)";
    cgs.dirs.push_back(d);
  }
  WriteFile(cgs.dirs[0] + "/memory.limit_in_bytes", std::to_string(kLimit));
  WriteFile(cgs.dirs[2] + "/pids.max", "10");

  // The child joins before exec so that exec's pages are charged to the new
  // memory cgroup; the pipe (close-on-exec) tells when it has exec'd.
  std::vector<std::string> procs;
  for (const auto& d : cgs.dirs) procs.push_back(d + "/cgroup.procs");
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  Child child;
  child.pid = ::fork();
  ASSERT_GE(child.pid, 0);
  if (child.pid == 0) {
    for (const auto& f : procs) {
      int fd = ::open(f.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0 || ::write(fd, "0", 1) != 1) ::_exit(126);
      ::close(fd);
    }
    ::execl("/bin/sleep", "sleep", "1000", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(p[1]);
  char b;
  ASSERT_EQ(::read(p[0], &b, 1), 0);  // EOF: exec'd (or died)
  ::close(p[0]);
  int status;
  ASSERT_EQ(::waitpid(child.pid, &status, WNOHANG), 0) << "child exited, status " << status;

  Metrics m = Read(child.pid);
  ASSERT_TRUE(m.has_pids());
  EXPECT_EQ(m.pids().current(), 1u);
  EXPECT_EQ(m.pids().limit(), 10u);
  ASSERT_TRUE(m.has_memory());
  EXPECT_GT(m.memory().usage().usage(), 0u);
  EXPECT_EQ(m.memory().usage().limit(), kLimit);
  EXPECT_EQ(m.memory().hierarchical_memory_limit(), kLimit);
  EXPECT_TRUE(m.has_memory_oom_control());
  ASSERT_TRUE(m.has_cpu());
  // CPU time is charged lazily (when the task next stops running), so its
  // value is not checked; the per-CPU list has one entry a possible CPU.
  std::ifstream percpu(cgs.dirs[1] + "/cpuacct.usage_percpu");
  int cpus = 0;
  for (std::string v; percpu >> v;) ++cpus;
  EXPECT_GT(cpus, 0);
  EXPECT_EQ(m.cpu().usage().per_cpu_size(), cpus);

  // Each controller resolved to the cgroup made here; the others to the
  // process's own (the root here).
  Cgroup cg = Load(child.pid);
  int ours = 0;
  for (const auto& s : cg.subsystems) {
    bool mine = s.dir.ends_with("/" + name);
    EXPECT_EQ(mine, s.name == "memory" || s.name == "cpuacct" || s.name == "pids") << s.dir;
    ours += mine;
  }
  EXPECT_EQ(ours, 3);

  // Once the process is gone, its pid reads as NotFound.
  ::kill(child.pid, SIGKILL);
  ::waitpid(child.pid, nullptr, 0);
  pid_t gone = child.pid;
  child.pid = -1;
  try {
    Read(gone);
    FAIL() << "expected NotFound";
  } catch (const errdefs::Error& e) {
    EXPECT_EQ(e.code(), errdefs::Code::kNotFound) << e.what();
  }
}

}  // namespace
}  // namespace mcd::cgroupstats
