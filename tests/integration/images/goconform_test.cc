// The containerd Go client (Debian's 1.6.20 sources, built offline) through
// the metadata APIs: goconform/ runs each scenario and compares what it sees
// with what containerd 1.6.20 answered (goconform/golden.txt, recorded with
// `goconform -record` against the real containerd). Any difference fails.
#include <gtest/gtest.h>

#include <memory>

#include "tests/integration/support/harness.h"
#include "tests/integration/support/image_builder.h"

namespace mcd::itest {
namespace {

TEST(GoConform, MetadataApisAsContainerd) {
  Require("go");
  TempDir dir;
  const std::string bin = dir.path() + "/goconform";
  auto r = BuildGo(MCD_GOCONFORM_DIR, bin);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  const std::string tar = dir.path() + "/busybox.tar";
  image::WriteOciArchive({image::Busybox()}, tar);
  Daemon d(dir.path());
  d.Start();
  r = Sh({bin, "-socket", d.socket(), "-image", tar});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  // Every scenario ran and reported.
  for (const char* s : {"containers", "content", "images", "labels", "leases", "more", "shared",
                        "version", "introspection", "namespaces", "snapshots", "diff",
                        "nonamespace", "subscribe", "order", "gc", "filters"}) {
    EXPECT_NE(r.out.find(std::string("PASS ") + s + "\n"), std::string::npos) << s << "\n" << r.out;
  }
  EXPECT_EQ(d.Stop(), 0) << d.Log();
}

}  // namespace
}  // namespace mcd::itest
