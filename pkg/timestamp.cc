#include "pkg/timestamp.h"

#include <limits>

namespace mcd {
namespace {

namespace chr = std::chrono;
using TimePoint = chr::system_clock::time_point;

constexpr int64_t kGoZeroSeconds = -62135596800;
constexpr int64_t kNanosPerSecond = 1'000'000'000;
// Whole seconds that fit in int64 nanoseconds with room for any int32 nanos
// (a malformed timestamp may carry up to 2.1 s of them).
constexpr int64_t kMaxSeconds = std::numeric_limits<int64_t>::max() / kNanosPerSecond - 3;

}  // namespace

google::protobuf::Timestamp ToTimestamp(TimePoint t) {
  google::protobuf::Timestamp ts;
  if (t == TimePoint::min()) {
    ts.set_seconds(kGoZeroSeconds);
    return ts;
  }
  int64_t ns = chr::duration_cast<chr::nanoseconds>(t.time_since_epoch()).count();
  int64_t secs = ns / kNanosPerSecond;
  int64_t rem = ns % kNanosPerSecond;
  if (rem < 0) {  // protobuf's nanos are in [0, 1e9) also before 1970
    rem += kNanosPerSecond;
    --secs;
  }
  ts.set_seconds(secs);
  ts.set_nanos(static_cast<int32_t>(rem));
  return ts;
}

TimePoint FromTimestamp(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() < -kMaxSeconds) return TimePoint::min();
  if (ts.seconds() > kMaxSeconds) return TimePoint::max();
  return TimePoint(chr::duration_cast<TimePoint::duration>(chr::seconds(ts.seconds()) +
                                                           chr::nanoseconds(ts.nanos())));
}

bool IsGoZero(const google::protobuf::Timestamp& ts) {
  return ts.seconds() == kGoZeroSeconds && ts.nanos() == 0;
}

}  // namespace mcd
