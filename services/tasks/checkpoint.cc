#include "services/tasks/checkpoint.h"

#include <vector>

#include "content/digest.h"
#include "diff/apply.h"
#include "diff/write.h"
#include "github.com/containerd/containerd/runtime/linux/runctypes/runc.pb.h"
#include "github.com/containerd/containerd/runtime/v2/runc/options/oci.pb.h"
#include "pkg/errdefs.h"
#include "pkg/fs.h"

namespace mcd::services::tasks {
namespace {

namespace runc = containerd::runc::v1;

// containerd's checkRuntime: the runtime name starts with these dot-separated
// parts ("io.containerd.runc.v2" is a runc runtime).
constexpr const char* kRuntimeLinuxV1 = "io.containerd.runtime.v1.linux";  // options: runctypes

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

// The tar of `dir`, streamed into the store under ref `dir`, as containerd's.
void WriteImageTar(content::Store& store, const Context& ctx, const std::string& dir,
                   containerd::types::Descriptor* out) {
  auto w = store.OpenWriter(ctx, {.ref = dir, .total = 0, .expected = ""});
  int64_t size = 0;
  try {
    w->Truncate(0);  // a resumed ingest under the same ref starts over
    fs::TempDir empty("ctd-checkpoint-base");
    const std::string digest =
        diff::WriteDiff(empty.path(), dir, /*gzip=*/false, [&](std::string_view data) {
          w->Write(data);
          size += static_cast<int64_t>(data.size());
        });
    try {
      w->Commit(size, digest);
    } catch (const errdefs::Error& e) {
      if (e.code() != errdefs::Code::kAlreadyExists) throw;
    }
    out->set_media_type(kCheckpointMediaType);
    out->set_digest(digest);
    out->set_size(size);
  } catch (...) {
    w->Close();
    try {
      store.Abort(ctx, dir);
    } catch (...) {
      // The ingest may already be gone; the first error is the one to report.
    }
    throw;
  }
}

}  // namespace

std::string CheckpointImagePath(const std::string& runtime, const google::protobuf::Any* options) {
  if (options == nullptr) return "";
  const std::string what = "invalid task checkpoint option for " + runtime;
  if (runtime == kRuntimeLinuxV1)
    return Unpack<containerd::linux::runc::CheckpointOptions>(*options, what).image_path();
  if (!IsRuntime(runtime, "io.containerd.runc")) return "";
  return Unpack<runc::CheckpointOptions>(*options, what).image_path();
}

std::string RestoreImagePath(const std::string& runtime, const google::protobuf::Any* options) {
  if (options == nullptr) return "";
  const std::string what = "invalid task create option for " + runtime;
  if (runtime == kRuntimeLinuxV1)
    return Unpack<containerd::linux::runc::CreateOptions>(*options, what).criu_image_path();
  if (!IsRuntime(runtime, "io.containerd.runc")) return "";
  return Unpack<runc::Options>(*options, what).criu_image_path();
}

void WriteCheckpoint(content::Store& store, const Context& ctx, const std::string& dir,
                     const google::protobuf::Any& spec, containerd::types::Descriptor* image,
                     containerd::types::Descriptor* config) {
  WriteImageTar(store, ctx, dir, image);
  const std::string data = spec.SerializeAsString();
  const std::string digest = content::FromBytes(data);
  content::WriteBlob(store, ctx, dir + "/spec", data, digest);
  config->set_media_type(kCheckpointConfigMediaType);
  config->set_digest(digest);
  config->set_size(static_cast<int64_t>(data.size()));
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
