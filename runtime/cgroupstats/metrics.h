#pragma once
// A process's cgroup v1 statistics, read as containerd 1.6 reads them for a
// v1 task (io.containerd.runtime.v1.linux): runtime/v1/linux/task.go loads the
// task's cgroups with cgroups.Load(cgroups.V1, cgroups.PidPath(pid)) and
// answers Tasks.Metrics with cg.Stat(cgroups.IgnoreNotExist), sent as an Any
// of type io.containerd.cgroups.v1.Metrics. Same files, same parsing, same
// fields left unset when a controller or a file is missing.
#include <sys/types.h>

#include <google/protobuf/any.pb.h>

#include <string>
#include <string_view>
#include <vector>

#include "github.com/containerd/cgroups/stats/v1/metrics.pb.h"

namespace mcd::cgroupstats {

using Metrics = io::containerd::cgroups::v1::Metrics;

// The Any type URL containerd's typeurl gives the message (its full proto
// name, no prefix): `ctr task metrics` decodes Metric.data by it.
inline constexpr std::string_view kTypeUrl = "io.containerd.cgroups.v1.Metrics";

// Where the kernel's files are; tests point them at a fake tree.
struct Roots {
  // <proc>/<pid>/cgroup; <proc>/self/mountinfo (the v1 mounts, as the
  // reading process sees them); <proc>/partitions (blkio device names);
  // <proc>/self/uid_map (no devices controller in a user namespace).
  std::string proc = "/proc";
  // Parent of the v1 hierarchies (/sys/fs/cgroup). Empty: the parent of the
  // first cgroup mount in <proc>/self/mountinfo, as containerd finds it.
  std::string cgroup;
  // One directory a huge page size (hugepages-2048kB): the hugetlb sizes.
  std::string hugepages = "/sys/kernel/mm/hugepages";
};

// A process's v1 cgroups resolved once, as cgroups.Load does: the
// controllers that exist for it, each with its directory.
struct Cgroup {
  struct Subsystem {
    std::string name;  // "memory", "cpuacct", "systemd" (for name=systemd), ...
    std::string dir;   // e.g. /sys/fs/cgroup/memory/default/m1
  };
  std::vector<Subsystem> subsystems;        // containerd's order
  std::vector<std::string> hugepage_sizes;  // "2MB", "1GB"
  std::string proc;                         // Roots::proc (blkio reads partitions)
};

// Resolves pid's cgroups. NotFound when the process is gone (its
// <proc>/<pid>/cgroup missing) or none of its cgroup directories exists:
// containerd's ErrCgroupDeleted. Other errors name the file at fault.
//
// For a v1 task, containerd loads the cgroup once, when the task is created
// (or at Start when it had none) and keeps it: NotFound there means "no
// cgroup" (Stats then fails with NotFound "cgroup does not exist"), any other
// error fails the create. Stats later calls Stat on the kept Cgroup, so it
// still reads after the process exited, until the task is deleted.
Cgroup Load(pid_t pid, const Roots& roots = {});

// Reads the statistics of a loaded cgroup. A missing controller or file ends
// that controller's part silently, keeping what it had already filled
// (containerd's IgnoreNotExist); any other failure throws, naming the file.
Metrics Stat(const Cgroup& cg);

// Load then Stat.
Metrics Read(pid_t pid);
Metrics Read(pid_t pid, const Roots& roots);

// m packed as containerd sends it (type_url kTypeUrl).
google::protobuf::Any ToAny(const Metrics& m);

}  // namespace mcd::cgroupstats
