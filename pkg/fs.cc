#include "pkg/fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <vector>

#include "pkg/errdefs.h"
#include "pkg/fd.h"

namespace mcd::fs {

std::optional<std::string> ReadFileIfExists(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return std::nullopt;
    throw errdefs::FromErrno(errno, "open " + path);
  }
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw errdefs::FromErrno(errno, "read " + path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::string ReadFile(const std::string& path) {
  if (auto data = ReadFileIfExists(path)) return std::move(*data);
  throw errdefs::FromErrno(ENOENT, "open " + path);
}

void WriteFileAtomic(const std::string& path, std::string_view data, int mode) {
  std::string tmp = path + ".tmp";
  {
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
    if (!fd) throw errdefs::FromErrno(errno, "create " + tmp);
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = ::write(fd.get(), data.data() + off, data.size() - off);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw errdefs::FromErrno(errno, "write " + tmp);
      }
      off += static_cast<size_t>(n);
    }
    if (::fsync(fd.get()) != 0) throw errdefs::FromErrno(errno, "fsync " + tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw errdefs::FromErrno(err, "rename " + tmp);
  }
  SyncDir(std::filesystem::path(path).parent_path().string());
}

void MkdirAll(const std::string& path, int mode) {
  std::error_code ec;
  std::filesystem::path p(path);
  std::filesystem::path cur;
  for (const auto& part : p) {
    cur /= part;
    if (cur.empty() || std::filesystem::is_directory(cur, ec)) continue;
    if (::mkdir(cur.c_str(), static_cast<mode_t>(mode)) != 0 && errno != EEXIST) {
      throw errdefs::FromErrno(errno, "mkdir " + cur.string());
    }
  }
}

void RemoveAll(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec && ec.value() != ENOENT) throw errdefs::FromErrno(ec.value(), "remove " + path);
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

void SyncDir(const std::string& dir) {
  UniqueFd fd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd) ::fsync(fd.get());
}

bool SameContent(const std::string& a, const std::string& b) {
  UniqueFd fa(::open(a.c_str(), O_RDONLY | O_CLOEXEC)), fb(::open(b.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fa || !fb) return false;
  std::vector<char> ba(1 << 16), bb(1 << 16);
  for (;;) {
    ssize_t na = ::read(fa.get(), ba.data(), ba.size());
    ssize_t nb = ::read(fb.get(), bb.data(), bb.size());
    if (na != nb || na < 0) return false;
    if (na == 0) return true;
    if (std::memcmp(ba.data(), bb.data(), static_cast<size_t>(na)) != 0) return false;
  }
}

TempDir::TempDir(const std::string& prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/" + prefix + "XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) throw errdefs::FromErrno(errno, "mkdtemp " + templ);
  path_ = std::move(templ);
}

TempDir::~TempDir() {
  try {
    RemoveAll(path_);
  } catch (...) {
    // Best effort: a destructor cannot report.
  }
}

}  // namespace mcd::fs
