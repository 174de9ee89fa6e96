#include "content/local.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <google/protobuf/util/time_util.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <thread>

#include "content/digest.h"
#include "pkg/errdefs.h"
#include "pkg/fd.h"
#include "pkg/filters.h"
#include "pkg/fs.h"
#include "pkg/log.h"

namespace mcd::content {
namespace {

using google::protobuf::util::TimeUtil;
namespace chr = std::chrono;

// How long a writer waits for a ref held by another writer before answering
// Unavailable (containerd retries for about as long).
constexpr auto kLockWait = chr::seconds(1);

std::string FormatTime(Time t) {
  auto ns = chr::duration_cast<chr::nanoseconds>(t.time_since_epoch()).count();
  return TimeUtil::ToString(TimeUtil::NanosecondsToTimestamp(ns));
}

std::optional<Time> ParseTime(const std::string& s) {
  google::protobuf::Timestamp ts;
  std::string t = s;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  if (!TimeUtil::FromString(t, &ts)) return std::nullopt;
  return Time(
      chr::duration_cast<Time::duration>(chr::nanoseconds(TimeUtil::TimestampToNanoseconds(ts))));
}

Time FromTimespec(const timespec& ts) {
  return Time(
      chr::duration_cast<Time::duration>(chr::seconds(ts.tv_sec) + chr::nanoseconds(ts.tv_nsec)));
}

// Small metadata files of an ingest: write a temp file then rename, so a
// crash leaves the old or the new content. Not synced: a lost file only makes
// the ingest unresumable, and an unresumable ingest is recreated.
void WriteSmallFile(const std::string& path, std::string_view data) {
  std::string tmp = path + ".tmp";
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd) throw errdefs::FromErrno(errno, "create " + tmp);
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw errdefs::FromErrno(errno, "write " + tmp);
    }
    done += static_cast<size_t>(n);
  }
  fd.reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) throw errdefs::FromErrno(errno, "rename " + tmp);
}

std::optional<std::string> ReadSmallFile(const std::string& path) {
  try {
    return fs::ReadFile(path);
  } catch (const errdefs::Error&) {
    return std::nullopt;
  }
}

filters::Adaptor StatusAdaptor(const Status& st) {
  return [&st](const std::vector<std::string>& path) -> std::optional<std::string> {
    if (!path.empty() && path[0] == "ref") return st.ref;
    return std::nullopt;
  };
}

}  // namespace

filters::Adaptor AdaptInfo(const Info& info) {
  return [&info](const std::vector<std::string>& path) -> std::optional<std::string> {
    if (path.empty()) return std::nullopt;
    if (path[0] == "digest") return info.digest;
    if (path[0] == "labels") {
      if (info.labels.empty()) return std::nullopt;
      std::string key;
      for (size_t i = 1; i < path.size(); ++i) key += (i > 1 ? "." : "") + path[i];
      auto it = info.labels.find(key);
      if (it == info.labels.end()) return std::nullopt;
      return it->second;
    }
    return std::nullopt;  // "size": not supported, as containerd
  };
}

// One open ingest. Holds the ref lock until Close/Commit/destruction.
class LocalWriter : public Writer {
 public:
  LocalWriter(LocalStore* s, std::string ref, std::string dir, UniqueFd fd, int64_t offset,
              int64_t total, Digester d, Time started, Time updated)
      : s_(s),
        ref_(std::move(ref)),
        dir_(std::move(dir)),
        fd_(std::move(fd)),
        offset_(offset),
        total_(total),
        digester_(std::move(d)),
        started_(started),
        updated_(updated) {}
  ~LocalWriter() override {
    try {
      Close();
    } catch (const std::exception& e) {
      log::Warn("closing content writer", {{"ref", ref_}, {"error", e.what()}});
    }
  }

  void Write(std::string_view data) override {
    if (!fd_) throw errdefs::FailedPrecondition("cannot write on closed writer");
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::write(fd_.get(), data.data() + done, data.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw errdefs::FromErrno(errno, "write ingest " + ref_);
      }
      done += static_cast<size_t>(n);
    }
    digester_.Update(data);
    offset_ += static_cast<int64_t>(data.size());
    updated_ = chr::system_clock::now();
  }

  std::string Digest() override { return digester_.Digest(); }

  Status GetStatus() override {
    return Status{.ref = ref_,
                  .offset = offset_,
                  .total = total_,
                  .expected = {},
                  .started_at = started_,
                  .updated_at = updated_};
  }

  void Truncate(int64_t size) override {
    if (size != 0) throw errdefs::Unknown("Truncate: unsupported size");
    if (!fd_) throw errdefs::FailedPrecondition("cannot truncate closed writer");
    if (::ftruncate(fd_.get(), 0) != 0 || ::lseek(fd_.get(), 0, SEEK_SET) != 0) {
      throw errdefs::FromErrno(errno, "truncate ingest " + ref_);
    }
    offset_ = 0;
    digester_ = Digester();
  }

  void Commit(int64_t size, const std::string& expected, const Labels&) override {
    if (!fd_) throw errdefs::FailedPrecondition("cannot commit on closed writer");
    // The lock goes whatever happens; the ingest stays unless committed.
    struct Release {
      LocalWriter* w;
      ~Release() { w->ReleaseLock(); }
    } release{this};
    UniqueFd fd = std::move(fd_);
    if (::fsync(fd.get()) != 0) throw errdefs::FromErrno(errno, "sync failed");
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw errdefs::FromErrno(errno, "stat on ingest file failed");
    fd.reset();
    if (size > 0 && size != st.st_size) {
      throw errdefs::FailedPrecondition(
          fmt::format("unexpected commit size {}, expected {}", st.st_size, size));
    }
    std::string dgst = digester_.Digest();
    if (!expected.empty() && expected != dgst) {
      throw errdefs::FailedPrecondition(
          fmt::format("unexpected commit digest {}, expected {}", dgst, expected));
    }
    std::string target = s_->BlobPath(dgst);
    if (::access(target.c_str(), F_OK) == 0) {
      fs::RemoveAll(dir_);
      throw errdefs::AlreadyExists("content " + dgst);
    }
    std::string data = dir_ + "/data";
    // Read-only like containerd's blobs, then published by rename and made
    // durable by syncing the directory.
    ::fchmodat(AT_FDCWD, data.c_str(), 0444, 0);
    if (::rename(data.c_str(), target.c_str()) != 0) {
      throw errdefs::FromErrno(errno, "commit " + dgst);
    }
    fs::SyncDir(s_->root() + "/blobs/sha256");
    fs::RemoveAll(dir_);
  }

  void Close() override {
    if (!fd_) return;
    ::fsync(fd_.get());
    fd_.reset();
    try {
      WriteSmallFile(dir_ + "/updatedat", FormatTime(updated_));
    } catch (const std::exception& e) {
      log::Warn("writing ingest updatedat", {{"ref", ref_}, {"error", e.what()}});
    }
    ReleaseLock();
  }

 private:
  void ReleaseLock() {
    if (locked_) {
      locked_ = false;
      s_->Unlock(ref_);
    }
  }

  LocalStore* s_;
  std::string ref_;
  std::string dir_;
  UniqueFd fd_;
  int64_t offset_;
  int64_t total_;
  Digester digester_;
  Time started_;
  Time updated_;
  bool locked_ = true;
};

LocalStore::LocalStore(std::string root) : root_(std::move(root)) {
  // containerd's modes (0777 less the usual umask).
  fs::MkdirAll(root_ + "/ingest", 0755);
  fs::MkdirAll(root_ + "/blobs/sha256", 0755);
}

std::string LocalStore::BlobPath(const std::string& digest) const {
  if (!IsValid(digest)) {
    throw errdefs::InvalidArgument("cannot calculate blob path from invalid digest: " + digest);
  }
  return root_ + "/blobs/sha256/" + std::string(Hex(digest));
}

std::string LocalStore::IngestDir(const std::string& ref) const {
  return root_ + "/ingest/" + std::string(Hex(FromBytes(ref)));
}

bool LocalStore::Exists(const std::string& digest) {
  return ::access(BlobPath(digest).c_str(), F_OK) == 0;
}

Info LocalStore::GetInfo(const Context&, const std::string& digest) {
  struct stat st {};
  if (::stat(BlobPath(digest).c_str(), &st) != 0) {
    if (errno == ENOENT) throw errdefs::NotFound("content " + digest);
    throw errdefs::FromErrno(errno, "stat " + digest);
  }
  return Info{.digest = digest,
              .size = st.st_size,
              .created_at = FromTimespec(st.st_mtim),
              .updated_at = FromTimespec(st.st_atim),
              .labels = {}};
}

Info LocalStore::Update(const Context&, const Info&, const std::vector<std::string>&) {
  throw errdefs::FailedPrecondition("update not supported on immutable content store");
}

void LocalStore::Walk(const Context& ctx, const std::function<void(const Info&)>& fn,
                      const std::vector<std::string>& filter_texts) {
  auto filter = filters::ParseAll(filter_texts);
  std::string dir = root_ + "/blobs/sha256";
  std::vector<std::string> names;
  {
    std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
    if (!d) {
      if (errno == ENOENT) return;
      throw errdefs::FromErrno(errno, "open " + dir);
    }
    while (auto* e = ::readdir(d.get())) {
      std::string n = e->d_name;
      if (n == "." || n == "..") continue;
      names.push_back(n);
    }
  }
  for (const auto& n : names) {
    std::string digest = "sha256:" + n;
    if (!IsValid(digest)) continue;
    Info info;
    try {
      info = GetInfo(ctx, digest);
    } catch (const errdefs::Error& e) {
      if (e.code() == errdefs::Code::kNotFound) continue;  // removed meanwhile
      throw;
    }
    if (filter.Match(AdaptInfo(info))) fn(info);
  }
}

void LocalStore::Delete(const Context&, const std::string& digest) {
  if (::unlink(BlobPath(digest).c_str()) != 0) {
    if (errno == ENOENT) throw errdefs::NotFound("content " + digest);
    throw errdefs::FromErrno(errno, "delete " + digest);
  }
}

namespace {
class FileReader : public ReaderAt {
 public:
  FileReader(UniqueFd fd, int64_t size) : fd_(std::move(fd)), size_(size) {}
  size_t ReadAt(void* buf, size_t n, int64_t off) override {
    if (off >= size_) return 0;
    for (;;) {
      ssize_t r = ::pread(fd_.get(), buf, n, off);
      if (r >= 0) return static_cast<size_t>(r);
      if (errno != EINTR) throw errdefs::FromErrno(errno, "read blob");
    }
  }
  int64_t Size() const override { return size_; }

 private:
  UniqueFd fd_;
  int64_t size_;
};
}  // namespace

std::unique_ptr<ReaderAt> LocalStore::OpenReader(const Context&, const std::string& digest) {
  std::string p = BlobPath(digest);
  UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) throw errdefs::NotFound("content " + digest);
    throw errdefs::FromErrno(errno, "open " + digest);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw errdefs::FromErrno(errno, "stat " + digest);
  return std::make_unique<FileReader>(std::move(fd), st.st_size);
}

namespace {
// The status of an ingest directory, or nullopt when it is not a valid one.
std::optional<Status> ReadStatus(const std::string& dir) {
  struct stat st {};
  if (::stat((dir + "/data").c_str(), &st) != 0) return std::nullopt;
  auto ref = ReadSmallFile(dir + "/ref");
  auto started = ReadSmallFile(dir + "/startedat");
  auto updated = ReadSmallFile(dir + "/updatedat");
  if (!ref || !started || !updated) return std::nullopt;
  auto s = ParseTime(*started);
  auto u = ParseTime(*updated);
  if (!s || !u) return std::nullopt;
  Status out;
  out.ref = *ref;
  out.offset = st.st_size;
  out.started_at = *s;
  out.updated_at = std::max(*u, FromTimespec(st.st_mtim));
  if (auto total = ReadSmallFile(dir + "/total")) {
    try {
      out.total = std::stoll(*total);
    } catch (const std::exception&) {
      out.total = 0;
    }
  }
  return out;
}
}  // namespace

Status LocalStore::GetStatus(const Context&, const std::string& ref) {
  auto st = ReadStatus(IngestDir(ref));
  if (!st) throw errdefs::NotFound("ingest ref \"" + ref + "\"");
  return *st;
}

std::vector<Status> LocalStore::ListStatuses(const Context&,
                                             const std::vector<std::string>& filter_texts) {
  auto filter = filters::ParseAll(filter_texts);
  std::vector<Status> out;
  std::string dir = root_ + "/ingest";
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d) throw errdefs::FromErrno(errno, "open " + dir);
  while (auto* e = ::readdir(d.get())) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    auto st = ReadStatus(dir + "/" + n);
    if (st && filter.Match(StatusAdaptor(*st))) out.push_back(std::move(*st));
  }
  return out;
}

void LocalStore::Abort(const Context&, const std::string& ref) {
  std::string dir = IngestDir(ref);
  if (!fs::Exists(dir)) throw errdefs::NotFound("ingest ref \"" + ref + "\"");
  fs::RemoveAll(dir);
}

void LocalStore::Unlock(const std::string& ref) {
  {
    std::lock_guard l(mu_);
    locks_.erase(ref);
  }
  cv_.notify_all();
}

std::unique_ptr<Writer> LocalStore::OpenWriter(const Context&, const WriterOptions& opts) {
  if (opts.ref.empty()) throw errdefs::InvalidArgument("ref must not be empty");
  {
    std::unique_lock l(mu_);
    auto deadline = chr::steady_clock::now() + kLockWait;
    while (locks_.count(opts.ref)) {
      if (cv_.wait_until(l, deadline) == std::cv_status::timeout && locks_.count(opts.ref)) {
        Time since = locks_[opts.ref];
        auto held = chr::duration_cast<chr::milliseconds>(chr::system_clock::now() - since);
        throw errdefs::Unavailable(fmt::format("ref {} locked for {}s (since {})", opts.ref,
                                               static_cast<double>(held.count()) / 1000.0,
                                               FormatTime(since)));
      }
    }
    locks_[opts.ref] = chr::system_clock::now();
  }
  try {
    if (!opts.expected.empty() && Exists(opts.expected)) {
      throw errdefs::AlreadyExists("content " + opts.expected);
    }
    std::string dir = IngestDir(opts.ref);
    Digester digester;
    int64_t offset = 0, total = opts.total;
    Time started{}, updated{};
    bool resumed = false;
    if (::mkdir(dir.c_str(), 0755) != 0) {
      if (errno != EEXIST) throw errdefs::FromErrno(errno, "create ingest " + opts.ref);
      auto st = ReadStatus(dir);
      if (st && st->ref == opts.ref && !(total > 0 && st->total > 0 && total != st->total)) {
        // Resume: re-hash what is already there.
        UniqueFd in(::open((dir + "/data").c_str(), O_RDONLY | O_CLOEXEC));
        if (in) {
          std::string buf(1 << 20, '\0');
          int64_t n = 0;
          for (;;) {
            ssize_t r = ::read(in.get(), buf.data(), buf.size());
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) throw errdefs::FromErrno(errno, "read ingest " + opts.ref);
            if (r == 0) break;
            digester.Update(std::string_view(buf.data(), static_cast<size_t>(r)));
            n += r;
          }
          offset = n;
          total = st->total;
          started = st->started_at;
          updated = st->updated_at;
          resumed = true;
        }
      } else {
        log::Info("failed to resume ingest, recreating it", {{"ref", opts.ref}});
      }
    }
    if (!resumed) {
      started = updated = chr::system_clock::now();
      WriteSmallFile(dir + "/ref", opts.ref);
      WriteSmallFile(dir + "/startedat", FormatTime(started));
      WriteSmallFile(dir + "/updatedat", FormatTime(started));
      if (total > 0)
        WriteSmallFile(dir + "/total", std::to_string(total));
      else
        ::unlink((dir + "/total").c_str());
    }
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (resumed ? 0 : O_TRUNC);
    UniqueFd fd(::open((dir + "/data").c_str(), flags, 0644));
    if (!fd) throw errdefs::FromErrno(errno, "failed to open data file");
    if (::lseek(fd.get(), offset, SEEK_SET) != offset) {
      throw errdefs::FromErrno(errno, "could not seek to current write offset");
    }
    return std::make_unique<LocalWriter>(this, opts.ref, dir, std::move(fd), offset, total,
                                         std::move(digester), started, updated);
  } catch (...) {
    Unlock(opts.ref);
    throw;
  }
}

namespace {
plugin::Registrar reg{{
    .type = plugin::kContent,
    .id = "content",
    .requires_ = {},
    .config = {},
    .init = [](plugin::InitContext& ic) -> std::shared_ptr<plugin::Instance> {
      ic.exports()["root"] = ic.root;
      return std::make_shared<LocalStore>(ic.root);
    },
}};
}  // namespace

}  // namespace mcd::content
