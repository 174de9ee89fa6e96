// Content and leases under the metadata garbage collector: unreferenced
// blobs go (records and files), leased and gc.root blobs stay, expired
// leases go, shared blobs stay while any namespace has them.
#include <gtest/gtest.h>

#include "content/digest.h"
#include "content/local.h"
#include "metadata/content.h"
#include "metadata/gc.h"
#include "metadata/leases.h"
#include "pkg/errdefs.h"
#include "tests/unit/content/temp_dir.h"

namespace mcd::metadata {
namespace {

using content::FromBytes;

class ContentGCTest : public ::testing::Test {
 protected:
  void SetUp() override {
    local = std::make_shared<content::LocalStore>(dir.path() + "/content");
    db = DB::Open(dir.path() + "/db");
    cs = std::make_shared<ContentStore>(db, local);
    cs->RegisterGC();
    leases::RegisterGC(*db);
  }
  bool Visible(const Context& ctx, const std::string& d) {
    try {
      cs->GetInfo(ctx, d);
      return true;
    } catch (const errdefs::Error&) {
      return false;
    }
  }
  mcd::testing::TempDir dir;
  std::shared_ptr<content::LocalStore> local;
  std::shared_ptr<DB> db;
  std::shared_ptr<ContentStore> cs;
  Context ns1 = MakeContext("ns1");
  Context ns2 = MakeContext("ns2");
};

TEST_F(ContentGCTest, UnreferencedGoesReferencedStays) {
  leases::Store ls(db);
  ls.Create("ns1", "keep", {});
  std::string free_blob = FromBytes("free"), leased = FromBytes("leased"),
              rooted = FromBytes("rooted"), child = FromBytes("child");
  content::WriteBlob(*cs, ns1, "a", "free", free_blob);
  content::WriteBlob(*cs, MakeContext("ns1", "keep"), "b", "leased", leased);
  content::WriteBlob(*cs, ns1, "d", "child", child);
  content::WriteBlob(*cs, ns1, "c", "rooted", rooted,
                     {{"containerd.io/gc.root", "x"}, {"containerd.io/gc.ref.content.l", child}});
  db->collector().Collect();
  EXPECT_FALSE(Visible(ns1, free_blob));
  EXPECT_FALSE(local->Exists(free_blob));
  EXPECT_TRUE(Visible(ns1, leased));
  EXPECT_TRUE(Visible(ns1, rooted));
  EXPECT_TRUE(Visible(ns1, child));
  // The lease goes: its blob goes with the next collection.
  ls.Delete("ns1", "keep");
  db->collector().Collect();
  EXPECT_FALSE(Visible(ns1, leased));
  EXPECT_FALSE(local->Exists(leased));
  EXPECT_TRUE(local->Exists(rooted));
}

TEST_F(ContentGCTest, SharedBlobStaysWhileAnyNamespaceHasIt) {
  std::string d = FromBytes("shared");
  content::WriteBlob(*cs, ns1, "a", "shared", d, {{"containerd.io/gc.root", "1"}});
  content::WriteBlob(*cs, ns2, "a", "shared", d);
  db->collector().Collect();
  EXPECT_FALSE(Visible(ns2, d));
  EXPECT_TRUE(Visible(ns1, d));
  EXPECT_TRUE(local->Exists(d));
}

TEST_F(ContentGCTest, ExpiredLeaseIsCollected) {
  leases::Store ls(db);
  ls.Create("ns1", "old", {{"containerd.io/gc.expire", "2000-01-01T00:00:00Z"}});
  ls.Create("ns1", "new", {{"containerd.io/gc.expire", "2200-01-01T00:00:00Z"}});
  content::WriteBlob(*cs, MakeContext("ns1", "old"), "a", "old", FromBytes("old"));
  content::WriteBlob(*cs, MakeContext("ns1", "new"), "b", "new", FromBytes("new"));
  db->collector().Collect();
  auto all = ls.List("ns1");
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].id, "new");
  EXPECT_FALSE(Visible(ns1, FromBytes("old")));
  EXPECT_TRUE(Visible(ns1, FromBytes("new")));
}

TEST_F(ContentGCTest, OpenIngestSurvives) {
  auto w = cs->OpenWriter(ns1, {.ref = "open", .total = 0, .expected = {}});
  w->Write("partial");
  w->Close();
  db->collector().Collect();
  EXPECT_EQ(cs->GetStatus(ns1, "open").offset, 7);
}

// The disk is swept (every blob's entry read) only when a blob may have lost
// its last record outside a collection (a Delete, a failed commit, before
// the first collection), or when the collection removed content itself; not
// after every collection, which each container delete brings.
TEST_F(ContentGCTest, TheDiskIsSweptOnlyWhenABlobMayHaveLostItsRecord) {
  std::string gone = FromBytes("gone"), orphan = FromBytes("orphan");
  content::WriteBlob(*cs, ns1, "a", "gone", gone, {{"containerd.io/gc.root", "x"}});
  db->collector().Collect();                               // the first one sweeps
  content::WriteBlob(*local, ns1, "o", "orphan", orphan);  // on disk, no record
  db->collector().Collect();
  EXPECT_TRUE(local->Exists(orphan));
  cs->Delete(ns1, gone);
  db->collector().Collect();
  EXPECT_FALSE(local->Exists(gone));
  EXPECT_FALSE(local->Exists(orphan));
}

// After a clean stop the first collection does not sweep (a restart reads
// no blob entries); after a crash (no mark) it does.
TEST_F(ContentGCTest, OnlyAStartAfterACrashSweeps) {
  std::string orphan = FromBytes("orphan");
  content::WriteBlob(*local, ns1, "o", "orphan", orphan);  // on disk, no record
  db->TrackCleanStop();
  EXPECT_FALSE(db->StoppedCleanly());  // a new database: nothing to go by
  // clean: Close puts the mark; otherwise the database just goes, as in a crash.
  auto restart = [&](bool clean) {
    if (clean) db->Close();
    cs.reset();
    db.reset();
    db = DB::Open(dir.path() + "/db");
    db->TrackCleanStop();
    EXPECT_EQ(db->StoppedCleanly(), clean);
    cs = std::make_shared<ContentStore>(db, local);
    cs->RegisterGC();
  };
  restart(true);
  db->collector().Collect();
  EXPECT_TRUE(local->Exists(orphan));
  restart(false);
  db->collector().Collect();
  EXPECT_FALSE(local->Exists(orphan));
}

}  // namespace
}  // namespace mcd::metadata
