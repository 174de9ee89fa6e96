#include "pkg/timestamp.h"

#include <gtest/gtest.h>

namespace mcd {
namespace {

using TimePoint = std::chrono::system_clock::time_point;

google::protobuf::Timestamp Ts(int64_t s, int32_t n) {
  google::protobuf::Timestamp t;
  t.set_seconds(s);
  t.set_nanos(n);
  return t;
}

void ExpectRoundTrip(int64_t s, int32_t n) {
  google::protobuf::Timestamp out = ToTimestamp(FromTimestamp(Ts(s, n)));
  EXPECT_EQ(out.seconds(), s);
  EXPECT_EQ(out.nanos(), n);
}

TEST(Timestamp, RoundTrips) {
  ExpectRoundTrip(1700000000, 123456789);
  ExpectRoundTrip(0, 0);
  // Before 1970: nanos stay in [0, 1e9), as protobuf requires.
  ExpectRoundTrip(-2, 500000000);
}

// A task that never started exits "at" Go's zero time, 0001-01-01, and Go
// clients send it for every unset time (ctr content label does): it must
// come back unchanged, not overflow into an invalid timestamp clients reject.
TEST(Timestamp, GoZeroTimeSurvives) {
  EXPECT_EQ(FromTimestamp(Ts(-62135596800, 0)), TimePoint::min());
  ExpectRoundTrip(-62135596800, 0);
}

// Beyond system_clock's years 1678-2262 values saturate; nothing overflows
// (the sanitizer build turns an overflow into a failure).
TEST(Timestamp, OutOfRangeSaturates) {
  EXPECT_EQ(FromTimestamp(Ts(253402300799, 999999999)), TimePoint::max());  // 9999-12-31
  EXPECT_EQ(FromTimestamp(Ts(-30000000000, 0)), TimePoint::min());          // year 1019
  EXPECT_EQ(FromTimestamp(Ts(INT64_MAX, INT32_MAX)), TimePoint::max());
  EXPECT_EQ(FromTimestamp(Ts(INT64_MIN, INT32_MIN)), TimePoint::min());
  // Just inside the range, with malformed nanos of either sign.
  int64_t edge = INT64_MAX / 1000000000 - 3;
  EXPECT_GT(FromTimestamp(Ts(edge, INT32_MAX)), FromTimestamp(Ts(edge, 0)));
  EXPECT_LT(FromTimestamp(Ts(-edge, INT32_MIN)), FromTimestamp(Ts(-edge, 0)));
  EXPECT_EQ(ToTimestamp(TimePoint::max()).seconds(), INT64_MAX / 1000000000);
}

// Only the exact zero is Go's IsZero: the events exchange refuses a
// forwarded envelope carrying it, and must accept any other time.
TEST(Timestamp, IsGoZeroIsExact) {
  EXPECT_TRUE(IsGoZero(Ts(-62135596800, 0)));
  EXPECT_TRUE(IsGoZero(ToTimestamp(TimePoint::min())));
  EXPECT_FALSE(IsGoZero(Ts(-62135596800, 1)));
  EXPECT_FALSE(IsGoZero(Ts(-30000000000, 0)));
  EXPECT_FALSE(IsGoZero(Ts(0, 0)));
}

}  // namespace
}  // namespace mcd
