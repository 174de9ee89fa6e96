#include "ttrpc/address.h"

#include <gtest/gtest.h>

#include "pkg/errdefs.h"

namespace mcd::ttrpc {
namespace {

TEST(Address, Forms) {
  EXPECT_EQ(SocketPath("/run/x.sock"), "/run/x.sock");
  EXPECT_EQ(SocketPath("unix:///run/containerd/s/abc"), "/run/containerd/s/abc");
  EXPECT_EQ(SocketPath("@name"), std::string("\0name", 5));
  EXPECT_EQ(SocketPath("unix://@name"), std::string("\0name", 5));
  // A bare name is abstract, as the shim's dialer reads it.
  EXPECT_EQ(SocketPath("containerd-shim-abc"), std::string("\0containerd-shim-abc", 20));
}

TEST(Address, RejectsEmptyAndTooLong) {
  EXPECT_THROW(SocketPath(""), errdefs::Error);
  EXPECT_THROW(SocketPath("unix://"), errdefs::Error);
  EXPECT_THROW(SocketPath("@"), errdefs::Error);
  EXPECT_THROW(SocketPath("/" + std::string(200, 'a')), errdefs::Error);
}

}  // namespace
}  // namespace mcd::ttrpc
