#include "metadata/timestamps.h"

namespace mcd::metadata {

namespace chr = std::chrono;

// Not protobuf's TimeUtil::GetCurrentTime: it has whole seconds only, and two
// changes within a second would share an updated_at, which containerd never
// shows.
google::protobuf::Timestamp Now() {
  return ToProto(chr::system_clock::now());
}

google::protobuf::Timestamp ToProto(chr::system_clock::time_point t) {
  auto ns = chr::duration_cast<chr::nanoseconds>(t.time_since_epoch()).count();
  google::protobuf::Timestamp ts;
  ts.set_seconds(ns / 1'000'000'000);
  ts.set_nanos(static_cast<int32_t>(ns % 1'000'000'000));
  return ts;
}

chr::system_clock::time_point FromProto(const google::protobuf::Timestamp& ts) {
  return chr::system_clock::time_point(chr::duration_cast<chr::system_clock::duration>(
      chr::seconds(ts.seconds()) + chr::nanoseconds(ts.nanos())));
}

}  // namespace mcd::metadata
