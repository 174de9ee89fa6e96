#pragma once
// Checkpoint images as containerd's tasks service keeps them: the runtime's
// checkpoint directory as a tar blob plus the container's spec, both in the
// content store; and the way back, a checkpoint blob unpacked for a restore.
#include <google/protobuf/any.pb.h>

#include <string>

#include "content/store.h"
#include "github.com/containerd/containerd/api/types/descriptor.pb.h"
#include "pkg/context.h"

namespace mcd::services::tasks {

inline constexpr const char* kCheckpointMediaType =
    "application/vnd.containerd.container.criu.checkpoint.criu.tar";
inline constexpr const char* kCheckpointConfigMediaType =
    "application/vnd.containerd.container.checkpoint.config.v1+proto";

// The image path a runc runtime's CheckpointOptions name ("" when none: the
// checkpoint then goes to the content store). For a runc runtime, options
// of another type are an error, as in containerd.
std::string CheckpointImagePath(const std::string& runtime, const google::protobuf::Any* options);
// The criu_image_path of a runc runtime's create Options ("" when none).
std::string RestoreImagePath(const std::string& runtime, const google::protobuf::Any* options);

// Writes the tar of `dir` and the spec to the store (refs: the directory,
// and <dir>/spec, as containerd) and returns their descriptors.
void WriteCheckpoint(content::Store& store, const Context& ctx, const std::string& dir,
                     const google::protobuf::Any& spec, containerd::types::Descriptor* image,
                     containerd::types::Descriptor* config);

// Unpacks a checkpoint blob into `dir`.
void ExtractCheckpoint(content::Store& store, const Context& ctx,
                       const containerd::types::Descriptor& desc, const std::string& dir);

}  // namespace mcd::services::tasks
