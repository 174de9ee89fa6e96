#pragma once
// protobuf Timestamps <-> system_clock, for every layer. system_clock holds
// int64 nanoseconds (years 1678-2262); protobuf and Go reach years 1-9999,
// and Go's zero time.Time (0001-01-01, "never": an exit that did not happen,
// a field a client left unset) crosses the API often. Out-of-range values
// saturate to time_point::min()/max() instead of overflowing; min() stands
// for Go's zero time and converts back to it.
#include <google/protobuf/timestamp.pb.h>

#include <chrono>

namespace mcd {

google::protobuf::Timestamp ToTimestamp(std::chrono::system_clock::time_point t);
std::chrono::system_clock::time_point FromTimestamp(const google::protobuf::Timestamp& ts);

// Go's time.Time.IsZero on the wire: exactly 0001-01-01T00:00:00Z.
bool IsGoZero(const google::protobuf::Timestamp& ts);

}  // namespace mcd
