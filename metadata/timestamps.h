#pragma once
// Record timestamps: now, UTC, with nanoseconds (containerd's time.Now().UTC()).
// Conversions are pkg/timestamp.h's.
#include "pkg/timestamp.h"

namespace mcd::metadata {

google::protobuf::Timestamp Now();

}  // namespace mcd::metadata
