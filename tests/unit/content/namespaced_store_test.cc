// The namespaced content store: visibility per namespace, labels, shared
// blobs, ingests under leases, the Write protocol session and the GC sweep.
#include <gtest/gtest.h>

#include "content/digest.h"
#include "content/local.h"
#include "metadata/content.h"
#include "metadata/leases.h"
#include "metadata/namespaces.h"
#include "pkg/errdefs.h"
#include "services/content/local.h"
#include "tests/unit/content/temp_dir.h"

namespace mcd::metadata {
namespace {

using content::FromBytes;
using testing::TempDir;

errdefs::Code CodeOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const errdefs::Error& e) {
    return e.code();
  }
  return errdefs::Code::kOk;
}

std::string MessageOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

class NamespacedStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::MkdirAll(dir.path() + "/content");
    local = std::make_shared<content::LocalStore>(dir.path() + "/content");
    db = DB::Open(dir.path() + "/db");
    cs = std::make_shared<ContentStore>(db, local);
  }
  TempDir dir;
  std::shared_ptr<content::LocalStore> local;
  std::shared_ptr<DB> db;
  std::shared_ptr<ContentStore> cs;
  Context ns1 = MakeContext("ns1");
  Context ns2 = MakeContext("ns2");
};

// Wired as the metadata plugin wires it (the DB owns its content store, the
// store holds the DB), closing the DB at shutdown lets both go: no cycle
// keeps the database, its collector and what they hold alive.
TEST(ContentStoreLifetime, ClosedDatabaseIsFreed) {
  TempDir dir;
  fs::MkdirAll(dir.path() + "/content");
  auto local = std::make_shared<content::LocalStore>(dir.path() + "/content");
  auto db = DB::Open(dir.path() + "/db");
  db->content = std::make_shared<ContentStore>(db, local);
  db->content->RegisterGC();
  std::weak_ptr<DB> weak_db = db;
  std::weak_ptr<ContentStore> weak_cs = db->content;
  db->Close();
  db.reset();
  EXPECT_TRUE(weak_db.expired());
  EXPECT_TRUE(weak_cs.expired());
}

TEST_F(NamespacedStoreTest, BlobVisibleOnlyWhereCommitted) {
  std::string d = FromBytes("shared blob");
  content::WriteBlob(*cs, ns1, "ref", "shared blob", d, {{"a", "1"}});
  EXPECT_EQ(cs->GetInfo(ns1, d).size, 11);
  EXPECT_EQ(cs->GetInfo(ns1, d).labels.at("a"), "1");
  EXPECT_EQ(MessageOf([&] { cs->GetInfo(ns2, d); }), "content digest " + d + ": not found");
  EXPECT_EQ(CodeOf([&] { cs->OpenReader(ns2, d); }), errdefs::Code::kNotFound);
  int n = 0;
  cs->Walk(ns2, [&](const content::Info&) { ++n; });
  EXPECT_EQ(n, 0);
  // ns2 writing it: the blob on disk is reused, nothing needs to be sent.
  auto w = cs->OpenWriter(ns2, {.ref = "ref2", .total = 11, .expected = d});
  EXPECT_EQ(w->GetStatus().offset, 11);
  w->Commit(11, d, {});
  EXPECT_EQ(content::ReadBlob(*cs, ns2, d), "shared blob");
  EXPECT_TRUE(cs->GetInfo(ns2, d).labels.empty());
  // Deleting from one namespace leaves the other's.
  cs->Delete(ns1, d);
  EXPECT_EQ(CodeOf([&] { cs->GetInfo(ns1, d); }), errdefs::Code::kNotFound);
  EXPECT_EQ(content::ReadBlob(*cs, ns2, d), "shared blob");
}

TEST_F(NamespacedStoreTest, SharedWriterCanStillWriteEverything) {
  std::string d = FromBytes("payload");
  content::WriteBlob(*cs, ns1, "ref", "payload", d);
  auto w = cs->OpenWriter(ns2, {.ref = "r", .total = 7, .expected = d});
  // A client that restarts from 0 (as ctr does) truncates and rewrites.
  w->Truncate(0);
  EXPECT_EQ(w->GetStatus().offset, 0);
  w->Write("payload");
  w->Commit(7, d, {});
  EXPECT_EQ(cs->GetInfo(ns2, d).size, 7);
}

TEST_F(NamespacedStoreTest, IsolatedPolicyMakesEachNamespaceWriteTheData) {
  auto iso = std::make_shared<ContentStore>(db, local, /*shared=*/false);
  std::string d = FromBytes("payload");
  content::WriteBlob(*iso, ns1, "ref", "payload", d);
  // Same ref in ns2, the blob on disk: a fresh ingest, nothing pre-filled.
  auto w = iso->OpenWriter(ns2, {.ref = "ref", .total = 7, .expected = d});
  EXPECT_EQ(w->GetStatus().offset, 0);
  EXPECT_EQ(w->Digest(), FromBytes(""));
  EXPECT_EQ(CodeOf([&] { w->Commit(7, d, {}); }), errdefs::Code::kFailedPrecondition);
  w = iso->OpenWriter(ns2, {.ref = "ref", .total = 7, .expected = d});
  w->Write("payload");
  w->Commit(7, d, {});
  EXPECT_EQ(content::ReadBlob(*iso, ns2, d), "payload");
  // Already committed here: AlreadyExists, as with the shared policy.
  EXPECT_EQ(CodeOf([&] { iso->OpenWriter(ns2, {.ref = "again", .total = 7, .expected = d}); }),
            errdefs::Code::kAlreadyExists);
}

TEST_F(NamespacedStoreTest, CommitErrorsMatchContainerd) {
  auto w = cs->OpenWriter(ns1, {.ref = "r", .total = 0, .expected = {}});
  w->Write("abc");
  EXPECT_EQ(MessageOf([&] { w->Commit(4, "", {}); }),
            "\"r\" failed size validation: 3 != 4: failed precondition");
  w = cs->OpenWriter(ns1, {.ref = "r", .total = 0, .expected = {}});
  EXPECT_EQ(w->GetStatus().offset, 3);
  std::string wrong = FromBytes("nope");
  EXPECT_EQ(MessageOf([&] { w->Commit(3, wrong, {}); }), "unexpected commit digest " +
                                                             FromBytes("abc") + ", expected " +
                                                             wrong + ": failed precondition");
  EXPECT_FALSE(local->Exists(FromBytes("abc")));
  EXPECT_EQ(CodeOf([&] { cs->GetInfo(ns1, FromBytes("abc")); }), errdefs::Code::kNotFound);
}

TEST_F(NamespacedStoreTest, StatusAndAbortAreNamespaced) {
  auto w = cs->OpenWriter(ns1, {.ref = "same", .total = 10, .expected = {}});
  w->Write("12345");
  w->Close();
  // The same ref in another namespace is another ingest.
  auto w2 = cs->OpenWriter(ns2, {.ref = "same", .total = 0, .expected = {}});
  EXPECT_EQ(w2->GetStatus().offset, 0);
  w2->Close();
  auto st = cs->GetStatus(ns1, "same");
  EXPECT_EQ(st.ref, "same");
  EXPECT_EQ(st.offset, 5);
  EXPECT_EQ(st.total, 10);
  EXPECT_EQ(cs->ListStatuses(ns1).size(), 1u);
  EXPECT_EQ(cs->ListStatuses(ns1, {"ref==other"}).size(), 0u);
  cs->Abort(ns1, "same");
  EXPECT_EQ(MessageOf([&] { cs->GetStatus(ns1, "same"); }), "reference same: not found");
  EXPECT_EQ(cs->GetStatus(ns2, "same").offset, 0);
  EXPECT_EQ(CodeOf([&] { cs->Abort(ns1, "same"); }), errdefs::Code::kNotFound);
}

TEST_F(NamespacedStoreTest, UpdateLabels) {
  std::string d = FromBytes("lbl");
  content::WriteBlob(*cs, ns1, "r", "lbl", d, {{"a", "1"}, {"b", "2"}});
  content::Info in;
  in.digest = d;
  in.labels = {{"a", "x"}, {"c", "3"}};
  auto out = cs->Update(ns1, in, {"labels.a", "labels.b"});
  EXPECT_EQ(out.labels, (content::Labels{{"a", "x"}}));
  out = cs->Update(ns1, in, {"labels"});
  EXPECT_EQ(out.labels, (content::Labels{{"a", "x"}, {"c", "3"}}));
  EXPECT_EQ(cs->GetInfo(ns1, d).labels, out.labels);
  EXPECT_EQ(MessageOf([&] { cs->Update(ns1, in, {"size"}); }),
            "cannot update \"size\" field on content info \"" + d + "\": invalid argument");
  std::vector<std::string> seen;
  cs->Walk(ns1, [&](const content::Info& i) { seen.push_back(i.digest); }, {"labels.c==3"});
  EXPECT_EQ(seen, std::vector<std::string>{d});
  seen.clear();
  cs->Walk(ns1, [&](const content::Info& i) { seen.push_back(i.digest); }, {"labels.c==4"});
  EXPECT_TRUE(seen.empty());
}

TEST_F(NamespacedStoreTest, WritesUnderLease) {
  leases::Store ls(db);
  ls.Create("ns1", "l1", {});
  Context lctx = MakeContext("ns1", "l1");
  std::string d = FromBytes("leased");
  auto w = cs->OpenWriter(lctx, {.ref = "ing", .total = 0, .expected = {}});
  auto rs = ls.ListResources("ns1", "l1");
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].type, "ingests");
  EXPECT_EQ(rs[0].id, "ing");
  w->Write("leased");
  w->Commit(6, d, {});
  rs = ls.ListResources("ns1", "l1");
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].type, "content");
  EXPECT_EQ(rs[0].id, d);
  // An unknown lease fails before anything is written.
  Context bad = MakeContext("ns1", "nope");
  EXPECT_EQ(MessageOf([&] { cs->OpenWriter(bad, {.ref = "x", .total = 0, .expected = {}}); }),
            "lease does not exist: not found");
  EXPECT_TRUE(local->ListStatuses(bad).empty());
}

TEST_F(NamespacedStoreTest, SweepRemovesUnrecordedBlobsAndIngests) {
  std::string keep = FromBytes("keep");
  content::WriteBlob(*cs, ns1, "k", "keep", keep);
  // A blob on disk no namespace records (e.g. its record was swept).
  std::string stray = FromBytes("stray");
  content::WriteBlob(*local, ns1, "s", "stray", stray);
  // A local ingest no namespace owns, and one that is owned.
  {
    auto w = local->OpenWriter(ns1, {.ref = "orphan", .total = 0, .expected = {}});
    w->Write("o");
  }
  {
    auto w = cs->OpenWriter(ns1, {.ref = "owned", .total = 0, .expected = {}});
    w->Write("o");
  }
  {
    std::unique_lock l(cs->gc_lock());
    EXPECT_EQ(cs->SweepUnreferenced(), 1u);
  }
  EXPECT_TRUE(local->Exists(keep));
  EXPECT_FALSE(local->Exists(stray));
  EXPECT_EQ(CodeOf([&] { local->GetStatus(ns1, "orphan"); }), errdefs::Code::kNotFound);
  EXPECT_EQ(cs->GetStatus(ns1, "owned").offset, 1);
}

TEST_F(NamespacedStoreTest, NamespaceContentsNamesBlobs) {
  content::WriteBlob(*cs, ns1, "r", "x", FromBytes("x"));
  NamespaceStore nss(db);
  EXPECT_EQ(nss.Contents("ns1"), std::vector<std::string>{"blobs"});
  // An open ingest and a lease do not keep the namespace (as containerd).
  auto w = cs->OpenWriter(ns1, {.ref = "open", .total = 0, .expected = {}});
  leases::Store(db).Create("ns1", "l", {});
  cs->Delete(ns1, FromBytes("x"));
  EXPECT_TRUE(nss.Contents("ns1").empty());
}

// The Write protocol as the content service runs it.
class WriteSessionTest : public NamespacedStoreTest {
 protected:
  using Req = containerd::services::content::v1::WriteContentRequest;
  using Resp = containerd::services::content::v1::WriteContentResponse;
  Req Make(int action, const std::string& ref, std::string data = {}, int64_t offset = 0) {
    Req r;
    r.set_action(static_cast<containerd::services::content::v1::WriteAction>(action));
    r.set_ref(ref);
    r.set_data(std::move(data));
    r.set_offset(offset);
    return r;
  }
};

TEST_F(WriteSessionTest, StatWriteResumeCommit) {
  services::content::WriteSession s1(*cs, ns1);
  Resp resp;
  auto stat = Make(0, "w");
  stat.set_total(6);
  EXPECT_FALSE(s1.Handle(stat, &resp));
  EXPECT_EQ(resp.offset(), 0);
  EXPECT_EQ(resp.total(), 6);
  EXPECT_FALSE(s1.Handle(Make(1, "w", "abc", 0), &resp));
  EXPECT_EQ(resp.offset(), 3);
  // Wrong offset: OutOfRange with containerd's words.
  EXPECT_EQ(MessageOf([&] { s1.Handle(Make(1, "w", "zzz", 1), &resp); }),
            "write @1 must occur at current offset 3");
  auto commit = Make(2, "w", "def", 3);
  commit.set_expected(FromBytes("abcdef"));
  EXPECT_TRUE(s1.Handle(commit, &resp));
  EXPECT_EQ(content::ReadBlob(*cs, ns1, FromBytes("abcdef")), "abcdef");
}

TEST_F(WriteSessionTest, ResumeFromStatOffset) {
  {
    services::content::WriteSession s(*cs, ns1);
    Resp resp;
    s.Handle(Make(1, "r", "hello ", 0), &resp);
  }  // stream ends without commit
  services::content::WriteSession s(*cs, ns1);
  Resp resp;
  s.Handle(Make(0, "r"), &resp);
  EXPECT_EQ(resp.offset(), 6);
  auto commit = Make(2, "r", "world", 6);
  commit.set_expected(FromBytes("hello world"));
  commit.set_total(11);
  (*commit.mutable_labels())["k"] = "v";
  EXPECT_TRUE(s.Handle(commit, &resp));
  EXPECT_EQ(resp.digest(), FromBytes("hello world"));
  EXPECT_EQ(resp.offset(), 11);
  EXPECT_EQ(cs->GetInfo(ns1, FromBytes("hello world")).labels.at("k"), "v");
}

TEST_F(WriteSessionTest, ExistingExpectedIsAlreadyExists) {
  std::string d = FromBytes("there");
  content::WriteBlob(*cs, ns1, "x", "there", d);
  services::content::WriteSession s(*cs, ns1);
  Resp resp;
  auto stat = Make(0, "y");
  stat.set_expected(d);
  EXPECT_EQ(MessageOf([&] { s.Handle(stat, &resp); }), "content " + d + ": already exists");
}

TEST_F(WriteSessionTest, SecondWriterOnOpenRefIsUnavailable) {
  services::content::WriteSession s1(*cs, ns1);
  Resp resp;
  s1.Handle(Make(1, "busy", "a", 0), &resp);
  services::content::WriteSession s2(*cs, ns1);
  std::string msg = MessageOf([&] { s2.Handle(Make(0, "busy"), &resp); });
  EXPECT_EQ(msg.rfind("ref ns1/1/busy locked for ", 0), 0u) << msg;
}

}  // namespace
}  // namespace mcd::metadata
