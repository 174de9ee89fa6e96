#include "services/tasks/checkpoint.h"

#include <sstream>
#include <vector>

#include "diff/apply.h"
#include "diff/write.h"
#include "github.com/containerd/containerd/runtime/v2/runc/options/oci.pb.h"
#include "pkg/errdefs.h"
#include "pkg/fs.h"

namespace mcd::services::tasks {
namespace {

namespace runc = containerd::runc::v1;

// containerd's checkRuntime: the runtime name starts with these dot-separated
// parts ("io.containerd.runc.v2" is a runc runtime).
bool IsRuntime(const std::string& runtime, const std::string& family) {
  return runtime == family || runtime.starts_with(family + ".");
}

std::string TypeName(const google::protobuf::Any& any) {
  const std::string& url = any.type_url();
  return url.substr(url.rfind('/') + 1);
}

template <class Options>
Options Unpack(const google::protobuf::Any& any, const std::string& what) {
  Options o;
  if (TypeName(any) != Options::descriptor()->full_name() || !o.ParseFromString(any.value())) {
    throw errdefs::Unknown(what);
  }
  return o;
}

// Streams a writer's input into a content ingest and commits it.
void Ingest(content::Store& store, const Context& ctx, const std::string& ref,
            const std::string& media_type, containerd::types::Descriptor* out,
            const std::function<void(const std::function<void(std::string_view)>&)>& produce) {
  content::WriterOptions wo;
  wo.ref = ref;
  auto w = store.OpenWriter(ctx, wo);
  int64_t size = 0;
  try {
    w->Truncate(0);  // a resumed ingest under the same ref starts over
    produce([&](std::string_view data) {
      w->Write(data);
      size += static_cast<int64_t>(data.size());
    });
    const std::string digest = w->Digest();
    try {
      w->Commit(size, digest);
    } catch (const errdefs::Error& e) {
      if (e.code() != errdefs::Code::kAlreadyExists) throw;
    }
    out->set_media_type(media_type);
    out->set_digest(digest);
    out->set_size(size);
  } catch (...) {
    w->Close();
    try {
      store.Abort(ctx, ref);
    } catch (...) {
      // The ingest may already be gone; the first error is the one to report.
    }
    throw;
  }
}

}  // namespace

std::string CheckpointImagePath(const std::string& runtime, const google::protobuf::Any* options) {
  if (options == nullptr || !IsRuntime(runtime, "io.containerd.runc")) return "";
  return Unpack<runc::CheckpointOptions>(*options, "invalid task checkpoint option for " + runtime)
      .image_path();
}

std::string RestoreImagePath(const std::string& runtime, const google::protobuf::Any* options) {
  if (options == nullptr || !IsRuntime(runtime, "io.containerd.runc")) return "";
  return Unpack<runc::Options>(*options, "invalid task create option for " + runtime)
      .criu_image_path();
}

void WriteCheckpoint(content::Store& store, const Context& ctx, const std::string& dir,
                     const google::protobuf::Any& spec, containerd::types::Descriptor* image,
                     containerd::types::Descriptor* config) {
  fs::TempDir empty("ctd-checkpoint-base");
  Ingest(store, ctx, dir, kCheckpointMediaType, image,
         [&](const auto& sink) { diff::WriteDiff(empty.path(), dir, /*gzip=*/false, sink); });
  const std::string data = spec.SerializeAsString();
  Ingest(store, ctx, dir + "/spec", kCheckpointConfigMediaType, config,
         [&](const auto& sink) { sink(data); });
}

void ExtractCheckpoint(content::Store& store, const Context& ctx,
                       const containerd::types::Descriptor& desc, const std::string& dir) {
  if (desc.media_type() != kCheckpointMediaType) {
    throw errdefs::Unknown("unsupported checkpoint type \"" + desc.media_type() + "\"");
  }
  auto reader = store.OpenReader(ctx, desc.digest());
  int64_t off = 0;
  diff::ApplyLayer(
      [&](void* buf, size_t n) {
        size_t got = reader->ReadAt(buf, n, off);
        off += static_cast<int64_t>(got);
        return got;
      },
      dir, diff::ApplyOptions{});
}

}  // namespace mcd::services::tasks
