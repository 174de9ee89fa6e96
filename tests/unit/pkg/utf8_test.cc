#include "pkg/utf8.h"

#include <gtest/gtest.h>

namespace mcd::utf8 {
namespace {

constexpr const char* kFFFD = "\xEF\xBF\xBD";

TEST(Utf8, ValidTextIsKept) {
  const std::string_view texts[] = {"",
                                    "plain",
                                    "caf\xC3\xA9",
                                    "\xE2\x82\xAC",
                                    "\xF0\x9F\x90\xB3",
                                    "\xF4\x8F\xBF\xBF",
                                    std::string_view("a\0b", 3)};
  for (std::string_view s : texts) EXPECT_EQ(Valid(s), s);
}

// As Go's utf8.DecodeRuneInString: each byte that starts no valid sequence
// is one U+FFFD.
TEST(Utf8, EachBadByteIsOneReplacementCharacter) {
  EXPECT_EQ(Valid("k\xFF"), std::string("k") + kFFFD);
  EXPECT_EQ(Valid("\xC3"), kFFFD);                                       // truncated
  EXPECT_EQ(Valid("\xE2\x82"), std::string(kFFFD) + kFFFD);              // truncated, two bytes
  EXPECT_EQ(Valid("\xC0\xAF"), std::string(kFFFD) + kFFFD);              // overlong
  EXPECT_EQ(Valid("\xED\xA0\x80"), std::string(kFFFD) + kFFFD + kFFFD);  // surrogate
  EXPECT_EQ(Valid("\xF4\x90\x80\x80"), std::string(kFFFD) + kFFFD + kFFFD + kFFFD);  // > U+10FFFF
  EXPECT_EQ(Valid("\x80x"), std::string(kFFFD) + "x");
}

}  // namespace
}  // namespace mcd::utf8
