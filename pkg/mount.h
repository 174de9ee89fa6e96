#pragma once
// Mounts as containerd describes them (api/types Mount): a type, a source and
// options in fstab style. Snapshotters return them, the runtime mounts them
// onto a bundle's rootfs, the differ mounts them to a temporary directory.
#include <optional>
#include <string>
#include <vector>

#include "github.com/containerd/containerd/api/types/mount.pb.h"

namespace mcd::mount {

struct Mount {
  std::string type;    // "bind", "overlay", ...
  std::string source;  // a path, or "overlay"
  std::string target;  // optional sub-path under the mount point (containerd 1.7+); empty = root
  std::vector<std::string> options;

  Mount() = default;
  Mount(std::string type, std::string source, std::vector<std::string> options)
      : type(std::move(type)), source(std::move(source)), options(std::move(options)) {}
  bool operator==(const Mount&) const = default;
  // Whether "ro" is among the options.
  bool ReadOnly() const;
};

// Mounts m onto target. Flags-like options (ro, bind, rbind, nosuid, ...)
// become mount flags, propagation options (rprivate, ...) a separate call,
// the rest the filesystem data. A read-only bind mount is remounted read-only
// since the kernel ignores MS_RDONLY on the first bind. An overlay whose data
// would exceed the kernel's page limit is mounted as CompactLowerdirs says.
// Throws errdefs errors.
void MountOne(const Mount& m, const std::string& target);

// The kernel takes at most a page of mount data, so deep overlay stacks
// (snapshots/N/fs x 100+) do not fit. As containerd does, the lowerdir paths
// can be made relative to their deepest common directory and the mount made
// from there (overlay resolves lowerdirs against the caller's working
// directory). Returns that directory and the rewritten options; nullopt when
// there is no lowerdir option or a lowerdir is not absolute.
struct Compacted {
  std::string dir;
  std::vector<std::string> options;
};
std::optional<Compacted> CompactLowerdirs(const std::vector<std::string>& options);

// Mounts each in order onto target (later ones stack on earlier ones). On a
// failure what was mounted is undone before the error is rethrown.
void MountAll(const std::vector<Mount>& mounts, const std::string& target);

// umount2(target, flags); EINVAL (not a mount point) is an error here.
void Unmount(const std::string& target, int flags = 0);
// Unmounts every mount stacked on target until it is no longer a mount
// point; a missing target or nothing mounted is fine.
void UnmountAll(const std::string& target, int flags = 0);
// Mount points at or under prefix, from this mount namespace's table.
std::vector<std::string> MountPointsUnder(const std::string& prefix);
// Lazily unmounts every mount at or under `prefix`, deepest first (cleanup
// of a throwaway root: nothing mounted there may outlive it).
void UnmountAllUnder(const std::string& prefix);
// Whether path is a mount point (its mount id differs from its parent's).
bool IsMountPoint(const std::string& path);

// The mount a path lies on (containerd's mount.Lookup): the deepest mount
// point at or above its real path in /proc/self/mountinfo, the last one
// mounted there when several are stacked.
struct MountInfo {
  std::string point;
  std::string fstype;
  std::string source;
};
MountInfo Lookup(const std::string& path);
// The same over a mountinfo text, for a path already resolved.
std::optional<MountInfo> LookupIn(std::string_view mountinfo, const std::string& real_path);

// Creates `dir` (0700) for temporary mounts and unmounts and removes what a
// crashed daemon left there, deepest first. A mount that cannot be unmounted
// stays and is returned as a warning.
std::vector<std::string> CleanupTempMounts(const std::string& dir);

// A temporary mount for the differ: a fresh directory under `parent_dir`
// (default: $TMPDIR or /tmp) with the mounts on it; destruction unmounts
// (lazily if busy) and removes the directory.
class TempMount {
 public:
  explicit TempMount(const std::vector<Mount>& mounts, const std::string& parent_dir = "");
  ~TempMount();
  TempMount(const TempMount&) = delete;
  TempMount& operator=(const TempMount&) = delete;
  const std::string& path() const { return path_; }
  // Unmounts and removes now; throws on failure (the destructor only logs).
  void Release();

 private:
  std::string path_;
  bool mounted_ = false;
};

// Conversions to and from the API message.
Mount FromProto(const containerd::types::Mount& m);
void ToProto(const Mount& m, containerd::types::Mount* out);
std::vector<Mount> FromProto(
    const google::protobuf::RepeatedPtrField<containerd::types::Mount>& ms);
void ToProto(const std::vector<Mount>& ms,
             google::protobuf::RepeatedPtrField<containerd::types::Mount>* out);

}  // namespace mcd::mount
