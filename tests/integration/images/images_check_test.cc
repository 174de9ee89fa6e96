// `ctr images check` after import --no-unpack: complete, not unpacked. ctr
// asks the snapshotter whether the image is unpacked, so this needs the
// snapshots service.
#include <gtest/gtest.h>

#include "tests/integration/support/harness.h"
#include "tests/integration/support/image_builder.h"

namespace mcd::itest {
namespace {

TEST(ImagesCheck, ImportedImageIsComplete) {
  Require("ctr");
  TempDir dir;
  auto img = image::Busybox();
  const std::string tar = dir.path() + "/busybox.tar";
  image::WriteOciArchive({img}, tar);
  Daemon d(dir.path());
  d.Start();
  auto r = Ctr(d, {"images", "import", "--no-unpack", tar});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto check = Ctr(d, {"images", "check"});
  ASSERT_EQ(check.exit_code, 0) << check.err;
  // As containerd 1.6.20 prints it for this image.
  EXPECT_NE(check.out.find(
                "docker.io/library/busybox:latest application/vnd.oci.image.manifest.v1+json " +
                img.manifest.digest + " complete (2/2)"),
            std::string::npos)
      << check.out;
  EXPECT_NE(check.out.find("false"), std::string::npos) << check.out;  // not unpacked
}

}  // namespace
}  // namespace mcd::itest
