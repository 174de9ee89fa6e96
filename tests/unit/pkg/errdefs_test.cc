#include "pkg/errdefs.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace mcd::errdefs {
namespace {

TEST(ErrdefsTest, ErrnoTextIsGosSpelling) {
  EXPECT_EQ(ErrnoText(ENOENT), "no such file or directory");
  EXPECT_EQ(ErrnoText(EACCES), "permission denied");
  EXPECT_EQ(ErrnoText(EEXIST), "file exists");
  EXPECT_EQ(ErrnoText(EIO), "input/output error");
}

TEST(ErrdefsTest, FromErrnoKeepsTheClass) {
  auto e = FromErrno(ENOENT, "open x");
  EXPECT_EQ(e.code(), Code::kNotFound);
  EXPECT_EQ(std::string(e.what()), "open x: no such file or directory: not found");
  EXPECT_EQ(FromErrno(EEXIST, "mkdir y").code(), Code::kAlreadyExists);
}

}  // namespace
}  // namespace mcd::errdefs
