#include "diff/apply.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <set>

#include "content/digest.h"
#include "pkg/errdefs.h"
#include "pkg/fd.h"

namespace mcd::diff {
namespace {

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kOpaque = ".wh..wh..opq";

std::string Join(const std::vector<std::string>& comps, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    if (i) s += '/';
    s += comps[i];
  }
  return s;
}

struct ArchiveDeleter {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<struct archive, ArchiveDeleter>;

// Decompresses (any filter libarchive knows, or none) the layer blob.
struct Outer {
  explicit Outer(const Source* s) : src(s) {}
  const Source* src;
  std::vector<char> buf = std::vector<char>(1 << 20);
  std::exception_ptr error;
};

la_ssize_t OuterRead(struct archive*, void* data, const void** out) {
  auto* o = static_cast<Outer*>(data);
  try {
    size_t n = (*o->src)(o->buf.data(), o->buf.size());
    *out = o->buf.data();
    return static_cast<la_ssize_t>(n);
  } catch (...) {
    o->error = std::current_exception();
    return -1;
  }
}

// Feeds the tar reader from the decompressed stream, hashing what passes.
struct Inner {
  explicit Inner(struct archive* o) : outer(o) {}
  struct archive* outer;
  content::Digester sha;  // over the uncompressed stream
  int64_t size = 0;
  std::vector<char> buf = std::vector<char>(1 << 20);
  bool eof = false;
};

la_ssize_t InnerRead(struct archive* a, void* data, const void** out) {
  auto* in = static_cast<Inner*>(data);
  if (in->eof) return 0;
  la_ssize_t n = archive_read_data(in->outer, in->buf.data(), in->buf.size());
  if (n < 0) {
    archive_set_error(a, EIO, "decompress: %s", archive_error_string(in->outer));
    return -1;
  }
  if (n == 0) in->eof = true;
  in->sha.Update(in->buf.data(), static_cast<size_t>(n));
  in->size += n;
  *out = in->buf.data();
  return n;
}

[[noreturn]] void ThrowErrno(int err, const std::string& what) {
  throw errdefs::FromErrno(err, what);
}

// openat2 with the root as "/" for every symlink met, so nothing resolves
// outside it; magic links (/proc/self/...) refused.
int OpenInRoot(int rootfd, const std::string& rel, uint64_t flags) {
  struct open_how how;
  std::memset(&how, 0, sizeof how);
  how.flags = flags | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  for (;;) {
    long fd = ::syscall(SYS_openat2, rootfd, rel.empty() ? "." : rel.c_str(), &how, sizeof how);
    if (fd >= 0) return static_cast<int>(fd);
    if (errno == EINTR || errno == EAGAIN) continue;
    return -1;
  }
}

// rm -rf of name inside dirfd, never following symlinks.
void RemoveAllAt(int dirfd, const std::string& name) {
  if (::unlinkat(dirfd, name.c_str(), 0) == 0 || errno == ENOENT) return;
  if (errno != EISDIR && errno != EPERM) ThrowErrno(errno, "remove " + name);
  UniqueFd d(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!d) ThrowErrno(errno, "open " + name);
  DIR* dir = ::fdopendir(::dup(d.get()));
  if (!dir) ThrowErrno(errno, "opendir " + name);
  std::vector<std::string> names;
  while (auto* e = ::readdir(dir)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  ::closedir(dir);
  for (const auto& n : names) RemoveAllAt(d.get(), n);
  if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    ThrowErrno(errno, "remove " + name);
  }
}

// "/proc/self/fd/<dirfd>/<name>": a path for the few calls without an *at
// form (lsetxattr); the final component is still not followed.
std::string FdPath(int dirfd, const std::string& name) {
  return "/proc/self/fd/" + std::to_string(dirfd) + "/" + name;
}

class Applier {
 public:
  Applier(const std::string& root, const ApplyOptions& opts) : opts_(opts), root_path_(root) {
    root_.reset(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root_) ThrowErrno(errno, "open " + root);
  }

  void Entry(struct archive* a, struct archive_entry* e) {
    entry_ = e;
    auto comps = CleanComponents(archive_entry_pathname(e) ? archive_entry_pathname(e) : "");
    if (comps.empty()) return;  // resolves to the root: ignored, as containerd
    std::string base = comps.back();
    std::string parent_rel = Join(comps, comps.size() - 1);
    UniqueFd parent = Parent(comps);
    std::string key = Join(comps, comps.size());

    if (base == kOpaque) {
      Opaque(parent.get(), parent_rel);
      return;
    }
    if (base.rfind(kWhiteoutPrefix, 0) == 0) {
      std::string orig = base.substr(kWhiteoutPrefix.size());
      if (orig.empty() || orig == "." || orig == "..") {
        throw errdefs::InvalidArgument("invalid whiteout name: " + base);
      }
      if (opts_.whiteouts == Whiteouts::kOverlay) {
        if (::mknodat(parent.get(), orig.c_str(), S_IFCHR, makedev(0, 0)) != 0) {
          ThrowErrno(errno, "failed to convert whiteout file " + key);
        }
        Chown(parent.get(), orig, parent_rel.empty() ? orig : parent_rel + "/" + orig, e);
      } else {
        RemoveAllAt(parent.get(), orig);
      }
      return;
    }

    mode_t type = archive_entry_filetype(e);
    const char* hardlink = archive_entry_hardlink(e);
    struct stat st;
    if (::fstatat(parent.get(), base.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      if (!(S_ISDIR(st.st_mode) && type == AE_IFDIR && !hardlink)) RemoveAllAt(parent.get(), base);
    }
    mode_t perm = archive_entry_perm(e) & 07777;
    bool symlink = false;
    if (hardlink) {
      Link(parent.get(), base, hardlink);
    } else {
      switch (type) {
        case AE_IFDIR:
          if (::mkdirat(parent.get(), base.c_str(), perm) != 0 && errno != EEXIST) {
            ThrowErrno(errno, "mkdir " + key);
          }
          AddDir(key, e);
          break;
        case AE_IFREG:
          WriteFile(a, parent.get(), base, perm, key);
          break;
        case AE_IFLNK:
          symlink = true;
          if (::symlinkat(archive_entry_symlink(e) ? archive_entry_symlink(e) : "", parent.get(),
                          base.c_str()) != 0) {
            ThrowErrno(errno, "symlink " + key);
          }
          break;
        case AE_IFCHR:
        case AE_IFBLK:
        case AE_IFIFO:
          if (::mknodat(parent.get(), base.c_str(), type | perm, archive_entry_rdev(e)) != 0) {
            ThrowErrno(errno, "mknod " + key);
          }
          break;
        default:
          throw errdefs::InvalidArgument("unhandled tar header type " + std::to_string(type) +
                                         " for " + key);
      }
    }
    if (hardlink) {
      unpacked_.insert(key);
      return;  // a link shares its target's inode and attributes
    }
    Chown(parent.get(), base, key, e);
    Xattrs(parent.get(), base, e, symlink);
    if (!symlink && ::fchmodat(parent.get(), base.c_str(), perm, 0) != 0) {
      ThrowErrno(errno, "chmod " + key);
    }
    if (type != AE_IFDIR) Times(parent.get(), base, e);
    unpacked_.insert(key);
  }

  // Directory times last: creating entries inside would change them.
  void Finish() {
    for (const auto& [key, times] : dirs_) {
      auto comps = CleanComponents(key);
      UniqueFd parent = Parent(comps);
      struct timespec ts[2] = {times.atime, times.mtime};
      ::utimensat(parent.get(), comps.back().c_str(), ts, AT_SYMLINK_NOFOLLOW);
    }
  }

 private:
  struct DirTimes {
    struct timespec atime, mtime;
  };
  static DirTimes TimesOf(struct archive_entry* e) {
    DirTimes t;
    t.mtime = {archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
    t.atime = t.mtime;
    if (archive_entry_atime_is_set(e) && archive_entry_atime(e) > t.mtime.tv_sec) {
      t.atime = {archive_entry_atime(e), archive_entry_atime_nsec(e)};
    }
    return t;
  }

  // The entry's parent directory, resolved inside the root, created (with
  // the lower layers' attributes) when missing.
  UniqueFd Parent(const std::vector<std::string>& comps) {
    size_t n = comps.size() - 1;
    UniqueFd fd(OpenInRoot(root_.get(), Join(comps, n), O_PATH | O_DIRECTORY));
    if (fd) return fd;
    if (errno != ENOENT) ThrowErrno(errno, "resolve " + Join(comps, n));
    UniqueFd cur(OpenInRoot(root_.get(), "", O_PATH | O_DIRECTORY));
    for (size_t i = 0; i < n; ++i) {
      std::string rel = Join(comps, i + 1);
      UniqueFd next(OpenInRoot(root_.get(), rel, O_PATH | O_DIRECTORY));
      if (!next) {
        if (errno != ENOENT) ThrowErrno(errno, "resolve " + rel);
        if (::mkdirat(cur.get(), comps[i].c_str(), 0755) != 0 && errno != EEXIST) {
          ThrowErrno(errno, "mkdir " + rel);
        }
        CopyParentInfo(cur.get(), comps[i], rel);
        next.reset(OpenInRoot(root_.get(), rel, O_PATH | O_DIRECTORY));
        if (!next) ThrowErrno(errno, "resolve " + rel);
      }
      cur = std::move(next);
    }
    return cur;
  }

  void CopyParentInfo(int dirfd, const std::string& name, const std::string& rel) {
    for (const auto& p : opts_.parents) {
      UniqueFd proot(::open(p.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
      if (!proot) continue;
      UniqueFd d(OpenInRoot(proot.get(), rel, O_PATH | O_NOFOLLOW));
      if (!d) continue;
      struct stat st;
      if (::fstat(d.get(), &st) != 0) continue;
      if (!S_ISDIR(st.st_mode)) break;  // replaced below: nothing to copy
      ::fchownat(dirfd, name.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
      ::fchmodat(dirfd, name.c_str(), st.st_mode & 07777, 0);
      struct timespec ts[2] = {st.st_atim, st.st_mtim};
      ::utimensat(dirfd, name.c_str(), ts, AT_SYMLINK_NOFOLLOW);
      return;
    }
  }

  void Opaque(int dirfd, const std::string& dir_rel) {
    if (opts_.whiteouts == Whiteouts::kOverlay) {
      UniqueFd d(::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (!d || ::fsetxattr(d.get(), "trusted.overlay.opaque", "y", 1, 0) != 0) {
        ThrowErrno(errno,
                   "failed to convert whiteout file " + dir_rel + "/" + std::string(kOpaque));
      }
      return;
    }
    // Remove what lower layers put here; keep what this layer already wrote.
    RemoveUnpacked(dirfd, dir_rel);
  }

  void RemoveUnpacked(int dirfd, const std::string& rel) {
    UniqueFd d(::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!d) ThrowErrno(errno, "open " + rel);
    DIR* dir = ::fdopendir(::dup(d.get()));
    if (!dir) ThrowErrno(errno, "opendir " + rel);
    std::vector<std::pair<std::string, bool>> names;
    while (auto* e = ::readdir(dir)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.emplace_back(n, e->d_type == DT_DIR);
    }
    ::closedir(dir);
    for (const auto& [n, is_dir] : names) {
      std::string child = rel.empty() ? n : rel + "/" + n;
      if (!unpacked_.count(child)) {
        RemoveAllAt(d.get(), n);
      } else if (is_dir) {
        UniqueFd sub(::openat(d.get(), n.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (sub) RemoveUnpacked(sub.get(), child);
      }
    }
  }

  void Link(int dirfd, const std::string& base, const std::string& linkname) {
    auto comps = CleanComponents(linkname);
    if (comps.empty()) throw errdefs::InvalidArgument("invalid hardlink target " + linkname);
    UniqueFd tparent(OpenInRoot(root_.get(), Join(comps, comps.size() - 1), O_PATH | O_DIRECTORY));
    if (!tparent) ThrowErrno(errno, "link " + linkname);
    // Flags 0: a symlink target is linked itself, never followed.
    if (::linkat(tparent.get(), comps.back().c_str(), dirfd, base.c_str(), 0) != 0) {
      ThrowErrno(errno, "link " + linkname + " to " + base);
    }
  }

  void WriteFile(struct archive* a, int dirfd, const std::string& base, mode_t perm,
                 const std::string& key) {
    UniqueFd f(
        ::openat(dirfd, base.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, perm));
    if (!f) ThrowErrno(errno, "create " + key);
    const void* buf;
    size_t size;
    la_int64_t off;
    int64_t written = 0;
    for (;;) {
      int r = archive_read_data_block(a, &buf, &size, &off);
      if (r == ARCHIVE_EOF) break;
      if (r < ARCHIVE_WARN) {
        throw errdefs::InvalidArgument(std::string("read layer: ") + archive_error_string(a));
      }
      // Sparse files come as blocks at offsets; holes stay holes.
      if (off != written && ::lseek(f.get(), off, SEEK_SET) < 0) ThrowErrno(errno, "seek " + key);
      const char* p = static_cast<const char*>(buf);
      size_t left = size;
      while (left > 0) {
        ssize_t n = ::write(f.get(), p, left);
        if (n < 0) {
          if (errno == EINTR) continue;
          ThrowErrno(errno, "write " + key);
        }
        p += n;
        left -= static_cast<size_t>(n);
      }
      written = off + static_cast<int64_t>(size);
    }
    // A sparse file may end in a hole.
    if (::ftruncate(f.get(), archive_entry_size(entry_)) != 0) ThrowErrno(errno, "truncate " + key);
  }

  // `rel`: the entry's path under the root, for containerd's message.
  void Chown(int dirfd, const std::string& name, const std::string& rel, struct archive_entry* e) {
    auto uid = archive_entry_uid(e), gid = archive_entry_gid(e);
    if (::fchownat(dirfd, name.c_str(), static_cast<uid_t>(uid), static_cast<gid_t>(gid),
                   AT_SYMLINK_NOFOLLOW) != 0) {
      std::string path = root_path_ + "/" + rel;
      ThrowErrno(errno, fmt::format("failed to Lchown {:?} for UID {}, GID {}: lchown {}", path,
                                    uid, gid, path));
    }
  }

  void Xattrs(int dirfd, const std::string& name, struct archive_entry* e, bool symlink) {
    if (archive_entry_xattr_reset(e) == 0) return;
    const char* k;
    const void* v;
    size_t n;
    std::string path = FdPath(dirfd, name);
    while (archive_entry_xattr_next(e, &k, &v, &n) == ARCHIVE_OK) {
      if (::lsetxattr(path.c_str(), k, v, n, 0) != 0) {
        if (errno == ENOTSUP || (errno == EPERM && symlink)) continue;
        ThrowErrno(errno, std::string("failed to setxattr ") + name + " for key " + k);
      }
    }
  }

  void Times(int dirfd, const std::string& name, struct archive_entry* e) {
    DirTimes t = TimesOf(e);
    struct timespec ts[2] = {t.atime, t.mtime};
    ::utimensat(dirfd, name.c_str(), ts, AT_SYMLINK_NOFOLLOW);
  }

  ApplyOptions opts_;
  UniqueFd root_;
  std::string root_path_;
  struct archive_entry* entry_ = nullptr;
  std::set<std::string> unpacked_;
  std::vector<std::pair<std::string, DirTimes>> dirs_;

 public:
  void AddDir(const std::string& key, struct archive_entry* e) {
    dirs_.emplace_back(key, TimesOf(e));
  }
};

}  // namespace

std::vector<std::string> CleanComponents(const std::string& name) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= name.size()) {
    size_t j = name.find('/', i);
    if (j == std::string::npos) j = name.size();
    std::string c = name.substr(i, j - i);
    if (c == "..") {
      if (!out.empty()) out.pop_back();
    } else if (!c.empty() && c != ".") {
      out.push_back(std::move(c));
    }
    i = j + 1;
  }
  return out;
}

Applied ApplyLayer(const Source& src, const std::string& root, const ApplyOptions& opts) {
  Outer outer(&src);
  ArchivePtr oa(archive_read_new());
  archive_read_support_filter_all(oa.get());
  archive_read_support_format_raw(oa.get());
  if (archive_read_open(oa.get(), &outer, nullptr, OuterRead, nullptr) != ARCHIVE_OK) {
    if (outer.error) std::rethrow_exception(outer.error);
    throw errdefs::InvalidArgument(std::string("open layer: ") + archive_error_string(oa.get()));
  }
  struct archive_entry* oe;
  if (archive_read_next_header(oa.get(), &oe) != ARCHIVE_OK) {
    if (outer.error) std::rethrow_exception(outer.error);
    throw errdefs::InvalidArgument(std::string("read layer: ") + archive_error_string(oa.get()));
  }

  Inner inner(oa.get());
  ArchivePtr ta(archive_read_new());
  archive_read_support_format_tar(ta.get());
  archive_read_support_format_gnutar(ta.get());
  if (archive_read_open(ta.get(), &inner, nullptr, InnerRead, nullptr) != ARCHIVE_OK) {
    if (outer.error) std::rethrow_exception(outer.error);
    throw errdefs::InvalidArgument(std::string("open tar: ") + archive_error_string(ta.get()));
  }
  Applier ap(root, opts);
  for (;;) {
    struct archive_entry* e;
    int r = archive_read_next_header(ta.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      if (outer.error) std::rethrow_exception(outer.error);
      throw errdefs::InvalidArgument(std::string("read tar: ") + archive_error_string(ta.get()));
    }
    ap.Entry(ta.get(), e);
  }
  ap.Finish();
  // The digest covers the whole stream, trailing padding included.
  const void* p;
  for (;;) {
    la_ssize_t n = InnerRead(ta.get(), &inner, &p);
    if (n == 0) break;
    if (n < 0) {
      if (outer.error) std::rethrow_exception(outer.error);
      throw errdefs::InvalidArgument(std::string("read layer: ") + archive_error_string(oa.get()));
    }
  }
  if (outer.error) std::rethrow_exception(outer.error);
  return Applied{inner.sha.Digest(), inner.size};
}

}  // namespace mcd::diff
