#pragma once
// Directories outside the daemon's root and state that a task's runtime makes
// and never removes: runc's root for the namespace (/run/containerd/runc/<ns>),
// the shims' socket directory, the task's cgroup and its parents in every
// hierarchy. containerd leaves them behind; here the runtimes note the ones
// missing before a task is created, and at daemon exit those left empty are
// removed, so a machine that had none has none afterwards (what a CI run
// wants). A directory that existed before, or still holds something (a
// running container's state or processes), is never touched. The notes are
// kept in a file in the runtime's state, so a daemon after a restart (or a
// crash) on the same state removes what the one before made.
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace mcd::runtime {

inline constexpr const char* kShimSocketDir = "/run/containerd/s";
inline constexpr const char* kDefaultRuncRoot = "/run/containerd/runc";

class HostDirs {
 public:
  // cgroup_dirs: where each cgroup hierarchy's root is; socket_dir: the
  // shims' (tests pass their own).
  explicit HostDirs(std::vector<std::string> cgroup_dirs = CgroupRoots(),
                    std::string socket_dir = kShimSocketDir);

  // Loads the notes kept in `file` and keeps new ones there.
  void Persist(std::string file);
  // For a task about to be created in ns: the shims' socket directory,
  // runc_root and runc_root/ns, and the parents of the spec's absolute
  // linux.cgroupsPath in every hierarchy (the path itself is runc's; a
  // systemd slice or a relative path is not ours to clean). After a
  // namespace's first task nothing is new: no write, nothing kept per task.
  void NoteTask(const std::string& ns, const std::string& runc_root, const std::string& spec_json);
  // Notes each directory from / down to dir that does not exist now.
  void NoteMissing(const std::string& dir);
  // rmdir of each noted directory, deepest first; a non-empty one stays
  // noted.
  void RemoveEmpty();
  std::vector<std::string> Noted() const;

  // The directory of each mounted hierarchy's root ("/" shown at its mount
  // point; hierarchies mounted from elsewhere are skipped).
  static std::vector<std::string> CgroupRoots();

 private:
  // Under mu_: notes the missing directories from / down to dir, adding
  // them to `added`; Append keeps them in the file.
  void Collect(const std::string& dir, std::string& added);
  void Append(const std::string& added);

  std::vector<std::string> cgroup_dirs_;
  std::string socket_dir_;
  mutable std::mutex mu_;
  std::map<std::string, bool> seen_;  // path -> missing when first seen (ours)
  std::string file_;
};

}  // namespace mcd::runtime
