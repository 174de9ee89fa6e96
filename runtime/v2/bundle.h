#pragma once
// A task's bundle on disk, laid out as containerd 1.6 does:
//   <state>/<ns>/<id>/            0700 (0710 + remapped root gid with userns)
//     config.json                 the container's OCI spec bytes
//     rootfs/                     0711, the shim mounts the rootfs here
//     work -> <root>/<ns>/<id>    0711, the shim's persistent work dir
//     log                         fifo the daemon copies into its log
// The shim adds address, init.pid, log.json, options.json, runtime.
#include <string>
#include <string_view>
#include <vector>

namespace mcd::runtime {

class Bundle {
 public:
  // Creates a fresh bundle; anything created is removed again on failure.
  // `root` and `state` are the plugin's dirs (…/io.containerd.runtime.v2.task).
  static Bundle Create(const std::string& root, const std::string& state, const std::string& ns,
                       const std::string& id, const std::string& spec);
  // An existing bundle (no checks beyond the id).
  static Bundle Load(const std::string& state, const std::string& ns, const std::string& id);

  const std::string& id() const { return id_; }
  const std::string& ns() const { return ns_; }
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

  // Unmounts rootfs (every stacked mount), then removes the bundle and its
  // work dir, each renamed to a hidden name first so a crash never leaves a
  // half-removed bundle that looks live. Missing parts are fine.
  void Delete() const;

  // Delete in two steps, for a caller that must not wait on the disk:
  // Retire unmounts rootfs, removes the empty rootfs dir and renames the
  // bundle and its work dir to unique hidden names, so the id is free again
  // at once; Retired::Remove then removes the hidden trees.
  struct Retired {
    std::string bundle, work;  // hidden paths; empty when there was none
    void Remove() const;
  };
  Retired Retire() const;

 private:
  std::string id_, ns_, path_;
};

// The gid that container root maps to (0 without user namespaces). Throws
// InvalidArgument when the spec is not JSON.
unsigned RemappedRootGid(const std::string& spec);

// A plain write, no fsync: bundles live in the state dir, which does not
// survive a reboot, and a shim start must not wait on the disk.
void WriteFile(const std::string& path, std::string_view data, int mode);

// Unmounts everything stacked on `target` (lazy), as mount.UnmountAll does.
void UnmountAll(const std::string& target);

// The names of the directories in dir (links not followed; "." and ".."
// left out, hidden ones kept); empty when dir cannot be read. The start-up
// walk of both runtimes' <state>/<ns>/<id>.
std::vector<std::string> SubDirs(const std::string& dir);

}  // namespace mcd::runtime
