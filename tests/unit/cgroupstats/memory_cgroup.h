#pragma once
// Test helpers for cgroup v1 memory tests: a fresh memory cgroup with a small
// limit, a shell started in it, descriptor counting. Need root and a v1 (or
// hybrid) host; fail loudly without them.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>

#include "runtime/cgroupstats/metrics.h"

namespace mcd::cgroupstats::oomtest {

inline constexpr uint64_t kLimit = 8ull << 20;
// Waits for a notification that must come; only bounds a broken run.
inline constexpr auto kMustArrive = std::chrono::seconds(60);

inline void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
  f.close();
  ASSERT_TRUE(f) << "write " << path;
}

inline int CountFds() {
  int n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  if (!d) return -1;
  while (auto* e = ::readdir(d)) n += e->d_name[0] != '.';
  ::closedir(d);
  return n - 1;  // the directory's own
}

// A fresh memory cgroup with an 8 MiB limit (swap included); removed at the
// end if the test did not remove it.
class MemoryCgroup {
 public:
  MemoryCgroup() {
    static int seq = 0;
    dir_ =
        "/sys/fs/cgroup/memory/mcd-oom-" + std::to_string(::getpid()) + "-" + std::to_string(seq++);
  }
  ~MemoryCgroup() { Remove(); }
  void Create() {
    ASSERT_EQ(::geteuid(), 0u) << "this test needs root to create cgroups";
    ASSERT_EQ(::mkdir(dir_.c_str(), 0755), 0)
        << "mkdir " << dir_ << ": " << std::strerror(errno) << " (a cgroup v1 host is required)";
    created_ = true;
    WriteFile(dir_ + "/memory.limit_in_bytes", std::to_string(kLimit));
    // Without swap accounting the limit could be dodged by swapping.
    struct stat st;
    if (::stat((dir_ + "/memory.memsw.limit_in_bytes").c_str(), &st) == 0) {
      WriteFile(dir_ + "/memory.memsw.limit_in_bytes", std::to_string(kLimit));
    }
  }
  bool Remove() {
    if (!created_) return true;
    if (::rmdir(dir_.c_str()) != 0) return false;
    created_ = false;
    return true;
  }
  const std::string& dir() const { return dir_; }
  Cgroup AsCgroup() const {
    Cgroup cg;
    cg.subsystems.push_back({"memory", dir_});
    return cg;
  }

 private:
  std::string dir_;
  bool created_ = false;
};

// A shell joining the cgroup, then running `script` once Go() is called.
class Child {
 public:
  Child(const std::string& cgroup_dir, const std::string& script) {
    int go[2], ready[2];
    if (::pipe2(go, O_CLOEXEC) != 0) return;
    if (::pipe2(ready, O_CLOEXEC) != 0) return;
    std::string procs = cgroup_dir + "/cgroup.procs";
    pid_ = ::fork();
    if (pid_ == 0) {
      int fd = ::open(procs.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0 || ::write(fd, "0", 1) != 1) ::_exit(126);
      if (::write(ready[1], "r", 1) != 1) ::_exit(125);
      char b;
      if (::read(go[0], &b, 1) != 1) ::_exit(125);
      ::execl("/bin/busybox", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(go[0]);
    ::close(ready[1]);
    go_ = go[1];
    // Returns once the child is in the cgroup (or died trying).
    char b;
    while (::read(ready[0], &b, 1) < 0 && errno == EINTR) {
    }
    ::close(ready[0]);
  }
  ~Child() {
    if (go_ >= 0) ::close(go_);
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      Wait();
    }
  }
  void Go() { ASSERT_EQ(::write(go_, "x", 1), 1); }
  // The wait status.
  int Wait() {
    int status = -1;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return status;
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int go_ = -1;
};

// A shell loop doubling a string up to 128 MiB in one process: far past
// the limit.
inline constexpr const char* kAllocateTooMuch =
    "a=x; i=0; while [ $i -lt 27 ]; do a=$a$a; i=$((i+1)); done";

}  // namespace mcd::cgroupstats::oomtest
