// The layer applier: path safety (nothing written outside the root),
// whiteouts in both modes, compression and the uncompressed digest.
// Entries name only the fields they use (GCC 12 warns on designated
// initializers that leave the rest to their defaults).
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include <fcntl.h>
#include <gtest/gtest.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "diff/apply.h"
#include "pkg/fs.h"
#include "tests/unit/snapshots/tarbuild.h"

namespace mcd::diff {
namespace {

using testing::BuildTar;
using testing::TarEntry;

class TempDir {
 public:
  TempDir() {
    std::string t = "/tmp/mcd-apply-XXXXXX";
    path_ = ::mkdtemp(t.data());
    ::chmod(path_.c_str(), 0711);
  }
  ~TempDir() { fs::RemoveAll(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

Source FromString(const std::string& s) {
  auto off = std::make_shared<size_t>(0);
  return [&s, off](void* buf, size_t n) {
    size_t k = std::min(n, s.size() - *off);
    std::memcpy(buf, s.data() + *off, k);
    *off += k;
    return k;
  };
}

std::string Sha(const std::string& s) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), md);
  std::string out = "sha256:";
  char hex[3];
  for (unsigned char c : md) {
    std::snprintf(hex, sizeof hex, "%02x", c);
    out += hex;
  }
  return out;
}

std::string Read(const std::string& p) {
  return fs::ReadFile(p);
}

TEST(CleanComponents, NeverClimbsAboveRoot) {
  EXPECT_EQ(CleanComponents("../../etc/passwd"), (std::vector<std::string>{"etc", "passwd"}));
  EXPECT_EQ(CleanComponents("/abs/x"), (std::vector<std::string>{"abs", "x"}));
  EXPECT_EQ(CleanComponents("a/./b/../c/"), (std::vector<std::string>{"a", "c"}));
  EXPECT_TRUE(CleanComponents("/").empty());
  EXPECT_TRUE(CleanComponents("..").empty());
}

TEST(Apply, PlainGzipZstdGiveTheUncompressedDigest) {
  std::vector<TarEntry> layer = {{.name = "bin/", .type = AE_IFDIR},
                                 {.name = "bin/hello", .data = "hi\n", .perm = 0755},
                                 {.name = "bin/sh", .type = AE_IFLNK, .link = "hello"}};
  std::string plain = BuildTar(layer);
  for (const std::string filter : {"", "gzip", "zstd"}) {
    TempDir d;
    std::string blob = filter.empty() ? plain : BuildTar(layer, filter);
    if (!filter.empty()) {
      ASSERT_NE(blob, plain);
    }
    auto r = ApplyLayer(FromString(blob), d.path(), {});
    EXPECT_EQ(r.digest, Sha(plain)) << filter;
    EXPECT_EQ(r.size, static_cast<int64_t>(plain.size()));
    EXPECT_EQ(Read(d.path() + "/bin/hello"), "hi\n");
    struct stat st;
    ASSERT_EQ(::stat((d.path() + "/bin/hello").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0755u);
    EXPECT_EQ(st.st_mtime, 1700000000);
    EXPECT_EQ(std::filesystem::read_symlink(d.path() + "/bin/sh"), "hello");
  }
}

TEST(Apply, HostileNamesStayInside) {
  TempDir outer;
  std::string root = outer.path() + "/root";
  fs::MkdirAll(root, 0755);
  // A host file beside the root that the layer aims at.
  std::string host = outer.path() + "/escape";
  std::string victim = outer.path() + "/victim";
  { std::ofstream(victim) << "host"; }
  std::string layer = BuildTar({
      {.name = "../escape", .data = "x"},
      {.name = "/abs", .data = "abs"},
      {.name = "../../../../../../../../tmp/../" + outer.path().substr(1) + "/victim", .data = "p"},
      {.name = "up", .type = AE_IFLNK, .link = "/"},
      {.name = "up/through", .data = "t"},
      {.name = "rel", .type = AE_IFLNK, .link = "../../../.."},
      {.name = "rel/" + outer.path().substr(1) + "/victim", .data = "r"},
      {.name = "etc/", .type = AE_IFDIR},
      {.name = "etc/hostname", .data = "inside"},
      {.name = "hl", .hardlink = "/etc/hostname"},
  });
  ApplyLayer(FromString(layer), root, {});
  EXPECT_FALSE(fs::Exists(host));
  EXPECT_EQ(Read(victim), "host");
  EXPECT_EQ(Read(root + "/escape"), "x");
  EXPECT_EQ(Read(root + "/abs"), "abs");
  EXPECT_EQ(Read(root + "/through"), "t");  // "up" is the root itself
  EXPECT_EQ(Read(root + outer.path() + "/victim"), "r");
  EXPECT_EQ(Read(root + "/hl"), "inside");
  struct stat a, b;
  ASSERT_EQ(::stat((root + "/hl").c_str(), &a), 0);
  ASSERT_EQ(::stat((root + "/etc/hostname").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
}

TEST(Apply, HardLinkToHostFileFailsWithoutTouchingIt) {
  TempDir outer;
  std::string root = outer.path() + "/root";
  fs::MkdirAll(root, 0755);
  std::string victim = outer.path() + "/victim";
  { std::ofstream(victim) << "host"; }
  struct stat before;
  ASSERT_EQ(::stat(victim.c_str(), &before), 0);
  std::string layer =
      BuildTar({{.name = "hl", .hardlink = victim}, {.name = "hl2", .hardlink = "../victim"}});
  EXPECT_ANY_THROW(ApplyLayer(FromString(layer), root, {}));
  struct stat after;
  ASSERT_EQ(::stat(victim.c_str(), &after), 0);
  EXPECT_EQ(after.st_nlink, before.st_nlink);
  EXPECT_EQ(Read(victim), "host");
  EXPECT_FALSE(fs::Exists(root + "/hl"));
}

TEST(Apply, SymlinkAsLastComponentIsReplacedNotFollowed) {
  TempDir outer;
  std::string root = outer.path() + "/root";
  fs::MkdirAll(root, 0755);
  std::string victim = outer.path() + "/victim";
  { std::ofstream(victim) << "host"; }
  std::string layer =
      BuildTar({{.name = "f", .type = AE_IFLNK, .link = victim}, {.name = "f", .data = "new"}});
  ApplyLayer(FromString(layer), root, {});
  EXPECT_EQ(Read(victim), "host");
  EXPECT_EQ(Read(root + "/f"), "new");
}

TEST(Apply, WhiteoutsDeleteOnPlainDirectories) {
  TempDir d;
  ApplyLayer(FromString(BuildTar({{.name = "a/", .type = AE_IFDIR},
                                  {.name = "a/gone", .data = "1"},
                                  {.name = "a/kept", .data = "1"},
                                  {.name = "o/", .type = AE_IFDIR},
                                  {.name = "o/old", .data = "1"},
                                  {.name = "o/sub/", .type = AE_IFDIR}})),
             d.path(), {});
  ApplyLayer(FromString(BuildTar({{.name = "a/.wh.gone", .data = ""},
                                  {.name = "o/", .type = AE_IFDIR},
                                  {.name = "o/new", .data = "2"},
                                  {.name = "o/.wh..wh..opq", .data = ""}})),
             d.path(), {});
  EXPECT_FALSE(fs::Exists(d.path() + "/a/gone"));
  EXPECT_TRUE(fs::Exists(d.path() + "/a/kept"));
  EXPECT_FALSE(fs::Exists(d.path() + "/a/.wh.gone"));
  EXPECT_FALSE(fs::Exists(d.path() + "/o/old"));
  EXPECT_FALSE(fs::Exists(d.path() + "/o/sub"));
  EXPECT_EQ(Read(d.path() + "/o/new"), "2");
  EXPECT_FALSE(fs::Exists(d.path() + "/o/.wh..wh..opq"));
}

TEST(Apply, WhiteoutsBecomeOverlayMarkers) {
  TempDir lower, upper;
  ApplyLayer(FromString(BuildTar({{.name = "a/", .type = AE_IFDIR, .perm = 0750}})), lower.path(),
             {});
  ApplyOptions o{.whiteouts = Whiteouts::kOverlay, .parents = {lower.path()}};
  ApplyLayer(FromString(BuildTar({{.name = "a/.wh.gone", .data = ""},
                                  {.name = "o/", .type = AE_IFDIR},
                                  {.name = "o/.wh..wh..opq", .data = ""}})),
             upper.path(), o);
  struct stat st;
  ASSERT_EQ(::lstat((upper.path() + "/a/gone").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(0, 0));
  // The parent the upper dir lacked took the lower layer's mode.
  ASSERT_EQ(::lstat((upper.path() + "/a").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  char v[4] = {};
  ASSERT_EQ(::getxattr((upper.path() + "/o").c_str(), "trusted.overlay.opaque", v, sizeof v), 1);
  EXPECT_EQ(v[0], 'y');
}

TEST(Apply, InvalidWhiteoutAndGarbageAreErrors) {
  TempDir d;
  EXPECT_ANY_THROW(
      ApplyLayer(FromString(BuildTar({{.name = "a/.wh..", .data = ""}})), d.path(), {}));
  EXPECT_ANY_THROW(ApplyLayer(FromString(std::string(1000, 'z')), d.path(), {}));
}

}  // namespace
}  // namespace mcd::diff
