// The test image builder: layer tars as written, digests, and an OCI layout
// archive that reads back with the expected entries.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "tests/integration/support/image_builder.h"

namespace mcd::itest::image {
namespace {

// Every entry of a (possibly compressed) tar: path -> (type, data/link).
std::map<std::string, std::pair<int, std::string>> ReadTar(const std::string& bytes) {
  std::map<std::string, std::pair<int, std::string>> out;
  archive* a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_tar(a);
  EXPECT_EQ(archive_read_open_memory(a, bytes.data(), bytes.size()), ARCHIVE_OK);
  archive_entry* e;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    std::string data;
    int type = archive_entry_filetype(e);
    if (archive_entry_hardlink(e)) {
      data = archive_entry_hardlink(e);
      type = 1;
    } else if (type == AE_IFLNK) {
      data = archive_entry_symlink(e);
    } else {
      char buf[65536];
      la_ssize_t n;
      while ((n = archive_read_data(a, buf, sizeof buf)) > 0) data.append(buf, n);
    }
    out[archive_entry_pathname(e)] = {type, data};
  }
  archive_read_free(a);
  return out;
}

TEST(ImageBuilder, LayerEntriesAsWritten) {
  Layer l;
  l.compression = Compression::kGzip;
  l.entries = {Dir("a"),
               File("a/f", "data", 0600),
               Symlink("a/s", "f"),
               Hardlink("a/h", "a/f"),
               Whiteout("a/gone"),
               Opaque("b"),
               File("../escape", "x"),
               File("/abs", "y")};
  ImageSpec spec;
  spec.layers = {l};
  auto img = Build(spec);
  ASSERT_EQ(img.layers.size(), 1u);
  EXPECT_EQ(img.layers[0].media_type, kLayerGzip);
  auto blob = img.blobs.at(img.layers[0].digest);
  EXPECT_EQ(Sha256(blob), img.layers[0].digest);
  EXPECT_EQ(img.diff_ids[0], Sha256(LayerTar(l.entries)));
  auto entries = ReadTar(blob);
  EXPECT_EQ(entries.at("a/f").second, "data");
  EXPECT_EQ(entries.at("a/s").first, AE_IFLNK);
  EXPECT_EQ(entries.at("a/s").second, "f");
  EXPECT_EQ(entries.at("a/h").second, "a/f");
  EXPECT_TRUE(entries.count("a/.wh.gone"));
  EXPECT_TRUE(entries.count("b/.wh..wh..opq"));
  EXPECT_TRUE(entries.count("../escape"));
  EXPECT_TRUE(entries.count("/abs"));
  // Same input, same blob.
  EXPECT_EQ(Build(spec).manifest.digest, img.manifest.digest);
}

TEST(ImageBuilder, BusyboxOciArchive) {
  auto img = Busybox("docker.io/library/busybox:1.0");
  auto tar = ReadTar(OciArchive({img}));
  auto index = nlohmann::json::parse(tar.at("index.json").second);
  auto m = index["manifests"][0];
  EXPECT_EQ(m["digest"], img.manifest.digest);
  EXPECT_EQ(m["annotations"]["io.containerd.image.name"], "docker.io/library/busybox:1.0");
  EXPECT_EQ(m["annotations"]["org.opencontainers.image.ref.name"], "1.0");
  EXPECT_TRUE(tar.count("oci-layout"));
  for (const auto& [digest, bytes] : img.blobs) {
    EXPECT_EQ(tar.at("blobs/sha256/" + digest.substr(7)).second, bytes);
  }
  auto config = nlohmann::json::parse(img.blobs.at(img.config.digest));
  EXPECT_EQ(config["architecture"], "amd64");
  EXPECT_EQ(config["os"], "linux");
  EXPECT_EQ(config["config"]["Cmd"][0], "sh");
  EXPECT_EQ(config["rootfs"]["diff_ids"][0], img.diff_ids[0]);
  auto layer = ReadTar(img.blobs.at(img.layers[0].digest));
  EXPECT_EQ(layer.at("bin/sh").second, "busybox");
  EXPECT_EQ(layer.at("bin/sleep").second, "busybox");
  EXPECT_GT(layer.at("bin/busybox").second.size(), 100000u);
  EXPECT_TRUE(layer.count("tmp/"));
  EXPECT_TRUE(layer.count("etc/"));
}

TEST(ImageBuilder, Compressions) {
  std::string tar = LayerTar({File("f", std::string(10000, 'a'))});
  EXPECT_EQ(Compress(tar, Compression::kNone), tar);
  for (auto c : {Compression::kGzip, Compression::kZstd}) {
    auto z = Compress(tar, c);
    EXPECT_LT(z.size(), tar.size());
    EXPECT_EQ(ReadTar(z).at("f").second, std::string(10000, 'a'));
  }
}

}  // namespace
}  // namespace mcd::itest::image
