// Content and leases with the real ctr (and a gRPC client where ctr has no
// command: writes under a lease, abort, a write cut by a daemon crash).
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>
#include <regex>

#include "github.com/containerd/containerd/api/services/content/v1/content.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/leases/v1/leases.grpc.pb.h"
#include "pkg/fs.h"
#include "tests/integration/support/harness.h"
#include "tests/integration/support/image_builder.h"

extern char** environ;

namespace mcd::itest {
namespace {

namespace capi = containerd::services::content::v1;
namespace lapi = containerd::services::leases::v1;
using image::Sha256;

// A ctr child whose stdin stays open until Finish(): a write in progress.
class OpenIngest {
 public:
  OpenIngest(const Daemon& d, const std::string& ref, int64_t expected_size) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[0], 0);
    std::vector<std::string> args = {"ctr",
                                     "-a",
                                     d.socket(),
                                     "-n",
                                     "default",
                                     "content",
                                     "ingest",
                                     "--expected-size",
                                     std::to_string(expected_size),
                                     ref};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::string ctr = process::LookPath("ctr");
    if (posix_spawn(&pid_, ctr.c_str(), &fa, nullptr, argv.data(), environ) != 0) {
      throw std::runtime_error("spawn ctr");
    }
    posix_spawn_file_actions_destroy(&fa);
    ::close(fds[0]);
    in_ = fds[1];
  }
  ~OpenIngest() {
    if (in_ >= 0) ::close(in_);
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  void Write(const std::string& data) {
    ASSERT_EQ(::write(in_, data.data(), data.size()), (ssize_t)data.size());
  }
  // Closes stdin and waits; returns the exit code.
  int Finish() {
    ::close(in_);
    in_ = -1;
    int st = 0;
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }

 private:
  pid_t pid_ = -1;
  int in_ = -1;
};

class Client {
 public:
  explicit Client(const Daemon& d)
      : ch_(grpc::CreateChannel("unix://" + d.socket(), grpc::InsecureChannelCredentials())),
        content_(capi::Content::NewStub(ch_)),
        leases_(lapi::Leases::NewStub(ch_)) {}
  void Prepare(grpc::ClientContext& c, const std::string& lease = {}) {
    c.AddMetadata("containerd-namespace", "default");
    if (!lease.empty()) c.AddMetadata("containerd-lease", lease);
  }
  // Writes data[offset..] to ref after a stat; commits when commit is set.
  // Returns the final status.
  grpc::Status Write(const std::string& ref, const std::string& data, int64_t from, bool commit,
                     const std::string& lease = {}, int64_t* stat_offset = nullptr,
                     size_t stop_after = std::string::npos) {
    grpc::ClientContext c;
    Prepare(c, lease);
    auto s = content_->Write(&c);
    capi::WriteContentRequest req;
    capi::WriteContentResponse resp;
    req.set_action(capi::STAT);
    req.set_ref(ref);
    req.set_total(static_cast<int64_t>(data.size()));
    if (!s->Write(req) || !s->Read(&resp)) {
      s->WritesDone();
      return s->Finish();
    }
    if (stat_offset) *stat_offset = resp.offset();
    int64_t off = from;
    size_t limit = std::min(stop_after, data.size());
    while (off < (int64_t)limit) {
      size_t n = std::min<size_t>(1 << 20, limit - off);
      req.Clear();
      req.set_action(capi::WRITE);
      req.set_offset(off);
      req.set_data(data.substr(off, n));
      if (!s->Write(req) || !s->Read(&resp)) return s->Finish();
      off += n;
    }
    if (commit) {
      req.Clear();
      req.set_action(capi::COMMIT);
      req.set_offset(off);
      req.set_total(static_cast<int64_t>(data.size()));
      req.set_expected(Sha256(data));
      if (s->Write(req)) s->Read(&resp);
    }
    s->WritesDone();
    return s->Finish();
  }
  grpc::Status Abort(const std::string& ref) {
    grpc::ClientContext c;
    Prepare(c);
    capi::AbortRequest req;
    req.set_ref(ref);
    google::protobuf::Empty e;
    return content_->Abort(&c, req, &e);
  }
  std::unique_ptr<capi::Content::Stub>& content() { return content_; }

 private:
  std::shared_ptr<grpc::Channel> ch_;
  std::unique_ptr<capi::Content::Stub> content_;
  std::unique_ptr<lapi::Leases::Stub> leases_;
};

std::string Random(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i + 8 <= n; i += 8) {
    uint64_t v = rng();
    memcpy(&s[i], &v, 8);
  }
  return s;
}

class ContentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Require("ctr");
    d.Start();
  }
  TempDir dir;
  // Blobs ctr ingests are held by nothing: keep the start-up collection
  // from racing the test (collections run when a test asks for one).
  Daemon d{dir.path(), Daemon::Options{.extra_args = {}, .config_toml = R"(version = 2
[plugins."io.containerd.gc.v1.scheduler"]
  startup_delay = "1h"
  deletion_threshold = 0
  mutation_threshold = 0
)"}};
};

TEST_F(ContentTest, IngestGetLabelListRemove) {
  std::string data = "hello content\n";
  std::string dgst = Sha256(data);
  auto r = Ctr(d, {"content", "ingest", "--expected-digest", dgst, "myref"}, "default", data);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Ctr(d, {"content", "get", dgst});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, data);

  r = Ctr(d, {"content", "ls", "-q"});
  EXPECT_EQ(r.out, dgst + "\n");
  r = Ctr(d, {"content", "ls"});
  EXPECT_NE(r.out.find("DIGEST"), std::string::npos);
  EXPECT_NE(r.out.find(dgst), std::string::npos);

  r = Ctr(d, {"content", "label", dgst, "foo=bar", "x=y"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Go map order: either way round.
  EXPECT_TRUE(r.out == "foo=bar,x=y\n" || r.out == "x=y,foo=bar\n") << r.out;
  r = Ctr(d, {"content", "ls", "-q", "labels.foo==bar"});
  EXPECT_EQ(r.out, dgst + "\n");
  r = Ctr(d, {"content", "ls", "-q", "labels.foo==baz"});
  EXPECT_EQ(r.out, "");
  r = Ctr(d, {"content", "ls", "-q", "digest==" + dgst});
  EXPECT_EQ(r.out, dgst + "\n");
  r = Ctr(d, {"content", "ls"});
  EXPECT_NE(r.out.find("foo=bar"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("x=y"), std::string::npos) << r.out;

  // Other namespaces do not see it.
  r = Ctr(d, {"content", "ls", "-q"}, "other");
  EXPECT_EQ(r.out, "");
  r = Ctr(d, {"content", "get", dgst}, "other");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("not found"), std::string::npos) << r.err;

  r = Ctr(d, {"content", "rm", dgst});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Ctr(d, {"content", "ls", "-q"});
  EXPECT_EQ(r.out, "");
  r = Ctr(d, {"content", "get", dgst});
  EXPECT_NE(r.exit_code, 0);
}

TEST_F(ContentTest, IngestWithWrongDigestLeavesNoBlob) {
  std::string wrong = Sha256("something else");
  auto r = Ctr(d, {"content", "ingest", "--expected-digest", wrong, "bad"}, "default", "data");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("unexpected commit digest " + Sha256("data") + ", expected " + wrong),
            std::string::npos)
      << r.err;
  EXPECT_EQ(Ctr(d, {"content", "ls", "-q"}).out, "");
  // Short input: ctr itself refuses to commit.
  r = Ctr(d, {"content", "ingest", "--expected-size", "99", "bad2"}, "default", "data");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("failed to read expected number of bytes"), std::string::npos) << r.err;
  EXPECT_EQ(Ctr(d, {"content", "ls", "-q"}).out, "");
}

TEST_F(ContentTest, ActiveWhileWriteIsOpen) {
  OpenIngest ing(d, "open-ref", 10);
  // ctr opens the ingest at once, then reads stdin in 1 MiB blocks: the
  // ingest is listed while its data is still on the way.
  ing.Write("12345");
  std::string out;
  for (int i = 0; i < 200; ++i) {
    out = Ctr(d, {"content", "active"}).out;
    if (out.find("open-ref") != std::string::npos) break;
    usleep(50000);  // waiting for another process to act: no notification exists
  }
  EXPECT_EQ(out.rfind("REF\t", 0), 0u) << out;
  EXPECT_NE(out.find("open-ref"), std::string::npos) << out;
  EXPECT_NE(Ctr(d, {"content", "active", "ref==open-ref"}).out.find("open-ref"), std::string::npos);
  EXPECT_EQ(Ctr(d, {"content", "active", "ref==other"}).out.find("open-ref"), std::string::npos);
  EXPECT_EQ(Ctr(d, {"content", "ls", "-q"}).out, "");
  ing.Write("67890");
  EXPECT_EQ(ing.Finish(), 0);
  EXPECT_EQ(Ctr(d, {"content", "ls", "-q"}).out, Sha256("1234567890") + "\n");
  EXPECT_EQ(Ctr(d, {"content", "active"}).out.find("open-ref"), std::string::npos);
}

TEST_F(ContentTest, LeasesCreateListRemove) {
  auto r = Ctr(d, {"leases", "create", "--id", "mylease", "a=b"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "mylease\n");
  r = Ctr(d, {"leases", "create"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string generated = r.out.substr(0, r.out.size() - 1);
  EXPECT_TRUE(std::regex_match(generated, std::regex("[0-9]+-[A-Za-z0-9_=-]{4}"))) << generated;
  r = Ctr(d, {"leases", "ls"});
  EXPECT_NE(r.out.find("mylease"), std::string::npos);
  EXPECT_NE(r.out.find("a=b"), std::string::npos);
  EXPECT_NE(r.out.find(generated), std::string::npos);
  EXPECT_NE(r.out.find("containerd.io/gc.expire="), std::string::npos);
  r = Ctr(d, {"leases", "ls", "-q", "labels.a==b"});
  EXPECT_EQ(r.out, "mylease\n");
  r = Ctr(d, {"leases", "create", "--id", "mylease"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("lease \"mylease\": already exists"), std::string::npos) << r.err;
  r = Ctr(d, {"leases", "rm", "mylease", generated});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Ctr(d, {"leases", "ls", "-q"}).out, "");
  r = Ctr(d, {"leases", "rm", "mylease"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("lease \"mylease\": not found"), std::string::npos) << r.err;
}

TEST_F(ContentTest, WriteUnderLeaseRecordsResources) {
  ASSERT_EQ(Ctr(d, {"leases", "create", "--id", "L"}).exit_code, 0);
  Client c(d);
  std::string data = "leased data";
  ASSERT_TRUE(c.Write("lref", data, 0, true, "L").ok());
  // ctr has no resource listing: ask the API.
  grpc::ClientContext cc;
  c.Prepare(cc);
  lapi::ListResourcesRequest req;
  req.set_id("L");
  lapi::ListResourcesResponse resp;
  auto ch = grpc::CreateChannel("unix://" + d.socket(), grpc::InsecureChannelCredentials());
  auto st = lapi::Leases::NewStub(ch)->ListResources(&cc, req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(resp.resources_size(), 1);
  EXPECT_EQ(resp.resources(0).type(), "content");
  EXPECT_EQ(resp.resources(0).id(), Sha256(data));
  // An unknown lease is refused.
  st = c.Write("lref2", "x", 0, true, "nope");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(st.error_message(), "lease does not exist: not found");
}

TEST_F(ContentTest, LeasedContentSurvivesGCUntilLeaseDeleted) {
  ASSERT_EQ(Ctr(d, {"leases", "create", "--id", "hold"}).exit_code, 0);
  ASSERT_EQ(Ctr(d, {"leases", "create", "--id", "trigger"}).exit_code, 0);
  Client c(d);
  std::string held = "held by a lease", loose = "held by nothing";
  ASSERT_TRUE(c.Write("h", held, 0, true, "hold").ok());
  ASSERT_TRUE(c.Write("l", loose, 0, true).ok());
  // A synchronous collection: the unreferenced blob goes, the leased stays.
  auto r = Ctr(d, {"leases", "rm", "--sync", "trigger"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Ctr(d, {"content", "ls", "-q"}).out, Sha256(held) + "\n");
  r = Ctr(d, {"leases", "rm", "--sync", "hold"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Ctr(d, {"content", "ls", "-q"}).out, "");
  EXPECT_FALSE(fs::Exists(d.root() + "/io.containerd.content.v1.content/blobs/sha256/" +
                          Sha256(held).substr(7)));
}

TEST_F(ContentTest, ReadWithOffsetAndSize) {
  std::string data = Random(3 << 20, 7);  // several chunks
  Client c(d);
  ASSERT_TRUE(c.Write("big", data, 0, true).ok());
  grpc::ClientContext cc;
  c.Prepare(cc);
  capi::ReadContentRequest req;
  req.set_digest(Sha256(data));
  req.set_offset(100);
  req.set_size((2 << 20) + 5);
  auto rd = c.content()->Read(&cc, req);
  capi::ReadContentResponse resp;
  std::string got;
  int64_t expect_off = 100;
  while (rd->Read(&resp)) {
    EXPECT_EQ(resp.offset(), expect_off);
    expect_off += resp.data().size();
    got += resp.data();
  }
  ASSERT_TRUE(rd->Finish().ok());
  EXPECT_EQ(got, data.substr(100, (2 << 20) + 5));
}

// SIGKILL in the middle of a 100 MB write: no partial blob after restart,
// the ingest resumes to completion; another is aborted.
TEST_F(ContentTest, CrashMidWriteThenResumeOrAbort) {
  const size_t kSize = 100 << 20;
  std::string data = Random(kSize, 42);
  std::string dgst = Sha256(data);
  {
    Client c(d);
    // Half the data, then the stream stays open while the daemon dies.
    grpc::ClientContext cc;
    c.Prepare(cc);
    auto s = c.content()->Write(&cc);
    capi::WriteContentRequest req;
    capi::WriteContentResponse resp;
    req.set_action(capi::STAT);
    req.set_ref("crash");
    req.set_total(kSize);
    ASSERT_TRUE(s->Write(req) && s->Read(&resp));
    for (size_t off = 0; off < kSize / 2; off += 1 << 20) {
      req.Clear();
      req.set_action(capi::WRITE);
      req.set_offset(off);
      req.set_data(data.substr(off, 1 << 20));
      ASSERT_TRUE(s->Write(req) && s->Read(&resp));
    }
    ASSERT_TRUE(c.Write("other", "to be aborted", 0, false).ok());
    d.Kill();
    cc.TryCancel();
  }
  d.Start();
  EXPECT_EQ(Ctr(d, {"content", "ls", "-q"}).out, "");
  auto active = Ctr(d, {"content", "active"}).out;
  EXPECT_NE(active.find("crash"), std::string::npos) << active;
  EXPECT_NE(active.find("other"), std::string::npos) << active;

  Client c(d);
  int64_t offset = -1;
  // Resume: stat tells how much survived; send the rest from there.
  ASSERT_TRUE(c.Write("crash", data, 0, false, "", &offset, 0).ok());
  EXPECT_GT(offset, 0);
  EXPECT_LE(offset, (int64_t)kSize / 2);
  auto st = c.Write("crash", data, offset, true);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(Ctr(d, {"content", "ls", "-q"}).out, dgst + "\n");
  auto got = Ctr(d, {"content", "get", dgst});
  EXPECT_TRUE(got.out == data) << "blob differs after resume";

  ASSERT_TRUE(c.Abort("other").ok());
  active = Ctr(d, {"content", "active"}).out;
  EXPECT_EQ(active.find("other"), std::string::npos) << active;
  auto again = c.Abort("other");
  EXPECT_EQ(again.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(again.error_message(), "reference other: not found");
}

}  // namespace
}  // namespace mcd::itest
