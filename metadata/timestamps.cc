#include "metadata/timestamps.h"

#include <chrono>

namespace mcd::metadata {

// protobuf's TimeUtil::GetCurrentTime has whole seconds only: two changes
// within a second would share an updated_at, which containerd never shows.
google::protobuf::Timestamp Now() {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  google::protobuf::Timestamp t;
  t.set_seconds(ns / 1'000'000'000);
  t.set_nanos(static_cast<int32_t>(ns % 1'000'000'000));
  return t;
}

}  // namespace mcd::metadata
