#pragma once
// The daemon's own process settings from config.toml, applied at start-up
// before any plugin, as containerd 1.6's: `[cgroup] path` (the daemon moves
// itself into that cgroup, created if missing, in every cgroup v1 hierarchy
// or the unified one) and `oom_score`.
#include <sys/types.h>

#include <string>

namespace mcd::daemon {

// Moves `pid` into the cgroup `path` (relative to each hierarchy's root).
// `mountinfo` is the text of /proc/self/mountinfo; tests pass their own.
void JoinCgroup(const std::string& path, pid_t pid);
void JoinCgroup(const std::string& path, pid_t pid, const std::string& mountinfo);

// Sets /proc/<pid>/oom_score_adj.
void SetOomScore(pid_t pid, int score);

}  // namespace mcd::daemon
