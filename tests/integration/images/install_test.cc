// `ctr install`: the managed opt directory (plugin io.containerd.internal.v1
// opt) found through introspection, filled from an image's bin/, and first
// on the PATH the daemon resolves shims on. Expected outputs were taken from
// containerd 1.6.20 with the same configuration.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "pkg/fs.h"
#include "tests/integration/support/harness.h"
#include "tests/integration/support/image_builder.h"

namespace mcd::itest {
namespace {

const char* const kImage = "docker.io/library/busybox:latest";

TEST(Install, OptDirectoryFromAnImage) {
  Require("ctr");
  TempDir dir;
  const std::string opt = dir.path() + "/opt";
  Daemon d(dir.path(), {.extra_args = {},
                        .config_toml = "version = 2\n[plugins.\"io.containerd.internal.v1.opt\"]\n"
                                       "  path = \"" +
                                       opt + "\"\n"});
  d.Start();
  const std::string tar = dir.path() + "/busybox.tar";
  image::WriteOciArchive({image::Busybox()}, tar);
  auto r = Ctr(d, {"images", "import", "--no-unpack", tar});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  r = Ctr(d, {"plugins", "ls", "-d", "id==opt"});
  EXPECT_NE(r.out.find("path      " + opt + "\n"), std::string::npos) << r.out;
  // Created at start, as containerd does: Install does not make them.
  struct stat st;
  ASSERT_EQ(::stat((opt + "/bin").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0711u);
  ASSERT_EQ(::stat((opt + "/lib").c_str(), &st), 0);

  r = Ctr(d, {"install", kImage});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(fs::Exists(opt + "/bin/busybox"));
  EXPECT_TRUE(fs::Exists(opt + "/bin/sh"));

  r = Ctr(d, {"install", kImage});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "ctr: cannot replace bin/busybox in " + opt + "\n");
  r = Ctr(d, {"install", "--replace", kImage});
  EXPECT_EQ(r.exit_code, 0) << r.err;

  // A shim installed there is what a runtime name resolves to (the harness
  // daemon logs at debug level, so shims get -debug). Its failing
  // start is quoted as containerd does: the output untrimmed, then Go's
  // wording of the exit.
  const std::string shim = opt + "/bin/containerd-shim-mcdfake-v1";
  fs::WriteFileAtomic(shim, "#!/bin/sh\necho \"fake shim: $*\"\nexit 3\n", 0755);
  r = Ctr(d, {"run", "--rm", "--runtime", "io.containerd.mcdfake.v1", kImage, "f1", "true"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "ctr: failed to start shim: start failed: fake shim: -namespace default -address " +
                d.socket() + " -publish-binary " + MCD_DAEMON_BINARY +
                " -id f1 -debug start\n: exit status 3: unknown\n");
  fs::WriteFileAtomic(shim, "#!/bin/sh\nkill -SEGV $$\n", 0755);
  r = Ctr(d, {"run", "--rm", "--runtime", "io.containerd.mcdfake.v1", kImage, "f2", "true"});
  EXPECT_EQ(r.err,
            "ctr: failed to start shim: start failed: : signal: segmentation fault: unknown\n");
  // Nothing of the failed tasks is left.
  EXPECT_FALSE(fs::Exists(d.state() + "/io.containerd.runtime.v2.task/default/f1"));
  EXPECT_FALSE(fs::Exists(d.state() + "/io.containerd.runtime.v2.task/default/f2"));
}

}  // namespace
}  // namespace mcd::itest
