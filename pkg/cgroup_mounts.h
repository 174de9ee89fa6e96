#pragma once
// The cgroup hierarchies mounted in this mount namespace, from mountinfo:
// where each is mounted, which part of its hierarchy the mount shows, and its
// controllers. The one parser for the daemon's cgroup users.
#include <string>
#include <string_view>
#include <vector>

namespace mcd::cgroups {

struct Mount {
  std::string mountpoint;                 // e.g. /sys/fs/cgroup/memory
  std::string root;                       // the hierarchy's directory shown there, "/" usually
  bool v2 = false;                        // fstype cgroup2 (else cgroup, v1)
  std::vector<std::string> options = {};  // super options: the v1 controllers, "rw", ...
  bool Has(std::string_view option) const;
};

// Every cgroup and cgroup2 mount of a mountinfo text, in its order.
std::vector<Mount> ParseMounts(std::string_view mountinfo);
// The same for /proc/self/mountinfo (empty when unreadable).
std::vector<Mount> Mounts();
// The hierarchies a process is placed in: the v1 mounts, or the cgroup2
// mount when the system is unified (no v1 mount at all).
std::vector<Mount> Hierarchies(std::string_view mountinfo);

}  // namespace mcd::cgroups
