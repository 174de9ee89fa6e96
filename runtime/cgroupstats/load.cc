// Load: which v1 controllers a process has and where, as
// cgroups.Load(cgroups.V1, cgroups.PidPath(pid)) resolves them.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <system_error>

#include "pkg/errdefs.h"
#include "runtime/cgroupstats/files.h"
#include "runtime/cgroupstats/metrics.h"

namespace mcd::cgroupstats {
namespace {

using detail::Exists;
using detail::Fields;
using detail::Join;
using detail::Lines;
using detail::NotExist;

// strings.Split: every separator splits, empty pieces kept.
std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (;;) {
    size_t i = s.find(sep);
    out.push_back(s.substr(0, i));
    if (i == std::string_view::npos) return out;
    s.remove_prefix(i + 1);
  }
}

std::string ReadOrFail(const std::string& path) {
  try {
    return detail::ReadFile(path);
  } catch (const NotExist&) {
    throw errdefs::NotFound("open " + path + ": no such file or directory");
  }
}

// The parent of the first cgroup (v1) mount: containerd's v1MountPoint.
std::string V1MountRoot(const std::string& mountinfo_path, std::string_view mountinfo) {
  for (std::string_view line : Lines(mountinfo)) {
    auto f = Split(line, ' ');
    if (f.size() < 10) {
      throw errdefs::Unknown(mountinfo_path + ": mountinfo: bad entry \"" + std::string(line) +
                             "\"");
    }
    if (f[f.size() - 3] == "cgroup") {
      std::string mnt = detail::Clean(f[4]);
      size_t slash = mnt.rfind('/');
      return slash == 0 ? "/" : mnt.substr(0, slash);
    }
  }
  throw errdefs::Unknown("cgroups: cgroup mountpoint does not exist");
}

// Where in its hierarchy the mount of `subsystem` starts (mountinfo's root
// field): a process's path is relative to it. containerd's
// getCgroupDestination.
std::string MountDestination(std::string_view mountinfo, std::string_view subsystem) {
  for (std::string_view line : Lines(mountinfo)) {
    auto f = Split(line, ' ');
    if (f.size() < 10 || f[f.size() - 3] != "cgroup") continue;
    for (std::string_view opt : Split(f.back(), ',')) {
      if (opt == subsystem) return std::string(f[3]);
    }
  }
  throw errdefs::Unknown("cgroups: cannot find cgroup mount destination (" +
                         std::string(subsystem) + ")");
}

// filepath.Rel for two clean absolute paths.
std::string Rel(const std::string& base, const std::string& target) {
  auto b = detail::FieldsBy(base, "/");
  auto t = detail::FieldsBy(target, "/");
  size_t common = 0;
  while (common < b.size() && common < t.size() && b[common] == t[common]) ++common;
  std::string out;
  for (size_t i = common; i < b.size(); ++i) out += out.empty() ? ".." : "/..";
  for (size_t i = common; i < t.size(); ++i) {
    if (!out.empty()) out += '/';
    out += t[i];
  }
  return out.empty() ? "." : out;
}

// containerd's RunningInUserNS: anything but the full identity uid map.
bool InUserNamespace(const std::string& proc) {
  std::string text;
  try {
    text = detail::ReadFile(proc + "/self/uid_map");
  } catch (const std::exception&) {
    return false;
  }
  auto lines = Lines(text);
  if (lines.empty()) return false;
  auto f = Fields(lines[0]);
  return !(f.size() >= 3 && f[0] == "0" && f[1] == "0" && f[2] == "4294967295");
}

// go-units' RAMInBytes ("2048kB" -> 2097152) then CustomSize("%g%s", 1024,
// B..PB) ("2MB"): how containerd names a huge page size.
std::string PageSizeName(const std::string& dir, std::string_view entry) {
  auto bad = [&] {
    return errdefs::Unknown(dir + ": cannot parse huge page size of \"" + std::string(entry) +
                            "\"");
  };
  size_t dash = entry.find('-');
  if (dash == std::string_view::npos) throw bad();
  std::string_view s = entry.substr(dash + 1);
  size_t i = 0;
  while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) ++i;
  if (i == 0 || s[0] == '.') throw bad();
  double size = std::strtod(std::string(s.substr(0, i)).c_str(), nullptr);
  std::string_view unit = s.substr(i);
  if (!unit.empty() && unit[0] == ' ') unit.remove_prefix(1);
  static constexpr std::string_view kPrefixes = "kmgtp";
  if (!unit.empty()) {
    size_t p = kPrefixes.find(static_cast<char>(unit[0] | 0x20));
    if (p != std::string_view::npos) {
      for (size_t k = 0; k <= p; ++k) size *= 1024;
      unit.remove_prefix(1);
    }
  }
  if (!unit.empty() && (unit[0] | 0x20) == 'i') unit.remove_prefix(1);
  if (!unit.empty() && (unit[0] | 0x20) == 'b') unit.remove_prefix(1);
  if (!unit.empty()) throw bad();
  static constexpr const char* kUnits[] = {"B", "KB", "MB", "GB", "TB", "PB"};
  size_t u = 0;
  while (size >= 1024 && u + 1 < std::size(kUnits)) {
    size /= 1024;
    ++u;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g%s", size, kUnits[u]);
  return buf;
}

// The huge page sizes, in directory order (Go's ReadDir sorts by name); none
// when the kernel has no huge pages.
std::vector<std::string> HugePageSizes(const std::string& dir) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory) return {};
    throw errdefs::FromErrno(ec.value(), "open " + dir);
  }
  std::vector<std::string> names;
  for (const auto& e : it) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  std::vector<std::string> sizes;
  for (const auto& n : names) sizes.push_back(PageSizeName(dir, n));
  return sizes;
}

}  // namespace

Cgroup Load(pid_t pid, const Roots& roots) {
  Cgroup cg;
  cg.proc = roots.proc;
  const std::string mountinfo_path = roots.proc + "/self/mountinfo";
  const std::string mountinfo = ReadOrFail(mountinfo_path);
  const std::string root =
      roots.cgroup.empty() ? V1MountRoot(mountinfo_path, mountinfo) : roots.cgroup;

  // containerd's v1 controllers, in its order; a hierarchy not mounted on
  // this host is left out.
  std::vector<std::string> names = {"systemd",  "freezer",    "pids",   "net_cls",
                                    "net_prio", "perf_event", "cpuset", "cpu",
                                    "cpuacct",  "memory",     "blkio",  "rdma"};
  if (!InUserNamespace(roots.proc)) names.push_back("devices");
  cg.hugepage_sizes = HugePageSizes(roots.hugepages);
  names.push_back("hugetlb");
  std::vector<std::string> enabled;
  for (const auto& n : names) {
    if (n == "hugetlb" && cg.hugepage_sizes.empty() && !Exists(roots.hugepages)) continue;
    if (Exists(Join(root, n))) enabled.push_back(n);
  }
  if (enabled.empty()) throw errdefs::NotFound("cgroups: cgroup deleted");

  // /proc/<pid>/cgroup: "id:controller[,controller...]:path"; the "0::"
  // line is the unified hierarchy, which v1 ignores.
  const std::string cgroup_file = roots.proc + "/" + std::to_string(pid) + "/cgroup";
  std::string text;
  try {
    text = detail::ReadFile(cgroup_file);
  } catch (const NotExist&) {
    throw errdefs::NotFound("parse cgroup file " + cgroup_file + ": no such file or directory");
  }
  std::map<std::string, std::string, std::less<>> paths;
  for (std::string_view line : Lines(text)) {
    size_t a = line.find(':');
    size_t b = a == std::string_view::npos ? a : line.find(':', a + 1);
    if (b == std::string_view::npos) {
      throw errdefs::Unknown("parse cgroup file " + cgroup_file + ": invalid cgroup entry: \"" +
                             std::string(line) + "\"");
    }
    std::string_view path = line.substr(b + 1);
    for (std::string_view sub : Split(line.substr(a + 1, b - a - 1), ',')) {
      if (!sub.empty()) paths[std::string(sub)] = std::string(path);
    }
  }
  // Inside a container the hierarchy is mounted from the container's own
  // cgroup: paths are relative to the mount's root (containerd keeps the
  // mount root itself when the two are equal).
  for (auto& [name, path] : paths) {
    std::string dest = MountDestination(mountinfo, name);
    std::string rel = Rel(detail::Clean(dest), detail::Clean(path));
    if (rel == ".") rel = dest;
    path = Join("/", rel);
  }

  for (const auto& n : enabled) {
    auto it = paths.find(n);
    if (it == paths.end()) it = paths.find("name=" + n);
    if (it == paths.end()) continue;  // controller not active for the process
    std::string dir = Join(Join(root, n), it->second);
    if (!Exists(dir)) continue;
    cg.subsystems.push_back({n, dir});
  }
  if (cg.subsystems.empty()) throw errdefs::NotFound("cgroups: cgroup deleted");
  return cg;
}

}  // namespace mcd::cgroupstats
