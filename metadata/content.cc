#include "metadata/content.h"

#include <fmt/format.h>

#include <set>

#include "content/digest.h"
#include "content/local.h"
#include "mcd/content.pb.h"
#include "metadata/gc.h"
#include "metadata/leases.h"
#include "metadata/namespaces.h"
#include "metadata/timestamps.h"
#include "pkg/errdefs.h"
#include "pkg/filters.h"
#include "pkg/log.h"

namespace mcd::metadata {
namespace {

namespace chr = std::chrono;
using content::Time;

// Ingests not under a lease expire after a day, as containerd's.
constexpr auto kIngestExpiry = chr::hours(24);

content::Info Decode(const std::string& digest, std::string_view value) {
  records::Blob rec;
  if (!rec.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    throw errdefs::Internal("corrupt blob record " + digest);
  }
  content::Info i;
  i.digest = digest;
  i.size = rec.size();
  i.created_at = FromTimestamp(rec.created_at());
  i.updated_at = FromTimestamp(rec.updated_at());
  i.labels = content::Labels(rec.labels().begin(), rec.labels().end());
  return i;
}

std::string Encode(const content::Info& i) {
  records::Blob rec;
  rec.set_size(i.size);
  *rec.mutable_created_at() = ToTimestamp(i.created_at);
  *rec.mutable_updated_at() = ToTimestamp(i.updated_at);
  for (const auto& [k, v] : i.labels) (*rec.mutable_labels())[k] = v;
  return rec.SerializeAsString();
}

std::optional<records::Ingest> GetIngest(const DB& db, const std::string& ns,
                                         const std::string& ref) {
  auto v = db.Get(ContentStore::IngestKey(ns, ref));
  if (!v) return std::nullopt;
  records::Ingest rec;
  if (!rec.ParseFromString(*v)) throw errdefs::Internal("corrupt ingest record " + ref);
  return rec;
}

void ValidateInfoLabels(const content::Labels& labels) {
  try {
    ValidateLabels(labels);
  } catch (const errdefs::Error& e) {
    throw errdefs::Error(e.code(), std::string("info.Labels: ") + e.what());
  }
}

}  // namespace

std::string ContentStore::BlobPrefix(const std::string& ns) {
  return BucketPrefix(ns, "content") + "blob/";
}
std::string ContentStore::IngestPrefix(const std::string& ns) {
  return BucketPrefix(ns, "content") + "ingest/";
}
std::string ContentStore::BlobKey(const std::string& ns, const std::string& digest) {
  return BlobPrefix(ns) + digest;
}
std::string ContentStore::IngestKey(const std::string& ns, const std::string& ref) {
  return IngestPrefix(ns) + ref;
}
std::string ContentStore::BackendRef(const std::string& ns, const std::string& ref) {
  return ns + "/1/" + ref;
}

ContentStore::ContentStore(std::shared_ptr<DB> db, std::shared_ptr<content::LocalStore> local,
                           bool shared)
    : db_(std::move(db)),
      local_(std::move(local)),
      shared_(shared),
      sweep_due_(!db_->StoppedCleanly()) {}

content::Info ContentStore::GetInfo(const Context& ctx, const std::string& digest) {
  const auto& ns = ctx.Namespace();
  auto v = db_->Get(BlobKey(ns, digest));
  if (!v) throw errdefs::NotFound("content digest " + digest);
  return Decode(digest, *v);
}

content::Info ContentStore::Update(const Context& ctx, const content::Info& info,
                                   const std::vector<std::string>& fieldpaths) {
  const auto& ns = ctx.Namespace();
  std::shared_lock gl(gc_mu_);
  return db_->UpdateR<content::Info>([&](Txn& t) {
    auto v = t.Get(BlobKey(ns, info.digest));
    if (!v) throw errdefs::NotFound("content digest " + info.digest);
    content::Info updated = Decode(info.digest, *v);
    if (!fieldpaths.empty()) {
      for (const auto& path : fieldpaths) {
        if (path.rfind("labels.", 0) == 0) {
          std::string key = path.substr(7);
          auto it = info.labels.find(key);
          // containerd stores the empty value, and an empty label is no label.
          if (it == info.labels.end() || it->second.empty())
            updated.labels.erase(key);
          else
            updated.labels[key] = it->second;
          continue;
        }
        if (path == "labels") {
          updated.labels = info.labels;
          continue;
        }
        throw errdefs::InvalidArgument(
            fmt::format("cannot update {:?} field on content info {:?}", path, info.digest));
      }
    } else {
      updated.labels = info.labels;
    }
    for (auto it = updated.labels.begin(); it != updated.labels.end();) {
      it = it->second.empty() ? updated.labels.erase(it) : std::next(it);
    }
    ValidateInfoLabels(updated.labels);
    CheckLabelKeys(updated.labels, fmt::format("writing labels for info {}: ", info.digest));
    updated.updated_at = chr::system_clock::now();
    t.Put(BlobKey(ns, info.digest), Encode(updated));
    return updated;
  });
}

void ContentStore::Walk(const Context& ctx, const std::function<void(const content::Info&)>& fn,
                        const std::vector<std::string>& texts) {
  const auto& ns = ctx.Namespace();
  auto filter = filters::ParseAll(texts);
  std::vector<content::Info> infos;
  std::string prefix = BlobPrefix(ns);
  db_->Scan(prefix, [&](std::string_view key, std::string_view value) {
    std::string digest(key.substr(prefix.size()));
    if (!content::IsValid(digest)) return true;
    auto info = Decode(digest, value);
    if (filter.Match(content::AdaptInfo(info))) infos.push_back(std::move(info));
    return true;
  });
  for (const auto& i : infos) fn(i);
}

void ContentStore::Delete(const Context& ctx, const std::string& digest) {
  const auto& ns = ctx.Namespace();
  std::shared_lock gl(gc_mu_);
  db_->Update([&](Txn& t) {
    if (!t.Get(BlobKey(ns, digest))) throw errdefs::NotFound("content digest " + digest);
    t.Delete(BlobKey(ns, digest));
    leases::RemoveResource(t, ns, ctx.lease, leases::kContent, digest);
  });
  sweep_due_ = true;
}

std::unique_ptr<content::ReaderAt> ContentStore::OpenReader(const Context& ctx,
                                                            const std::string& digest) {
  const auto& ns = ctx.Namespace();
  if (!db_->Get(BlobKey(ns, digest))) throw errdefs::NotFound("content digest " + digest);
  return local_->OpenReader(ctx, digest);
}

content::Status ContentStore::GetStatus(const Context& ctx, const std::string& ref) {
  const auto& ns = ctx.Namespace();
  auto rec = GetIngest(*db_, ns, ref);
  if (!rec || rec->bref().empty()) throw errdefs::NotFound("reference " + ref);
  auto st = local_->GetStatus(ctx, rec->bref());
  st.ref = ref;
  return st;
}

std::vector<content::Status> ContentStore::ListStatuses(const Context& ctx,
                                                        const std::vector<std::string>& texts) {
  const auto& ns = ctx.Namespace();
  auto filter = filters::ParseAll(texts);
  std::vector<std::pair<std::string, std::string>> refs;  // ref, bref
  std::string prefix = IngestPrefix(ns);
  db_->Scan(prefix, [&](std::string_view key, std::string_view value) {
    records::Ingest rec;
    if (rec.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      refs.emplace_back(std::string(key.substr(prefix.size())), rec.bref());
    }
    return true;
  });
  std::vector<content::Status> out;
  for (const auto& [ref, bref] : refs) {
    content::Status st;
    try {
      st = local_->GetStatus(ctx, bref);
    } catch (const errdefs::Error& e) {
      if (e.code() == errdefs::Code::kNotFound) continue;
      throw;
    }
    st.ref = ref;
    auto adaptor = [&st](const std::vector<std::string>& path) -> std::optional<std::string> {
      if (!path.empty() && path[0] == "ref") return st.ref;
      return std::nullopt;
    };
    if (filter.Match(adaptor)) out.push_back(std::move(st));
  }
  return out;
}

void ContentStore::Abort(const Context& ctx, const std::string& ref) {
  const auto& ns = ctx.Namespace();
  std::shared_lock gl(gc_mu_);
  db_->Update([&](Txn& t) {
    auto v = t.Get(IngestKey(ns, ref));
    records::Ingest rec;
    if (!v || !rec.ParseFromString(*v) || rec.bref().empty()) {
      throw errdefs::NotFound("reference " + ref);
    }
    t.Delete(IngestKey(ns, ref));
    t.NoGarbage();
    leases::RemoveResource(t, ns, ctx.lease, leases::kIngests, ref);
    // A shared ingest never had local data.
    if (rec.expected().empty()) local_->Abort(ctx, rec.bref());
  });
}

// A namespace's writer over the local one. When the blob already exists on
// disk (committed by another namespace), there is no local writer until a
// client writes anyway; committing then only records the blob here.
class NamespacedWriter : public content::Writer {
 public:
  NamespacedWriter(ContentStore* cs, Context ctx, std::string ref, std::string bref,
                   std::unique_ptr<content::Writer> w, int64_t size, std::string expected)
      : cs_(cs),
        ctx_(std::move(ctx)),
        ref_(std::move(ref)),
        bref_(std::move(bref)),
        w_(std::move(w)),
        size_(size),
        expected_(std::move(expected)),
        started_(chr::system_clock::now()) {}

  void Write(std::string_view data) override {
    if (!w_) {
      if (data.empty()) return;
      CreateAndCopy(size_);
    }
    w_->Write(data);
  }

  std::string Digest() override { return w_ ? w_->Digest() : expected_; }

  content::Status GetStatus() override {
    content::Status st;
    if (w_) {
      st = w_->GetStatus();
    } else {
      st.offset = size_;
      st.total = size_;
      st.started_at = st.updated_at = started_;
      st.expected = expected_;
    }
    st.ref = ref_;
    return st;
  }

  void Truncate(int64_t size) override {
    if (w_) return w_->Truncate(size);
    CreateAndCopy(size);
  }

  void Commit(int64_t size, const std::string& expected, const content::Labels& labels) override {
    const auto& ns = ctx_.Namespace();
    std::shared_lock gl(cs_->gc_mu_);
    try {
      ValidateInfoLabels(labels);
    } catch (...) {
      if (w_) w_->Close();
      throw;
    }
    std::string actual;
    if (!w_) {
      if (size != 0 && size != size_) {
        throw errdefs::FailedPrecondition(
            fmt::format("{:?} failed size validation: {} != {}", ref_, size_, size));
      }
      if (!expected.empty() && expected != expected_) {
        throw errdefs::FailedPrecondition(fmt::format("{:?} unexpected digest", ref_));
      }
      size = size_;
      actual = expected_;
    } else {
      auto st = w_->GetStatus();
      if (size != 0 && size != st.offset) {
        w_->Close();
        throw errdefs::FailedPrecondition(
            fmt::format("{:?} failed size validation: {} != {}", ref_, st.offset, size));
      }
      size = st.offset;
      // Verify, sync and publish on disk outside the metadata transaction:
      // the gc lock keeps the collector from sweeping it before it is recorded.
      try {
        w_->Commit(size, expected, {});
      } catch (const errdefs::Error& e) {
        if (e.code() != errdefs::Code::kAlreadyExists) throw;
      }
      actual = w_->Digest();
    }
    bool exists = false;
    try {
      cs_->db_->Update([&](Txn& t) {
        NamespaceStore::EnsureIn(t, ns);
        auto key = ContentStore::BlobKey(ns, actual);
        if (t.Get(key)) {
          exists = true;
        } else {
          content::Info info;
          info.digest = actual;
          info.size = size;
          info.created_at = info.updated_at = chr::system_clock::now();
          info.labels = labels;
          t.Put(key, Encode(info));
        }
        t.Delete(ContentStore::IngestKey(ns, ref_));
        t.NoGarbage();
        leases::RemoveResource(t, ns, ctx_.lease, leases::kIngests, ref_);
        leases::AddResource(t, ns, ctx_.lease, leases::kContent, actual);
      });
    } catch (...) {
      cs_->sweep_due_ = true;  // the blob may be on disk without a record
      throw;
    }
    committed_ = true;
    if (exists) throw errdefs::AlreadyExists("content " + actual);
  }

  void Close() override {
    if (w_) w_->Close();
  }

 private:
  // Opens the local ingest and copies the first `size` bytes of the existing
  // blob into it (containerd's createAndCopy).
  void CreateAndCopy(int64_t size) {
    auto w = cs_->local_->OpenWriter(ctx_, {.ref = bref_, .total = size, .expected = {}});
    if (size > 0) {
      auto r = cs_->local_->OpenReader(ctx_, expected_);
      std::string buf(1 << 20, '\0');
      int64_t off = 0;
      while (off < size) {
        size_t want = static_cast<size_t>(std::min<int64_t>(size - off, buf.size()));
        size_t n = r->ReadAt(buf.data(), want, off);
        if (n == 0) throw errdefs::Internal("short read copying " + expected_);
        w->Write(std::string_view(buf.data(), n));
        off += static_cast<int64_t>(n);
      }
    }
    w_ = std::move(w);
  }

  ContentStore* cs_;
  Context ctx_;
  std::string ref_;
  std::string bref_;
  std::unique_ptr<content::Writer> w_;
  int64_t size_;
  std::string expected_;
  Time started_;
  bool committed_ = false;
};

std::unique_ptr<content::Writer> ContentStore::OpenWriter(const Context& ctx,
                                                          const content::WriterOptions& opts) {
  if (opts.ref.empty()) throw errdefs::InvalidArgument("ref must not be empty");
  const auto& ns = ctx.Namespace();
  if (!opts.expected.empty()) content::Validate(opts.expected);
  std::shared_lock gl(gc_mu_);

  std::string bref = BackendRef(ns, opts.ref);
  int64_t size = opts.total;
  bool shared = false;
  if (shared_ && !opts.expected.empty() && !db_->Get(BlobKey(ns, opts.expected)) &&
      local_->Exists(opts.expected)) {
    auto info = local_->GetInfo(ctx, opts.expected);
    if (size == 0 || size == info.size) {
      shared = true;
      size = info.size;
    }
  }
  // An unknown lease fails before anything is created on disk.
  if (!ctx.lease.empty() && !db_->Get(ObjectKey(ns, "leases", ctx.lease))) {
    throw errdefs::NotFound("lease does not exist");
  }

  // The local ingest is opened outside the metadata transaction: waiting for
  // a ref held by another writer must not hold the database's write lock.
  std::unique_ptr<content::Writer> w;
  auto existing = GetIngest(*db_, ns, opts.ref);
  if (existing && !existing->bref().empty()) bref = existing->bref();
  bool blob_recorded = !opts.expected.empty() && db_->Get(BlobKey(ns, opts.expected));
  if (!shared && !blob_recorded) {
    w = local_->OpenWriter(ctx, {.ref = bref, .total = size, .expected = {}});
  }

  bool exists = false;
  db_->Update([&](Txn& t) {
    if (!opts.expected.empty() && t.Get(BlobKey(ns, opts.expected))) {
      leases::AddResource(t, ns, ctx.lease, leases::kContent, opts.expected);
      exists = true;
      return;
    }
    NamespaceStore::EnsureIn(t, ns);
    records::Ingest rec;
    if (auto v = t.Get(IngestKey(ns, opts.ref))) rec.ParseFromString(*v);
    rec.set_bref(bref);
    if (!ctx.lease.empty()) {
      leases::AddResource(t, ns, ctx.lease, leases::kIngests, opts.ref);
      rec.clear_expire_at();
    } else {
      *rec.mutable_expire_at() = ToTimestamp(chr::system_clock::now() + kIngestExpiry);
    }
    if (shared) {
      rec.set_expected(opts.expected);
      rec.set_size(size);
    } else {
      rec.clear_expected();
      rec.clear_size();
    }
    t.Put(IngestKey(ns, opts.ref), rec.SerializeAsString());
  });
  if (exists) throw errdefs::AlreadyExists("content " + opts.expected);
  return std::make_unique<NamespacedWriter>(this, ctx, opts.ref, bref, std::move(w), size,
                                            shared ? opts.expected : std::string());
}

size_t ContentStore::SweepUnreferenced() {
  std::set<std::string> seen, ingests;
  db_->Scan("v1/", [&](std::string_view key, std::string_view value) {
    // v1/<ns>/content/{blob,ingest}/...
    auto p = key.find("/content/", 3);
    if (p == std::string_view::npos || key.find('/', 3) != p) return true;
    std::string_view rest = key.substr(p + 9);
    if (rest.rfind("blob/", 0) == 0) {
      seen.insert(std::string(rest.substr(5)));
    } else if (rest.rfind("ingest/", 0) == 0) {
      records::Ingest rec;
      if (rec.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
        if (!rec.expected().empty()) seen.insert(rec.expected());
        if (!rec.bref().empty()) ingests.insert(rec.bref());
      }
    }
    return true;
  });
  size_t removed = 0;
  Context none;
  local_->Walk(none, [&](const content::Info& info) {
    if (seen.count(info.digest)) return;
    try {
      local_->Delete(none, info.digest);
      ++removed;
      log::Debug("removed content", {{"digest", info.digest}});
    } catch (const errdefs::Error& e) {
      if (e.code() != errdefs::Code::kNotFound) throw;
    }
  });
  for (const auto& st : local_->ListStatuses(none)) {
    if (ingests.count(st.ref)) continue;
    try {
      local_->Abort(none, st.ref);
      log::Debug("cleanup aborting ingest", {{"ref", st.ref}});
    } catch (const errdefs::Error& e) {
      if (e.code() != errdefs::Code::kNotFound) throw;
    }
  }
  return removed;
}

void ContentStore::RegisterGC() {
  gc::Resource r;
  r.name = "content";
  r.kinds = {gc::Kind::kContent, gc::Kind::kIngest};
  r.hold = [this]() -> std::shared_ptr<void> {
    return std::make_shared<std::unique_lock<std::shared_mutex>>(gc_mu_);
  };
  r.roots = [](Txn& t, const std::string& ns, const gc::Emit& emit) {
    auto now = chr::system_clock::now();
    std::string bp = BlobPrefix(ns);
    t.Scan(bp, [&](std::string_view key, std::string_view value) {
      records::Blob rec;
      if (rec.ParseFromArray(value.data(), static_cast<int>(value.size())) &&
          gc::IsRoot(rec.labels())) {
        emit(gc::Node{gc::Kind::kContent, ns, std::string(key.substr(bp.size()))});
      }
      return true;
    });
    std::string ip = IngestPrefix(ns);
    t.Scan(ip, [&](std::string_view key, std::string_view value) {
      records::Ingest rec;
      if (rec.ParseFromArray(value.data(), static_cast<int>(value.size())) && rec.has_expire_at() &&
          FromTimestamp(rec.expire_at()) > now) {
        emit(gc::Node{gc::Kind::kIngest, ns, std::string(key.substr(ip.size()))});
      }
      return true;
    });
  };
  r.all = [](Txn& t, const std::string& ns, const gc::Emit& emit) {
    std::string bp = BlobPrefix(ns);
    t.Scan(bp, [&](std::string_view key, std::string_view) {
      emit(gc::Node{gc::Kind::kContent, ns, std::string(key.substr(bp.size()))});
      return true;
    });
    std::string ip = IngestPrefix(ns);
    t.Scan(ip, [&](std::string_view key, std::string_view) {
      emit(gc::Node{gc::Kind::kIngest, ns, std::string(key.substr(ip.size()))});
      return true;
    });
  };
  r.refs = [](Txn& t, const gc::Node& n, const gc::Emit& emit) {
    if (n.kind == gc::Kind::kContent) {
      if (n.flat) return;  // a flat lease holds the blob alone, as containerd's
      auto v = t.Get(BlobKey(n.ns, n.key));
      records::Blob rec;
      if (v && rec.ParseFromString(*v)) gc::LabelRefsOf(n.ns, rec.labels(), emit);
    } else if (n.kind == gc::Kind::kIngest) {
      auto v = t.Get(IngestKey(n.ns, n.key));
      records::Ingest rec;
      if (v && rec.ParseFromString(*v) && !rec.expected().empty()) {
        emit(gc::Node{gc::Kind::kContent, n.ns, rec.expected()});
      }
    }
  };
  r.remove = [](Txn& t, const gc::Node& n) {
    t.Delete(n.kind == gc::Kind::kContent ? BlobKey(n.ns, n.key) : IngestKey(n.ns, n.key));
  };
  // The records are gone: remove on disk what no namespace still has. The
  // hold above keeps writers out until this is done.
  r.cleanup = [this](const std::vector<gc::Node>& removed) {
    bool due = sweep_due_.exchange(false);
    if (!removed.empty() || due) SweepUnreferenced();
  };
  db_->collector().Register(std::move(r));
}

}  // namespace mcd::metadata
