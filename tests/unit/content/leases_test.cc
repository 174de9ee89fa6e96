// The lease store: create (given or generated id), list with filters,
// resources, delete, and containerd's errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "content/digest.h"
#include "metadata/leases.h"
#include "pkg/errdefs.h"
#include "tests/unit/content/temp_dir.h"

namespace mcd::metadata::leases {
namespace {

std::string MessageOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

class LeasesTest : public ::testing::Test {
 protected:
  mcd::testing::TempDir dir;
  std::shared_ptr<DB> db = DB::Open(dir.path() + "/db");
  Store store{db};
};

TEST_F(LeasesTest, CreateListDelete) {
  auto l = store.Create("ns", "one", {{"containerd.io/gc.expire", "2030-01-01T00:00:00Z"}});
  EXPECT_EQ(l.id, "one");
  auto gen = store.Create("ns", "", {{"x", "y"}});
  EXPECT_FALSE(gen.id.empty());
  EXPECT_NE(gen.id.find('-'), std::string::npos);
  EXPECT_EQ(MessageOf([&] { store.Create("ns", "one", {}); }), "lease \"one\": already exists");
  EXPECT_EQ(store.List("ns").size(), 2u);
  EXPECT_EQ(store.List("other").size(), 0u);
  auto by_label = store.List("ns", {"labels.x==y"});
  ASSERT_EQ(by_label.size(), 1u);
  EXPECT_EQ(by_label[0].id, gen.id);
  auto by_id = store.List("ns", {"id==one"});
  ASSERT_EQ(by_id.size(), 1u);
  EXPECT_EQ(by_id[0].labels.at("containerd.io/gc.expire"), "2030-01-01T00:00:00Z");
  store.Delete("ns", "one");
  EXPECT_EQ(MessageOf([&] { store.Delete("ns", "one"); }), "lease \"one\": not found");
  EXPECT_EQ(store.List("ns").size(), 1u);
}

TEST_F(LeasesTest, Resources) {
  store.Create("ns", "l", {});
  store.Create("ns", "l-2", {});  // sorts between "l" and "l/..." keys
  std::string d = content::FromBytes("x");
  store.AddResource("ns", "l", {"snap/1", "snapshots/overlayfs"});
  store.AddResource("ns", "l", {d, "content"});
  store.AddResource("ns", "l", {"ref/with/slash", "ingests"});
  auto rs = store.ListResources("ns", "l");
  ASSERT_EQ(rs.size(), 3u);
  EXPECT_EQ(rs[0].type, "content");
  EXPECT_EQ(rs[0].id, d);
  EXPECT_EQ(rs[1].type, "ingests");
  EXPECT_EQ(rs[1].id, "ref/with/slash");
  EXPECT_EQ(rs[2].type, "snapshots/overlayfs");
  EXPECT_EQ(rs[2].id, "snap/1");
  EXPECT_TRUE(store.ListResources("ns", "l-2").empty());
  int seen = 0;
  store.ForEach("ns", [&](const Lease& l, const std::vector<Resource>& r) {
    if (l.id == "l") {
      EXPECT_EQ(r.size(), 3u);
    }
    if (l.id == "l-2") {
      EXPECT_TRUE(r.empty());
    }
    ++seen;
  });
  EXPECT_EQ(seen, 2);
  store.DeleteResource("ns", "l", {d, "content"});
  EXPECT_EQ(store.ListResources("ns", "l").size(), 2u);
  EXPECT_EQ(MessageOf([&] {
              store.AddResource("ns", "l", {"x", "images"});
            }),
            "resource type images not supported yet: not implemented");
  EXPECT_EQ(MessageOf([&] {
              store.AddResource("ns", "l", {"x", "content"});
            }),
            "invalid content resource id x: invalid checksum digest format: invalid argument");
  EXPECT_EQ(MessageOf([&] {
              store.AddResource("ns", "l", {"x", "snapshots"});
            }),
            "invalid snapshot resource type snapshots: invalid argument");
  EXPECT_EQ(MessageOf([&] {
              store.AddResource("ns", "nope", {d, "content"});
            }),
            "lease \"nope\": not found");
  EXPECT_EQ(MessageOf([&] { store.ListResources("ns", "nope"); }), "lease \"nope\": not found");
  // Deleting the lease drops its resources.
  store.Delete("ns", "l");
  store.Create("ns", "l", {});
  EXPECT_TRUE(store.ListResources("ns", "l").empty());
}

TEST_F(LeasesTest, TransactionHelpers) {
  store.Create("ns", "l", {});
  db->Update([&](Txn& t) { AddResource(t, "ns", "l", SnapshotsType("native"), "k"); });
  EXPECT_EQ(store.ListResources("ns", "l").size(), 1u);
  EXPECT_EQ(MessageOf([&] {
              db->Update([&](Txn& t) { AddResource(t, "ns", "missing", kContent, "x"); });
            }),
            "lease does not exist: not found");
  db->Update([&](Txn& t) { AddResource(t, "ns", "", kContent, "ignored"); });
  db->Update([&](Txn& t) { RemoveResource(t, "ns", "l", SnapshotsType("native"), "k"); });
  EXPECT_TRUE(store.ListResources("ns", "l").empty());
}

// containerd accepts any non-empty lease id (ctr images mount uses the
// target path): ids with "/" and "%" must not mix with each other's
// resources, whatever their prefixes.
TEST_F(LeasesTest, IdsWithSlashesAndPercents) {
  const std::vector<std::string> ids = {"/tmp/mnt", "/tmp/mnt/sub", "/tmp", "a", "a/content",
                                        "a%2Fb",    "a/b",          "%",    "/", "a b"};
  for (const auto& id : ids) store.Create("ns", id, {});
  std::string d = content::FromBytes("x");
  store.AddResource("ns", "/tmp/mnt", {"k1", "snapshots/overlayfs"});
  store.AddResource("ns", "/tmp/mnt/sub", {d, "content"});
  store.AddResource("ns", "a%2Fb", {"i1", "ingests"});
  db->Update([&](Txn& t) { AddResource(t, "ns", "a/b", kIngests, "i2"); });
  auto listed = store.List("ns");
  ASSERT_EQ(listed.size(), ids.size());
  std::vector<std::string> got;
  for (const auto& l : listed) got.push_back(l.id);
  std::vector<std::string> want = ids;
  std::sort(want.begin(), want.end());  // containerd's (bolt's) byte order
  EXPECT_EQ(got, want);
  EXPECT_EQ(store.List("ns", {"id==\"/tmp/mnt\""}).size(), 1u);

  auto r = store.ListResources("ns", "/tmp/mnt");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].id, "k1");
  r = store.ListResources("ns", "/tmp/mnt/sub");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].id, d);
  r = store.ListResources("ns", "a%2Fb");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].id, "i1");
  r = store.ListResources("ns", "a/b");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].id, "i2");
  EXPECT_TRUE(store.ListResources("ns", "/tmp").empty());
  EXPECT_TRUE(store.ListResources("ns", "a").empty());

  std::map<std::string, size_t> counts;
  store.ForEach(
      "ns", [&](const Lease& l, const std::vector<Resource>& res) { counts[l.id] = res.size(); });
  EXPECT_EQ(counts.size(), ids.size());
  EXPECT_EQ(counts["/tmp/mnt"], 1u);
  EXPECT_EQ(counts["a/b"], 1u);
  EXPECT_EQ(counts["a%2Fb"], 1u);
  EXPECT_EQ(counts["a"], 0u);

  // Deleting one lease leaves the others (and their resources) alone.
  store.Delete("ns", "/tmp/mnt");
  EXPECT_EQ(MessageOf([&] { store.ListResources("ns", "/tmp/mnt"); }),
            "lease \"/tmp/mnt\": not found");
  EXPECT_EQ(store.ListResources("ns", "/tmp/mnt/sub").size(), 1u);
  store.Delete("ns", "a/b");
  EXPECT_EQ(store.ListResources("ns", "a%2Fb").size(), 1u);
  EXPECT_EQ(store.List("ns").size(), ids.size() - 2);
  EXPECT_EQ(MessageOf([&] { store.Create("ns", "a%2Fb", {}); }), "lease \"a%2Fb\": already exists");
}

// Databases written before ids could hold "/" kept resources below the
// record; opening upgrades them in place.
TEST_F(LeasesTest, UpgradeMovesOldResourceKeys) {
  store.Create("ns", "old", {});
  std::string d = content::FromBytes("x");
  db->Update([&](Txn& t) {
    t.Put(kSchemaKey, "1");  // a database from before the resource bucket
    t.Put(ObjectKey("ns", "leases", "old/content/" + d), "");
    t.Put(ObjectKey("ns", "leases", "old/snapshots/overlayfs/ns/1/key/with/slash"), "");
  });
  UpgradeLayout(*db);
  ASSERT_EQ(store.List("ns").size(), 1u);
  auto r = store.ListResources("ns", "old");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].id, d);
  EXPECT_EQ(r[1].type, "snapshots/overlayfs");
  EXPECT_EQ(r[1].id, "ns/1/key/with/slash");
  UpgradeLayout(*db);  // done once: schema 2 now
  EXPECT_EQ(store.ListResources("ns", "old").size(), 2u);
}

}  // namespace
}  // namespace mcd::metadata::leases
