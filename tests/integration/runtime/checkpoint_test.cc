// Checkpoint and restore through the real ctr and runc shim. criu cannot run
// in this VM (its kernel-feature check fails), so runc is wrapped: its
// checkpoint writes a stand-in image and its restore fails naming the files
// it was given. That exercises everything the daemon does: the shim call, the
// image as a tar blob plus the spec in the content store, and, for a restore,
// the blob unpacked into a directory that lives until the shim's Start.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <regex>

#include "pkg/fs.h"
#include "tests/integration/support/harness.h"
#include "tests/integration/support/image_builder.h"

namespace mcd::itest {
namespace {

const char* kImage = "docker.io/library/busybox:latest";
const char* kNs = "ckpt";

const char* kFakeRunc = R"(#!/bin/sh
cmd= img= log= prev=
for a; do
  case "$prev" in --image-path) img=$a ;; --log) log=$a ;; esac
  case "$a" in checkpoint|restore) [ -z "$cmd" ] && cmd=$a ;; esac
  prev=$a
done
case "$cmd" in
checkpoint)
  mkdir -p "$img/sub" && echo inventory > "$img/inventory.img" && echo pages > "$img/sub/pages-1.img"
  exit 0 ;;
restore)
  files=$(cd "$img" && find . -type f | sort | tr '\n' ' ')
  printf '{"level":"error","msg":"restore from %s"}\n' "$files" >> "$log"
  exit 1 ;;
esac
exec runc "$@"
)";

std::string Out(const process::Result& r) {
  return r.out + r.err;
}

// Scratch directories the daemon made for checkpoints (it must remove them).
size_t ScratchDirs() {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/tmp")) {
    auto name = e.path().filename().string();
    if (name.starts_with("ctrd-checkpoint") || name.starts_with("ctd-checkpoint")) ++n;
  }
  return n;
}

TEST(Checkpoint, CheckpointToContentStoreThenRestoreFromIt) {
  for (const char* tool : {"ctr", "runc", "containerd-shim-runc-v2", "tar"}) Require(tool);
  TempDir dir;
  Daemon d(dir.path());
  d.Start();
  const std::string runc = dir.path() + "/fake-runc";
  fs::WriteFileAtomic(runc, kFakeRunc, 0755);
  const std::string tar = dir.path() + "/busybox.tar";
  image::WriteOciArchive({image::Busybox(kImage)}, tar);
  ASSERT_EQ(Ctr(d, {"images", "import", tar}, kNs).exit_code, 0);
  const size_t scratch_before = ScratchDirs();

  auto r = Ctr(d, {"run", "-d", "--runc-binary", runc, kImage, "k1", "sleep", "1000"}, kNs);
  ASSERT_EQ(r.exit_code, 0) << Out(r);
  r = Ctr(d, {"c", "checkpoint", "--task", "k1", "chk1"}, kNs);
  ASSERT_EQ(r.exit_code, 0) << Out(r);

  // The checkpoint image's index names the criu tar; the tar holds what the
  // runtime wrote.
  r = Ctr(d, {"images", "ls"}, kNs);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex(R"(chk1\s+\S+\s+(sha256:[0-9a-f]{64}))")))
      << r.out;
  r = Ctr(d, {"content", "get", m[1].str()}, kNs);
  ASSERT_EQ(r.exit_code, 0) << Out(r);
  ASSERT_TRUE(std::regex_search(
      r.out, m,
      std::regex(
          R"re("mediaType":"application/vnd\.containerd\.container\.criu\.checkpoint\.criu\.tar","digest":"(sha256:[0-9a-f]{64})")re")))
      << r.out;
  EXPECT_NE(r.out.find("application/vnd.containerd.container.checkpoint.config.v1+proto"),
            std::string::npos)
      << r.out;
  r = Ctr(d, {"content", "get", m[1].str()}, kNs);
  ASSERT_EQ(r.exit_code, 0) << Out(r);
  auto list = Sh({"tar", "-tf", "-"}, r.out);
  EXPECT_NE(list.out.find("inventory.img"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("sub/pages-1.img"), std::string::npos) << list.out;

  r = Ctr(d, {"task", "rm", "-f", "k1"}, kNs);
  ASSERT_EQ(r.exit_code, 0) << Out(r);
  ASSERT_EQ(Ctr(d, {"c", "rm", "k1"}, kNs).exit_code, 0);

  // The live restore reaches runc's restore with the image unpacked.
  r = Ctr(d, {"c", "restore", "--live", "k2", "chk1"}, kNs);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(Out(r).find("OCI runtime restore failed: restore from ./inventory.img "
                        "./sub/pages-1.img"),
            std::string::npos)
      << Out(r);
  // The task that never started (CREATED) goes with its container: its exit
  // time is Go's zero time, which must reach ctr as a valid timestamp.
  // (`task rm -f` would wait forever for an exit, with containerd too.)
  r = Ctr(d, {"task", "ls"}, kNs);
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(k2\s+0\s+CREATED)"))) << r.out;
  r = Ctr(d, {"c", "rm", "k2"}, kNs);
  EXPECT_EQ(r.exit_code, 0) << Out(r);
  r = Ctr(d, {"task", "ls", "-q"}, kNs);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(ScratchDirs(), scratch_before);
}

// Without criu the real runc fails the checkpoint; the shim's error reaches
// ctr as containerd's does.
TEST(Checkpoint, RuntimeFailureIsTheShimsError) {
  for (const char* tool : {"ctr", "runc", "containerd-shim-runc-v2"}) Require(tool);
  TempDir dir;
  Daemon d(dir.path());
  d.Start();
  const std::string tar = dir.path() + "/busybox.tar";
  image::WriteOciArchive({image::Busybox(kImage)}, tar);
  ASSERT_EQ(Ctr(d, {"images", "import", tar}, kNs).exit_code, 0);
  const std::string runc = dir.path() + "/failing-runc";
  fs::WriteFileAtomic(runc,
                      "#!/bin/sh\nfor a; do [ \"$a\" = checkpoint ] && { echo "
                      "'{\"level\":\"error\",\"msg\":\"no criu here\"}' >&2; exit 1; }; done\n"
                      "exec runc \"$@\"\n",
                      0755);
  auto r = Ctr(d, {"run", "-d", "--runc-binary", runc, kImage, "k3", "sleep", "1000"}, kNs);
  ASSERT_EQ(r.exit_code, 0) << Out(r);
  r = Ctr(d, {"task", "checkpoint", "k3"}, kNs);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(Out(r).find("runc did not terminate successfully: exit status 1"), std::string::npos)
      << Out(r);
  EXPECT_EQ(Ctr(d, {"task", "rm", "-f", "k3"}, kNs).exit_code, 0);
  EXPECT_EQ(Ctr(d, {"c", "rm", "k3"}, kNs).exit_code, 0);
  r = Ctr(d, {"task", "checkpoint", "nosuch"}, kNs);
  EXPECT_NE(Out(r).find("container \"nosuch\" in namespace \"ckpt\": not found"), std::string::npos)
      << Out(r);
}

}  // namespace
}  // namespace mcd::itest
