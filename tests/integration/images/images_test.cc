// Images with the real ctr and the project's busybox test image:
// import --no-unpack, ls, export (byte-identical blobs), tag, label,
// rm with GC removing the blobs, restart, and the namespace delete check
// (check is in images_check_test.cc).
// Expected outputs were taken from containerd 1.6.20 on the same image.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>

#include "tests/integration/support/harness.h"
#include "tests/integration/support/image_builder.h"

namespace mcd::itest {
namespace {

// Every regular file of a tar: path -> bytes.
std::map<std::string, std::string> ReadTar(const std::string& path) {
  std::unique_ptr<archive, decltype(&archive_read_free)> a(archive_read_new(), archive_read_free);
  archive_read_support_format_tar(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK) {
    throw std::runtime_error("open " + path + ": " + archive_error_string(a.get()));
  }
  std::map<std::string, std::string> out;
  archive_entry* e;
  while (archive_read_next_header(a.get(), &e) == ARCHIVE_OK) {
    if (archive_entry_filetype(e) != AE_IFREG) continue;
    std::string data(static_cast<size_t>(archive_entry_size(e)), '\0');
    if (!data.empty() && archive_read_data(a.get(), data.data(), data.size()) !=
                             static_cast<la_ssize_t>(data.size())) {
      throw std::runtime_error("short read in " + path);
    }
    out[archive_entry_pathname(e)] = std::move(data);
  }
  return out;
}

// Entries of a directory (none when it does not exist).
size_t DirEntries(const std::string& dir) {
  std::error_code ec;
  size_t n = 0;
  for (auto it = std::filesystem::directory_iterator(dir, ec);
       !ec && it != std::filesystem::directory_iterator(); ++it) {
    ++n;
  }
  return n;
}

size_t CountLines(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

class ImagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Require("ctr");
    img_ = image::Busybox();
    tar_ = dir_.path() + "/busybox.tar";
    image::WriteOciArchive({img_}, tar_);
    daemon_ = std::make_unique<Daemon>(dir_.path());
    daemon_->Start();
  }
  process::Result Run(const std::vector<std::string>& args, const std::string& ns = "default") {
    return Ctr(*daemon_, args, ns);
  }
  void Import(const std::string& ns = "default") {
    auto r = Run({"images", "import", "--no-unpack", tar_}, ns);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  std::string BlobsDir() const {
    return daemon_->root() + "/io.containerd.content.v1.content/blobs/sha256";
  }

  TempDir dir_;
  image::Image img_;
  std::string tar_;
  std::unique_ptr<Daemon> daemon_;
};

TEST_F(ImagesTest, ImportListCheckExport) {
  Import();
  const std::string name = "docker.io/library/busybox:latest";
  auto ls = Run({"images", "ls"});
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_NE(
      ls.out.find(name + " application/vnd.oci.image.manifest.v1+json " + img_.manifest.digest),
      std::string::npos)
      << ls.out;
  EXPECT_NE(ls.out.find("linux/amd64"), std::string::npos) << ls.out;
  EXPECT_EQ(Run({"images", "ls", "-q"}).out, name + "\n");

  // The manifest carries the importer's gc.ref labels to config and layer.
  // The image's 3 blobs (ctr's import may leave its index blob until the
  // next collection, as with containerd).
  auto content = Run({"content", "ls"});
  for (const auto& [digest, bytes] : img_.blobs) {
    EXPECT_NE(content.out.find(digest), std::string::npos) << digest << "\n" << content.out;
  }
  EXPECT_NE(content.out.find("containerd.io/gc.ref.content.config=" + img_.config.digest),
            std::string::npos)
      << content.out;
  EXPECT_NE(content.out.find("containerd.io/gc.ref.content.l.0=" + img_.layers[0].digest),
            std::string::npos)
      << content.out;

  const std::string out = dir_.path() + "/out.tar";
  auto ex = Run({"images", "export", out, name});
  ASSERT_EQ(ex.exit_code, 0) << ex.err;
  auto files = ReadTar(out);
  ASSERT_EQ(img_.blobs.size(), 3u);
  for (const auto& [digest, bytes] : img_.blobs) {
    auto it = files.find("blobs/sha256/" + digest.substr(7));
    ASSERT_NE(it, files.end()) << digest;
    EXPECT_TRUE(it->second == bytes) << digest << " differs";
  }
  EXPECT_TRUE(files.count("index.json"));
  EXPECT_TRUE(files.count("oci-layout"));
}

TEST_F(ImagesTest, TagLabelRemoveAndCollect) {
  Import();
  const std::string name = "docker.io/library/busybox:latest";
  const std::string v2 = "docker.io/library/busybox:v2";
  auto tag = Run({"images", "tag", name, v2});
  ASSERT_EQ(tag.exit_code, 0) << tag.err;
  EXPECT_EQ(tag.out, v2 + "\n");
  tag = Run({"images", "tag", name, v2});
  EXPECT_NE(tag.exit_code, 0);
  EXPECT_NE(tag.err.find("ctr: image \"" + v2 + "\": already exists"), std::string::npos)
      << tag.err;

  auto label = Run({"images", "label", v2, "foo=bar"});
  ASSERT_EQ(label.exit_code, 0) << label.err;
  EXPECT_EQ(label.out, "foo=bar\n");
  auto ls = Run({"images", "ls", "-q", "labels.foo==bar"});
  EXPECT_EQ(ls.out, v2 + "\n");
  label = Run({"images", "label", "nope", "a=b"});
  EXPECT_NE(label.exit_code, 0);
  EXPECT_NE(label.err.find("ctr: image \"nope\": not found"), std::string::npos) << label.err;

  // The namespace holds images and blobs.
  auto nsrm = Run({"namespaces", "rm", "default"}, "");
  EXPECT_NE(nsrm.exit_code, 0);
  EXPECT_NE(nsrm.err.find("namespace \"default\" must be empty, but it still has images, blobs: "
                          "failed precondition"),
            std::string::npos)
      << nsrm.err;

  // One name gone: the other still holds every blob.
  auto rm = Run({"images", "rm", "--sync", v2});
  ASSERT_EQ(rm.exit_code, 0) << rm.err;
  EXPECT_EQ(rm.out, v2 + "\n");
  EXPECT_EQ(CountLines(Run({"content", "ls", "-q"}).out), 3u);

  // The last name gone: garbage collection (synchronous) removes the blobs,
  // in the namespace and on disk.
  rm = Run({"images", "rm", "--sync", name});
  ASSERT_EQ(rm.exit_code, 0) << rm.err;
  auto content = Run({"content", "ls"});
  EXPECT_EQ(content.out, "DIGEST\tSIZE\tAGE\tLABELS\n");
  EXPECT_TRUE(DirEntries(BlobsDir()) == 0);
  nsrm = Run({"namespaces", "rm", "default"}, "");
  EXPECT_EQ(nsrm.exit_code, 0) << nsrm.err;
}

TEST_F(ImagesTest, SharedBlobsStayUntilTheLastNamespaceLetsGo) {
  Import("ns1");
  Import("ns2");
  ASSERT_EQ(Run({"images", "rm", "--sync", "docker.io/library/busybox:latest"}, "ns1").exit_code,
            0);
  EXPECT_EQ(CountLines(Run({"content", "ls", "-q"}, "ns1").out), 0u);
  EXPECT_EQ(CountLines(Run({"content", "ls", "-q"}, "ns2").out), 3u);
  EXPECT_EQ(DirEntries(BlobsDir()), 3u);
  ASSERT_EQ(Run({"images", "rm", "--sync", "docker.io/library/busybox:latest"}, "ns2").exit_code,
            0);
  EXPECT_TRUE(DirEntries(BlobsDir()) == 0);
}

TEST_F(ImagesTest, RestartKeepsImages) {
  Import();
  daemon_->Kill();
  daemon_->Start();
  auto content = Run({"content", "ls", "-q"}).out;
  for (const auto& [digest, bytes] : img_.blobs) {
    EXPECT_NE(content.find(digest), std::string::npos) << digest << "\n" << content;
  }
  EXPECT_EQ(Run({"images", "ls", "-q"}).out, "docker.io/library/busybox:latest\n");
}

}  // namespace
}  // namespace mcd::itest
