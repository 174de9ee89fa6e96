#include <gtest/gtest.h>

#include "runtime/v2/task.h"

namespace mcd::runtime {
namespace {

google::protobuf::Timestamp Ts(int64_t s, int32_t n) {
  google::protobuf::Timestamp t;
  t.set_seconds(s);
  t.set_nanos(n);
  return t;
}

void ExpectRoundTrip(int64_t s, int32_t n) {
  google::protobuf::Timestamp out;
  ToTimestamp(FromTimestamp(Ts(s, n)), &out);
  EXPECT_EQ(out.seconds(), s);
  EXPECT_EQ(out.nanos(), n);
}

TEST(Timestamp, RoundTrips) {
  ExpectRoundTrip(1700000000, 123456789);
  ExpectRoundTrip(0, 0);
  // Before 1970: nanos stay in [0, 1e9), as protobuf requires.
  ExpectRoundTrip(-2, 500000000);
}

// A task that never started exits "at" Go's zero time, 0001-01-01: it must
// come back unchanged, not overflow into an invalid timestamp clients reject.
TEST(Timestamp, GoZeroTimeSurvives) {
  ExpectRoundTrip(-62135596800, 0);
}

}  // namespace
}  // namespace mcd::runtime
