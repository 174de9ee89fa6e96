// The local content store: ingest, commit verification, resume, abort,
// locks and restart (a new store on the same root).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <future>
#include <thread>

#include "content/digest.h"
#include "content/local.h"
#include "pkg/errdefs.h"
#include "pkg/fs.h"
#include "tests/unit/content/temp_dir.h"

namespace mcd::content {
namespace {

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

class LocalStoreTest : public ::testing::Test {
 protected:
  TempDir dir;
  std::unique_ptr<LocalStore> store = std::make_unique<LocalStore>(dir.path());
  Context ctx;
};

TEST(Digest, KnownValues) {
  EXPECT_EQ(FromBytes(""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Digester d;
  d.Update("hello ");
  d.Update("world");
  EXPECT_EQ(d.Digest(), FromBytes("hello world"));
  EXPECT_TRUE(IsValid(FromBytes("x")));
  EXPECT_FALSE(IsValid("sha256:abc"));
  EXPECT_EQ(DigestError("sha256:abc"), "invalid checksum digest length");
  EXPECT_EQ(DigestError("nocolon"), "invalid checksum digest format");
  EXPECT_EQ(DigestError("md5:abc"), "unsupported digest algorithm");
  EXPECT_EQ(DigestError(FromBytes("x")), "");
}

TEST_F(LocalStoreTest, WriteCommitReadInfo) {
  std::string data = "some content";
  std::string dgst = FromBytes(data);
  auto w = store->OpenWriter(ctx, {.ref = "r1", .total = 12, .expected = dgst});
  w->Write("some ");
  w->Write("content");
  EXPECT_EQ(w->GetStatus().offset, 12);
  EXPECT_EQ(w->Digest(), dgst);
  // Not visible before commit.
  EXPECT_FALSE(store->Exists(dgst));
  EXPECT_EQ(store->ListStatuses(ctx).size(), 1u);
  w->Commit(12, dgst);
  EXPECT_TRUE(store->Exists(dgst));
  EXPECT_EQ(store->GetInfo(ctx, dgst).size, 12);
  EXPECT_EQ(ReadBlob(*store, ctx, dgst), data);
  EXPECT_TRUE(store->ListStatuses(ctx).empty());
  struct stat st {};
  ASSERT_EQ(::stat(store->BlobPath(dgst).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0444u);
  EXPECT_EQ(store->BlobPath(dgst), dir.path() + "/blobs/sha256/" + dgst.substr(7));
}

TEST_F(LocalStoreTest, IngestLayoutOnDisk) {
  auto w = store->OpenWriter(ctx, {.ref = "layout", .total = 3, .expected = {}});
  w->Write("abc");
  w->Close();
  std::string d = store->IngestDir("layout");
  EXPECT_EQ(d, dir.path() + "/ingest/" + FromBytes("layout").substr(7));
  EXPECT_EQ(fs::ReadFile(d + "/ref"), "layout");
  EXPECT_EQ(fs::ReadFile(d + "/total"), "3");
  EXPECT_EQ(fs::ReadFile(d + "/data"), "abc");
  EXPECT_TRUE(fs::Exists(d + "/startedat"));
  EXPECT_TRUE(fs::Exists(d + "/updatedat"));
}

TEST_F(LocalStoreTest, WrongDigestLeavesNoBlob) {
  auto w = store->OpenWriter(ctx, {.ref = "bad", .total = 0, .expected = {}});
  w->Write("abc");
  std::string wrong = FromBytes("xyz");
  std::string msg = MessageOf([&] { w->Commit(3, wrong); });
  EXPECT_EQ(msg, "unexpected commit digest " + FromBytes("abc") + ", expected " + wrong +
                     ": failed precondition");
  EXPECT_FALSE(store->Exists(FromBytes("abc")));
  EXPECT_FALSE(store->Exists(wrong));
  int n = 0;
  store->Walk([&](const Info&) { ++n; });
  EXPECT_EQ(n, 0);
}

TEST_F(LocalStoreTest, WrongSizeLeavesNoBlob) {
  auto w = store->OpenWriter(ctx, {.ref = "bad", .total = 0, .expected = {}});
  w->Write("abc");
  EXPECT_EQ(MessageOf([&] { w->Commit(4, ""); }),
            "unexpected commit size 3, expected 4: failed precondition");
  EXPECT_FALSE(store->Exists(FromBytes("abc")));
  // The lock went with the failed commit: the ref can be opened again.
  auto w2 = store->OpenWriter(ctx, {.ref = "bad", .total = 0, .expected = {}});
  EXPECT_EQ(w2->GetStatus().offset, 3);
}

TEST_F(LocalStoreTest, ResumeRehashesExistingData) {
  std::string data(3 << 20, 'q');
  data[12345] = 'z';
  std::string dgst = FromBytes(data);
  {
    auto w = store->OpenWriter(ctx, {.ref = "big", .total = (int64_t)data.size(), .expected = {}});
    w->Write(std::string_view(data).substr(0, 1 << 20));
  }  // destroyed without commit: the ingest stays
  auto st = store->GetStatus(ctx, "big");
  EXPECT_EQ(st.offset, 1 << 20);
  EXPECT_EQ(st.total, (int64_t)data.size());
  auto w = store->OpenWriter(ctx, {.ref = "big", .total = (int64_t)data.size(), .expected = {}});
  EXPECT_EQ(w->GetStatus().offset, 1 << 20);
  EXPECT_EQ(w->GetStatus().started_at, st.started_at);
  w->Write(std::string_view(data).substr(1 << 20));
  w->Commit((int64_t)data.size(), dgst);
  EXPECT_EQ(ReadBlob(*store, ctx, dgst), data);
}

TEST_F(LocalStoreTest, RestartKeepsIngestsAndBlobs) {
  std::string dgst = FromBytes("committed");
  WriteBlob(*store, ctx, "c", "committed", dgst);
  {
    auto w = store->OpenWriter(ctx, {.ref = "half", .total = 10, .expected = {}});
    w->Write("01234");
  }
  store = std::make_unique<LocalStore>(dir.path());
  EXPECT_TRUE(store->Exists(dgst));
  auto st = store->GetStatus(ctx, "half");
  EXPECT_EQ(st.offset, 5);
  EXPECT_EQ(st.total, 10);
  auto w = store->OpenWriter(ctx, {.ref = "half", .total = 10, .expected = {}});
  w->Write("56789");
  w->Commit(10, FromBytes("0123456789"));
  EXPECT_TRUE(store->Exists(FromBytes("0123456789")));
}

TEST_F(LocalStoreTest, AbortRemovesIngest) {
  {
    auto w = store->OpenWriter(ctx, {.ref = "gone", .total = 0, .expected = {}});
    w->Write("abc");
  }
  store->Abort(ctx, "gone");
  EXPECT_EQ(CodeOf([&] { store->GetStatus(ctx, "gone"); }), errdefs::Code::kNotFound);
  EXPECT_EQ(CodeOf([&] { store->Abort(ctx, "gone"); }), errdefs::Code::kNotFound);
  EXPECT_FALSE(fs::Exists(store->IngestDir("gone")));
}

TEST_F(LocalStoreTest, ConcurrentWriterOnSameRefIsUnavailable) {
  auto w = store->OpenWriter(ctx, {.ref = "locked", .total = 0, .expected = {}});
  std::string msg;
  auto code = CodeOf([&] {
    try {
      store->OpenWriter(ctx, {.ref = "locked", .total = 0, .expected = {}});
    } catch (const std::exception& e) {
      msg = e.what();
      throw;
    }
  });
  EXPECT_EQ(code, errdefs::Code::kUnavailable);
  EXPECT_EQ(msg.rfind("ref locked locked for ", 0), 0u) << msg;
  EXPECT_NE(msg.find(": unavailable"), std::string::npos) << msg;
  // Other refs are independent.
  auto other = store->OpenWriter(ctx, {.ref = "other", .total = 0, .expected = {}});
  other->Write("x");
}

TEST_F(LocalStoreTest, WaitingWriterGetsRefWhenReleased) {
  auto w = store->OpenWriter(ctx, {.ref = "handoff", .total = 0, .expected = {}});
  w->Write("ab");
  std::promise<void> started;
  auto fut = std::async(std::launch::async, [&] {
    started.set_value();
    return store->OpenWriter(ctx, {.ref = "handoff", .total = 0, .expected = {}});
  });
  started.get_future().wait();
  w->Close();  // releases the ref: the waiter proceeds (or it had already failed)
  try {
    auto w2 = fut.get();
    EXPECT_EQ(w2->GetStatus().offset, 2);
  } catch (const errdefs::Error& e) {
    ADD_FAILURE() << "waiter did not get the ref: " << e.what();
  }
}

TEST_F(LocalStoreTest, ExistingBlobIsAlreadyExists) {
  std::string dgst = FromBytes("dup");
  WriteBlob(*store, ctx, "a", "dup", dgst);
  EXPECT_EQ(CodeOf([&] { store->OpenWriter(ctx, {.ref = "b", .total = 0, .expected = dgst}); }),
            errdefs::Code::kAlreadyExists);
  // Without the expected digest the commit finds it and drops the ingest.
  auto w = store->OpenWriter(ctx, {.ref = "c", .total = 0, .expected = {}});
  w->Write("dup");
  EXPECT_EQ(CodeOf([&] { w->Commit(3, dgst); }), errdefs::Code::kAlreadyExists);
  EXPECT_TRUE(store->ListStatuses(ctx).empty());
}

TEST_F(LocalStoreTest, TruncateRestarts) {
  auto w = store->OpenWriter(ctx, {.ref = "t", .total = 0, .expected = {}});
  w->Write("garbage");
  w->Truncate(0);
  EXPECT_EQ(w->GetStatus().offset, 0);
  w->Write("good");
  w->Commit(4, FromBytes("good"));
  EXPECT_EQ(ReadBlob(*store, ctx, FromBytes("good")), "good");
}

TEST_F(LocalStoreTest, DeleteAndWalkAndStatusFilters) {
  WriteBlob(*store, ctx, "1", "one", FromBytes("one"));
  WriteBlob(*store, ctx, "2", "two", FromBytes("two"));
  std::vector<std::string> seen;
  store->Walk(ctx, [&](const Info& i) { seen.push_back(i.digest); },
              {"digest==" + FromBytes("two")});
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], FromBytes("two"));
  store->Delete(FromBytes("one"));
  EXPECT_EQ(CodeOf([&] { store->Delete(FromBytes("one")); }), errdefs::Code::kNotFound);
  EXPECT_EQ(CodeOf([&] { store->GetInfo(ctx, FromBytes("one")); }), errdefs::Code::kNotFound);

  auto a = store->OpenWriter(ctx, {.ref = "alpha", .total = 0, .expected = {}});
  auto b = store->OpenWriter(ctx, {.ref = "beta", .total = 0, .expected = {}});
  auto sts = store->ListStatuses(ctx, {"ref==beta"});
  ASSERT_EQ(sts.size(), 1u);
  EXPECT_EQ(sts[0].ref, "beta");
}

}  // namespace
}  // namespace mcd::content
