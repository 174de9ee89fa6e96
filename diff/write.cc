#include "diff/write.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <vector>

#include "content/digest.h"
#include "pkg/errdefs.h"
#include "pkg/fd.h"
#include "pkg/fs.h"

namespace mcd::diff {
namespace {

// sha256 of the tar, then gzip (zlib) to the sink.
struct Out {
  const std::function<void(std::string_view)>* sink;
  bool gzip;
  content::Digester sha;
  z_stream z{};
  std::vector<unsigned char> zbuf = std::vector<unsigned char>(1 << 16);
  std::exception_ptr error;

  Out(const std::function<void(std::string_view)>* s, bool g) : sink(s), gzip(g) {
    if (gzip && deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                             Z_DEFAULT_STRATEGY) != Z_OK) {
      throw errdefs::Internal("deflateInit2 failed");
    }
  }
  ~Out() {
    if (gzip) deflateEnd(&z);
  }
  void Deflate(const void* p, size_t n, int flush) {
    z.next_in = static_cast<Bytef*>(const_cast<void*>(p));
    z.avail_in = static_cast<uInt>(n);
    do {
      z.next_out = zbuf.data();
      z.avail_out = static_cast<uInt>(zbuf.size());
      deflate(&z, flush);
      size_t have = zbuf.size() - z.avail_out;
      if (have) (*sink)(std::string_view(reinterpret_cast<char*>(zbuf.data()), have));
    } while (z.avail_out == 0);
  }
  void Write(const void* p, size_t n) {
    sha.Update(p, n);
    if (gzip) {
      Deflate(p, n, Z_NO_FLUSH);
    } else {
      (*sink)(std::string_view(static_cast<const char*>(p), n));
    }
  }
  void Finish() {
    if (gzip) Deflate(nullptr, 0, Z_FINISH);
  }
  std::string Digest() const { return sha.Digest(); }
};

la_ssize_t WriteCb(struct archive*, void* data, const void* buf, size_t n) {
  auto* o = static_cast<Out*>(data);
  try {
    o->Write(buf, n);
    return static_cast<la_ssize_t>(n);
  } catch (...) {
    o->error = std::current_exception();
    return -1;
  }
}

struct Ent {
  std::string name;
  struct stat st;
};

std::vector<std::string> List(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (auto* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(n);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

std::string ReadLink(const std::string& p) {
  std::vector<char> buf(4096);
  ssize_t n = ::readlink(p.c_str(), buf.data(), buf.size());
  return n < 0 ? std::string() : std::string(buf.data(), static_cast<size_t>(n));
}

// containerd's sameFile: metadata equal, and content when times cannot tell.
bool Same(const std::string& lp, const struct stat& l, const std::string& up,
          const struct stat& u) {
  if ((l.st_mode & S_IFMT) != (u.st_mode & S_IFMT) || l.st_mode != u.st_mode ||
      l.st_uid != u.st_uid || l.st_gid != u.st_gid || l.st_rdev != u.st_rdev) {
    return false;
  }
  if (S_ISDIR(u.st_mode))
    return l.st_mtim.tv_sec == u.st_mtim.tv_sec && l.st_mtim.tv_nsec == u.st_mtim.tv_nsec;
  if (l.st_size != u.st_size) return false;
  if (S_ISLNK(u.st_mode)) return ReadLink(lp) == ReadLink(up);
  if (l.st_mtim.tv_sec != u.st_mtim.tv_sec || l.st_mtim.tv_nsec != u.st_mtim.tv_nsec) return false;
  if (u.st_mtim.tv_nsec == 0 && S_ISREG(u.st_mode)) return fs::SameContent(lp, up);
  return true;
}

class Writer {
 public:
  Writer(struct archive* a, std::string lower, std::string upper)
      : a_(a), lower_(std::move(lower)), upper_(std::move(upper)) {}

  void Walk(const std::string& rel, bool lower_exists) {
    std::string ud = upper_ + (rel.empty() ? "" : "/" + rel);
    std::string ld = lower_ + (rel.empty() ? "" : "/" + rel);
    auto un = List(ud);
    std::vector<std::string> ln = lower_exists ? List(ld) : std::vector<std::string>{};
    // Merge in name order: removals become whiteouts beside their siblings.
    size_t i = 0, j = 0;
    while (i < un.size() || j < ln.size()) {
      bool take_u = j >= ln.size() || (i < un.size() && un[i] <= ln[j]);
      bool both = i < un.size() && j < ln.size() && un[i] == ln[j];
      std::string name = take_u ? un[i] : ln[j];
      std::string child = rel.empty() ? name : rel + "/" + name;
      if (!take_u) {
        Whiteout(rel, name);
        ++j;
        continue;
      }
      struct stat us;
      if (::lstat((ud + "/" + name).c_str(), &us) != 0)
        throw errdefs::FromErrno(errno, "lstat " + child);
      std::optional<struct stat> ls;
      if (both) {
        struct stat s;
        if (::lstat((ld + "/" + name).c_str(), &s) == 0) ls = s;
      }
      bool changed = !ls || !Same(ld + "/" + name, *ls, ud + "/" + name, us);
      if (changed) Add(child, us);
      if (S_ISDIR(us.st_mode)) {
        size_t depth = pending_.size();
        if (!changed) pending_.push_back({child, us});
        Walk(child, ls && S_ISDIR(ls->st_mode));
        pending_.resize(depth);
      }
      ++i;
      if (both) ++j;
    }
  }

 private:
  // Unchanged parents of a change go into the layer first, as containerd's.
  void FlushParents() {
    for (auto& p : pending_) {
      if (!p.name.empty()) Header(p.name, p.st, "");
      p.name.clear();
    }
  }

  void Whiteout(const std::string& rel, const std::string& name) {
    FlushParents();
    struct stat st {};
    st.st_mode = S_IFREG | 0644;
    // containerd stamps whiteouts with the parent's times.
    std::string parent = upper_ + (rel.empty() ? "" : "/" + rel);
    struct stat ps;
    if (::lstat(parent.c_str(), &ps) == 0) {
      st.st_mtim = ps.st_mtim;
      st.st_atim = ps.st_atim;
    }
    Header((rel.empty() ? "" : rel + "/") + ".wh." + name, st, "");
  }

  void Add(const std::string& rel, const struct stat& st) {
    FlushParents();
    std::string path = upper_ + "/" + rel;
    if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
      auto key = std::make_pair(st.st_dev, st.st_ino);
      auto it = links_.find(key);
      if (it != links_.end()) {
        Header(rel, st, it->second);
        return;
      }
      links_.emplace(key, rel);
    }
    Header(rel, st, "");
    if (S_ISREG(st.st_mode) && st.st_size > 0) {
      UniqueFd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
      if (!f) throw errdefs::FromErrno(errno, "open " + path);
      std::vector<char> buf(1 << 20);
      for (;;) {
        ssize_t n = ::read(f.get(), buf.data(), buf.size());
        if (n < 0) {
          if (errno == EINTR) continue;
          throw errdefs::FromErrno(errno, "read " + path);
        }
        if (n == 0) break;
        if (archive_write_data(a_, buf.data(), static_cast<size_t>(n)) < 0) Fail();
      }
    }
  }

  void Header(const std::string& rel, const struct stat& st, const std::string& hardlink) {
    struct archive_entry* e = archive_entry_new();
    std::string name = S_ISDIR(st.st_mode) ? rel + "/" : rel;
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_copy_stat(e, &st);
    archive_entry_set_nlink(e, 1);
    archive_entry_unset_atime(e);
    archive_entry_unset_ctime(e);
    archive_entry_unset_birthtime(e);
    std::string path = upper_ + "/" + rel;
    if (!hardlink.empty()) {
      archive_entry_set_hardlink(e, hardlink.c_str());
      archive_entry_set_size(e, 0);
    } else if (S_ISLNK(st.st_mode)) {
      archive_entry_set_symlink(e, ReadLink(path).c_str());
    }
    if (!S_ISREG(st.st_mode) || !hardlink.empty()) archive_entry_set_size(e, 0);
    if (st.st_ino != 0) Xattrs(e, path);
    if (archive_write_header(a_, e) < ARCHIVE_WARN) {
      archive_entry_free(e);
      Fail();
    }
    archive_entry_free(e);
  }

  void Xattrs(struct archive_entry* e, const std::string& path) {
    std::vector<char> names(65536);
    ssize_t n = ::llistxattr(path.c_str(), names.data(), names.size());
    if (n <= 0) return;
    for (const char* k = names.data(); k < names.data() + n; k += std::strlen(k) + 1) {
      // Overlay's own bookkeeping is not part of the content.
      if (std::strncmp(k, "trusted.overlay.", 16) == 0) continue;
      std::vector<char> v(65536);
      ssize_t m = ::lgetxattr(path.c_str(), k, v.data(), v.size());
      if (m >= 0) archive_entry_xattr_add_entry(e, k, v.data(), static_cast<size_t>(m));
    }
  }

  [[noreturn]] void Fail() {
    throw errdefs::Unknown(std::string("failed to write diff: ") + archive_error_string(a_));
  }

  struct archive* a_;
  std::string lower_, upper_;
  std::vector<Ent> pending_;
  std::map<std::pair<dev_t, ino_t>, std::string> links_;
};

}  // namespace

std::string WriteDiff(const std::string& lower, const std::string& upper, bool gzip,
                      const std::function<void(std::string_view)>& sink) {
  Out out(&sink, gzip);
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_set_bytes_per_block(a, 0);  // no padding to 10 KiB records
  if (archive_write_open(a, &out, nullptr, WriteCb, nullptr) != ARCHIVE_OK) {
    std::string err = archive_error_string(a);
    archive_write_free(a);
    throw errdefs::Unknown("failed to write diff: " + err);
  }
  try {
    Writer w(a, lower, upper);
    w.Walk("", true);
    if (archive_write_close(a) != ARCHIVE_OK) {
      if (out.error) std::rethrow_exception(out.error);
      throw errdefs::Unknown(std::string("failed to write diff: ") + archive_error_string(a));
    }
  } catch (...) {
    archive_write_free(a);
    if (out.error) std::rethrow_exception(out.error);
    throw;
  }
  archive_write_free(a);
  if (out.error) std::rethrow_exception(out.error);
  out.Finish();
  return out.Digest();
}

}  // namespace mcd::diff
