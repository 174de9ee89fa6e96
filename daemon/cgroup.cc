// containerd applies these in server.New, before plugins load, and fails
// start-up on an error: a daemon asked to live in a cgroup does not run
// outside it.
#include "daemon/cgroup.h"

#include <fmt/format.h>

#include <cstring>
#include <filesystem>
#include <vector>

#include "pkg/cgroup_mounts.h"
#include "pkg/errdefs.h"
#include "pkg/fs.h"
#include "pkg/strings.h"

namespace mcd::daemon {

namespace {

void Write(const std::string& file, const std::string& value) {
  // cgroup files take one write; no temp file and rename.
  FILE* f = std::fopen(file.c_str(), "we");
  if (!f) throw errdefs::Unknown(fmt::format("open {}: {}", file, std::strerror(errno)));
  bool ok = std::fputs(value.c_str(), f) >= 0;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) throw errdefs::Unknown(fmt::format("write {}: {}", file, std::strerror(errno)));
}

// Creates mountpoint/rel level by level; a new cpuset level inherits its
// parent's cpus and mems (empty ones refuse every process).
void Create(const cgroups::Mount& h, const std::filesystem::path& rel) {
  std::filesystem::path dir = h.mountpoint;
  for (const auto& part : rel) {
    if (part.empty() || part == "/") continue;
    std::filesystem::path parent = dir;
    dir /= part;
    std::error_code ec;
    if (std::filesystem::create_directory(dir, ec) && h.Has("cpuset")) {
      for (const char* k : {"cpuset.cpus", "cpuset.mems"}) {
        Write((dir / k).string(), TrimSpace(fs::ReadFile((parent / k).string())));
      }
    }
    if (ec) throw errdefs::Unknown(fmt::format("mkdir {}: {}", dir.string(), ec.message()));
  }
}

}  // namespace

void JoinCgroup(const std::string& path, pid_t pid, const std::string& mountinfo) {
  const std::filesystem::path rel = std::filesystem::path(path).relative_path();
  if (rel.empty()) return;
  for (const auto& part : rel) {
    if (part == "..")
      throw errdefs::InvalidArgument("cgroup path " + path + " leaves the hierarchy");
  }
  auto hs = cgroups::Hierarchies(mountinfo);
  if (hs.empty()) throw errdefs::FailedPrecondition("cgroup path " + path + ": no cgroup mounted");
  for (const auto& h : hs) {
    Create(h, rel);
    Write((std::filesystem::path(h.mountpoint) / rel / "cgroup.procs").string(),
          std::to_string(pid));
  }
}

void JoinCgroup(const std::string& path, pid_t pid) {
  JoinCgroup(path, pid, fs::ReadFile("/proc/self/mountinfo"));
}

void SetOomScore(pid_t pid, int score) {
  if (score < -1000 || score > 1000) {
    throw errdefs::InvalidArgument(
        fmt::format("value out of range ({}): OOM score must be between -1000 and 1000", score));
  }
  Write(fmt::format("/proc/{}/oom_score_adj", pid), std::to_string(score));
}

}  // namespace mcd::daemon
