#pragma once
// Record timestamps: now, UTC, with nanoseconds (containerd's time.Now().UTC()).
#include <google/protobuf/timestamp.pb.h>

#include <chrono>

namespace mcd::metadata {

google::protobuf::Timestamp Now();
google::protobuf::Timestamp ToProto(std::chrono::system_clock::time_point t);
std::chrono::system_clock::time_point FromProto(const google::protobuf::Timestamp& ts);

}  // namespace mcd::metadata
