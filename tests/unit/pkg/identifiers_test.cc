// containerd's identifier rules guard every path and key built from an id.
#include "pkg/identifiers.h"

#include <gtest/gtest.h>

#include <string>

#include "pkg/errdefs.h"
#include "pkg/log.h"

namespace mcd {
namespace {

std::string ErrorOf(std::string_view id) {
  try {
    identifiers::Validate(id);
  } catch (const errdefs::Error& e) {
    EXPECT_EQ(e.code(), errdefs::Code::kInvalidArgument);
    return e.what();
  }
  return "";
}

TEST(Identifiers, Valid) {
  for (std::string_view id : {"a", "default", "k8s.io", "foo_bar", "foo-bar", "a.b-c_d", "A9", "0",
                              "moby", "a-b", "ab"}) {
    EXPECT_TRUE(identifiers::IsValid(id)) << id;
    EXPECT_EQ(ErrorOf(id), "") << id;
  }
  EXPECT_TRUE(identifiers::IsValid(std::string(76, 'a')));
}

TEST(Identifiers, Invalid) {
  for (std::string_view id : {"-a", "a-", ".a", "a.", "a..b", "a-.b", "a--b", "a b", "a/b", "../x",
                              "..", ".", "a:b", "a@b", "\xc3\xa9", "a\nb", "a+b"}) {
    EXPECT_FALSE(identifiers::IsValid(id)) << id;
  }
  EXPECT_EQ(
      ErrorOf("../x"),
      R"(identifier "../x" must match ^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$: invalid argument)");
  EXPECT_EQ(
      ErrorOf("a/b"),
      R"(identifier "a/b" must match ^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$: invalid argument)");
}

// Bytes that are not UTF-8 are quoted as Go's %q does, "\xff" (spdlog's
// copy of fmt's code, when it ran instead of fmt's, gave "\x7f").
TEST(Identifiers, BytesThatAreNotUtf8AreQuotedAsGoDoes) {
  log::Debug("spdlog is loaded by this test as by the daemon");
  EXPECT_EQ(
      ErrorOf("n\xff"),
      R"(identifier "n\xff" must match ^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$: invalid argument)");
  EXPECT_EQ(ErrorOf("n\x80\x01"),
            R"(identifier "n\x80\x01" must match ^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$: )"
            "invalid argument");
}

TEST(Identifiers, Empty) {
  EXPECT_FALSE(identifiers::IsValid(""));
  EXPECT_EQ(ErrorOf(""), "identifier must not be empty: invalid argument");
}

TEST(Identifiers, TooLong) {
  std::string id(77, 'a');
  EXPECT_FALSE(identifiers::IsValid(id));
  EXPECT_EQ(ErrorOf(id), "identifier \"" + id +
                             "\" greater than maximum length (76 characters): invalid argument");
}

}  // namespace
}  // namespace mcd
