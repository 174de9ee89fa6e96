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

// containerd's errdefs.FromGRPC: the class text once at the end, codes
// without a class become unknown.
TEST(ErrdefsTest, FromGrpcRebasesAsContainerd) {
  auto e = FromGrpc(Error(Code::kUnknown, "runc create failed: exec: \"x\": permission denied"));
  EXPECT_EQ(e.code(), Code::kUnknown);
  EXPECT_EQ(std::string(e.what()), "runc create failed: exec: \"x\": permission denied: unknown");
  // Already suffixed: not twice.
  EXPECT_EQ(std::string(FromGrpc(Error(Code::kUnknown, "cannot pause: unknown")).what()),
            "cannot pause: unknown");
  EXPECT_EQ(std::string(FromGrpc(Error(Code::kNotFound, "process p")).what()),
            "process p: not found");
  EXPECT_EQ(std::string(FromGrpc(Error(Code::kNotFound, "process p: not found")).what()),
            "process p: not found");
  EXPECT_EQ(std::string(FromGrpc(Error(Code::kNotFound, "not found")).what()), "not found");
  // Codes without a class are unknown to containerd.
  auto internal = FromGrpc(Error(Code::kInternal, "boom"));
  EXPECT_EQ(internal.code(), Code::kUnknown);
  EXPECT_EQ(std::string(internal.what()), "boom: unknown");
  EXPECT_EQ(FromGrpc(Error(Code::kPermissionDenied, "x")).code(), Code::kUnknown);
  EXPECT_EQ(std::string(FromGrpc(Error(Code::kFailedPrecondition, "x")).what()),
            "x: failed precondition");
}

}  // namespace
}  // namespace mcd::errdefs
