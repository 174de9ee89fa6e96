#pragma once
// Record timestamps: now, UTC, with nanoseconds (containerd's time.Now().UTC()).
#include <google/protobuf/timestamp.pb.h>

namespace mcd::metadata {

google::protobuf::Timestamp Now();

}  // namespace mcd::metadata
