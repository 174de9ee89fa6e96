// The container and image stores: containerd's field-path rules, label
// handling and validation wording.
#include <gtest/gtest.h>

#include <filesystem>

#include "metadata/containers.h"
#include "metadata/images.h"
#include "pkg/errdefs.h"

namespace mcd::metadata {
namespace {

class StoresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("mcd-stores-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    db_ = DB::Open(dir_.string());
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  static Image Img(const std::string& name) {
    Image i;
    i.name = name;
    i.rec.mutable_target()->set_digest("sha256:" + std::string(64, 'b'));
    i.rec.mutable_target()->set_size(5);
    i.rec.mutable_target()->set_media_type("application/vnd.oci.image.manifest.v1+json");
    return i;
  }
  static std::string ErrorOf(const std::function<void()>& fn) {
    try {
      fn();
    } catch (const errdefs::Error& e) {
      return e.what();
    }
    return "no error";
  }
  std::filesystem::path dir_;
  std::shared_ptr<DB> db_;
};

TEST_F(StoresTest, ImageValidationWording) {
  ImageStore s(db_);
  auto bad = Img("x");
  bad.rec.mutable_target()->set_digest("sha256:abc");
  EXPECT_EQ(
      ErrorOf([&] { s.Create("ns", bad); }),
      "Target.Digest \"sha256:abc\" invalid: invalid checksum digest length: invalid argument");
  bad.rec.mutable_target()->set_digest("nope");
  EXPECT_EQ(ErrorOf([&] { s.Create("ns", bad); }),
            "Target.Digest \"nope\" invalid: invalid checksum digest format: invalid argument");
  bad = Img("x");
  bad.rec.mutable_target()->set_size(0);
  EXPECT_EQ(ErrorOf([&] { s.Create("ns", bad); }),
            "Target.Size must be greater than zero: invalid argument");
  bad = Img("x");
  bad.rec.mutable_target()->clear_media_type();
  EXPECT_EQ(ErrorOf([&] { s.Create("ns", bad); }),
            "Target.MediaType must be set: invalid argument");
  s.Create("ns", Img("x"));
  EXPECT_EQ(ErrorOf([&] { s.Create("ns", Img("x")); }), "image \"x\": already exists");
  EXPECT_EQ(ErrorOf([&] { s.Get("ns", "y"); }), "image \"y\": not found");
  EXPECT_EQ(ErrorOf([&] { s.Delete("ns", "y"); }), "image \"y\": not found");
  EXPECT_EQ(ErrorOf([&] { s.Update("ns", Img("x"), {"name"}); }),
            "cannot update \"name\" field on image \"x\": invalid argument");
}

TEST_F(StoresTest, ImageFieldPaths) {
  ImageStore s(db_);
  auto a = Img("docker.io/library/a:1");
  (*a.rec.mutable_labels())["keep"] = "1";
  (*a.rec.mutable_labels())["drop"] = "";  // empty values are not stored
  auto created = s.Create("ns", a);
  EXPECT_EQ(created.rec.labels().size(), 1u);

  auto u = Img("docker.io/library/a:1");
  (*u.rec.mutable_labels())["new"] = "2";
  (*u.rec.mutable_target()->mutable_annotations())["an"] = "v";
  u.rec.mutable_target()->set_size(99);
  auto got = s.Update("ns", u, {"labels.new", "annotations.an"});
  EXPECT_EQ(got.rec.labels().at("keep"), "1");
  EXPECT_EQ(got.rec.labels().at("new"), "2");
  EXPECT_EQ(got.rec.target().annotations().at("an"), "v");
  EXPECT_EQ(got.rec.target().size(), 5);  // target not in the mask
  got = s.Update("ns", u, {"target"});
  EXPECT_EQ(got.rec.target().size(), 99);
  got = s.Update("ns", Img("docker.io/library/a:1"), {});  // full replace
  EXPECT_TRUE(got.rec.labels().empty());
  EXPECT_EQ(got.rec.created_at().SerializeAsString(), created.rec.created_at().SerializeAsString());

  s.Create("ns", Img("docker.io/library/b:1"));
  auto list = s.List("ns", {"name~=a:1$"});
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].name, "docker.io/library/a:1");
  EXPECT_EQ(s.List("ns", {"target.mediatype==application/vnd.oci.image.manifest.v1+json"}).size(),
            2u);
  EXPECT_EQ(s.List("other", {}).size(), 0u);
  s.Delete("ns", "docker.io/library/a:1");
  EXPECT_EQ(s.List("ns", {}).size(), 1u);
}

TEST_F(StoresTest, ContainerExtensionsPaths) {
  ContainerStore s(db_);
  Container c;
  c.id = "c";
  c.rec.set_runtime_name("rt");
  c.rec.mutable_spec()->set_type_url("s");
  (*c.rec.mutable_extensions())["a"].set_value("1");
  s.Create("ns", c);
  Container u = c;
  u.rec.mutable_extensions()->clear();
  (*u.rec.mutable_extensions())["b"].set_value("2");
  auto got = s.Update("ns", u, {"extensions.b"});
  EXPECT_EQ(got.rec.extensions().at("a").value(), "1");
  EXPECT_EQ(got.rec.extensions().at("b").value(), "2");
  got = s.Update("ns", u, {"extensions"});
  EXPECT_EQ(got.rec.extensions().size(), 1u);
  u.rec.set_image("newimage");
  u.rec.set_snapshot_key("k");
  EXPECT_EQ(ErrorOf([&] { s.Update("ns", u, {"snapshotkey"}); }),
            "update failed validation: container.Snapshotter must be set if container.SnapshotKey "
            "is set: invalid argument");
  got = s.Update("ns", u, {"image"});
  EXPECT_EQ(got.rec.image(), "newimage");
}

}  // namespace
}  // namespace mcd::metadata
