#pragma once
// The content store interface, as containerd's content.Store: immutable blobs
// addressed by digest ("sha256:<hex>") and in-progress writes ("ingests")
// addressed by a client-chosen ref.
//
// Two implementations share it:
//  - content::LocalStore (content/local.h): blobs on disk, ignores ctx's
//    namespace; shared by every namespace.
//  - metadata::ContentStore (metadata/content.h): the namespaced view services,
//    the differ and the image importer use; it records which namespace has
//    which blob (and its labels) and puts new blobs and ingests under
//    ctx.lease.
// Errors are errdefs errors with containerd's wording.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pkg/context.h"
#include "pkg/filters.h"

namespace mcd::content {

using Labels = std::map<std::string, std::string>;
using Time = std::chrono::system_clock::time_point;

// What is known of a committed blob.
struct Info {
  std::string digest;  // "sha256:<hex>"
  int64_t size = 0;
  Time created_at{};
  Time updated_at{};
  Labels labels;
};

// An ingest in progress.
struct Status {
  std::string ref;
  int64_t offset = 0;    // bytes written so far
  int64_t total = 0;     // expected size, 0 when unknown
  std::string expected;  // expected digest, empty when unknown
  Time started_at{};
  Time updated_at{};
};

// Random-access read of one blob. Thread-compatible (one user at a time).
class ReaderAt {
 public:
  virtual ~ReaderAt() = default;
  // Reads up to n bytes at off; returns how many (0 at or past the end).
  virtual size_t ReadAt(void* buf, size_t n, int64_t off) = 0;
  virtual int64_t Size() const = 0;
};

// An open ingest. Holds the ref's lock until destroyed or Close()d; closing
// without Commit leaves the ingest on disk so it can be resumed.
class Writer {
 public:
  virtual ~Writer() = default;
  // Appends at the current offset.
  virtual void Write(std::string_view data) = 0;
  // Digest of everything written so far (including what a resumed ingest had).
  virtual std::string Digest() = 0;
  virtual Status GetStatus() = 0;
  // Only 0 is supported (restart the ingest), as containerd's local writer.
  virtual void Truncate(int64_t size) = 0;
  // Verifies size (when > 0) and expected digest (when not empty), syncs and
  // publishes the blob, removing the ingest. FailedPrecondition "unexpected
  // commit size/digest ..." on mismatch (no blob appears); AlreadyExists
  // "content <digest>: already exists" when the blob is already there.
  virtual void Commit(int64_t size, const std::string& expected, const Labels& labels = {}) = 0;
  // Releases the ref lock; the ingest stays for a later resume.
  virtual void Close() = 0;
};

struct WriterOptions {
  std::string ref;       // required
  int64_t total = 0;     // expected size (descriptor size), 0 when unknown
  std::string expected;  // expected digest, empty when unknown
};

class Store {
 public:
  virtual ~Store() = default;

  // NotFound "content digest <d>: not found" when absent.
  virtual Info GetInfo(const Context& ctx, const std::string& digest) = 0;
  // Field paths: "labels", "labels.<key>"; empty = replace labels.
  virtual Info Update(const Context& ctx, const Info& info,
                      const std::vector<std::string>& fieldpaths) = 0;
  // Every blob matching the filters (containerd's filter language, OR-ed
  // strings; fields: digest, size, labels.<k>). fn may throw to stop.
  virtual void Walk(const Context& ctx, const std::function<void(const Info&)>& fn,
                    const std::vector<std::string>& filters = {}) = 0;
  // NotFound when absent.
  virtual void Delete(const Context& ctx, const std::string& digest) = 0;

  virtual std::unique_ptr<ReaderAt> OpenReader(const Context& ctx, const std::string& digest) = 0;

  // NotFound "<ref>: not found" when no ingest has this ref.
  virtual Status GetStatus(const Context& ctx, const std::string& ref) = 0;
  // Filters on "ref".
  virtual std::vector<Status> ListStatuses(const Context& ctx,
                                           const std::vector<std::string>& filters = {}) = 0;
  // Removes an ingest; NotFound when absent.
  virtual void Abort(const Context& ctx, const std::string& ref) = 0;

  // Opens (creating or resuming) the ingest for opts.ref. Unavailable
  // "ref <ref> locked ..." while another writer holds it; AlreadyExists
  // when opts.expected is already committed (in this namespace).
  virtual std::unique_ptr<Writer> OpenWriter(const Context& ctx, const WriterOptions& opts) = 0;
};

// containerd's filter adaptor for blobs: digest, labels.<key> ("size" is
// accepted but never matches, as containerd).
filters::Adaptor AdaptInfo(const Info& info);

// Convenience helpers over any Store.
// Whole blob in memory (callers bound the size they accept).
std::string ReadBlob(Store& s, const Context& ctx, const std::string& digest);
// Writes and commits data under ref; an already existing blob is fine.
void WriteBlob(Store& s, const Context& ctx, const std::string& ref, std::string_view data,
               const std::string& expected, const Labels& labels = {});

}  // namespace mcd::content
