// containerd's own content store test suite (content/testsuite from Debian's
// 1.6.20 sources) through the Go client, set up as containerd's integration
// test TestContentClient (gosuite/): every subtest must pass, as it does on
// containerd 1.6.20 with the same config (checked by hand: all pass there,
// none is skipped). The cross-namespace suite follows the daemon's
// content_sharing_policy, set here the way a containerd config sets it.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "tests/integration/support/harness.h"

namespace mcd::itest {
namespace {

const char* const kContentSuite[] = {"Writer",     "UpdateStatus",     "CommitExists",
                                     "Resume",     "ResumeTruncate",   "ResumeDiscard",
                                     "ResumeCopy", "ResumeCopySeeker", "ResumeCopyReaderAt",
                                     "SmallBlob",  "Labels",           "CommitErrorState"};

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().string());
  return out;
}

// Builds the suite, runs it against a daemon started with `config_toml` and
// checks every subtest ran and passed; the suite's cleanup must leave the
// namespaces it used without content or leases.
void RunSuite(const std::string& config_toml, const std::vector<std::string>& cross_ns) {
  Require("go");
  Require("ctr");
  TempDir dir;
  const std::string bin = dir.path() + "/gosuite";
  auto r = BuildGoTest(MCD_GOSUITE_DIR, bin);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  Daemon d(dir.path(), Daemon::Options{.extra_args = {}, .config_toml = config_toml});
  d.Start();
  process::Options o;
  o.argv = {bin, "-test.v", "-test.count=1", "-address", d.socket()};
  o.extra_env = {"TMPDIR=" + dir.path()};  // the suite's scratch dirs stay in ours
  o.merge_stderr = true;
  o.timeout = std::chrono::minutes(5);
  r = process::Run(o);
  EXPECT_EQ(r.exit_code, 0) << r.out;

  auto results = GoTestOutcomes(r.out);
  std::vector<std::string> want = {"TestContentClient", "TestContentClientCrossNS"};
  for (const char* s : kContentSuite) want.push_back(std::string("TestContentClient/") + s);
  for (const auto& s : cross_ns) want.push_back("TestContentClientCrossNS/" + s);
  for (const auto& name : want) {
    EXPECT_EQ(results[name], "PASS") << name << "\n" << r.out;
  }
  for (const auto& [name, result] : results) {
    EXPECT_EQ(result, "PASS") << name << "\n" << r.out;
  }
  EXPECT_EQ(results.size(), want.size()) << r.out;

  // The cleanup aborted and deleted everything; the leases went with each test.
  for (const char* ns : {"ContentClient-n1", "ContentClient-n2"}) {
    auto c = Ctr(d, {"content", "ls", "-q"}, ns);
    EXPECT_EQ(c.exit_code, 0) << c.err;
    EXPECT_EQ(c.out, "") << ns;
    c = Ctr(d, {"leases", "ls", "-q"}, ns);
    EXPECT_EQ(c.exit_code, 0) << c.err;
    EXPECT_EQ(c.out, "") << ns;
  }
  // A synchronous collection (what deleting a lease with --sync runs) then
  // leaves no blob and no ingest on disk, as on containerd.
  auto c = Ctr(d, {"leases", "create", "--id", "sweep"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  c = Ctr(d, {"leases", "rm", "--sync", "sweep"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  const std::string store = d.root() + "/io.containerd.content.v1.content";
  EXPECT_EQ(Entries(store + "/blobs/sha256"), std::vector<std::string>{});
  EXPECT_EQ(Entries(store + "/ingest"), std::vector<std::string>{});
  EXPECT_EQ(d.Stop(), 0) << d.Log();
}

TEST(GoContentSuite, AsContainerd) {
  // containerd's default policy is "shared".
  RunSuite("version = 2\n", {"CrossNamespaceAppend", "CrossNamespaceShare"});
}

TEST(GoContentSuite, IsolatedPolicyAsContainerd) {
  // A containerd config: the policy on containerd's bolt plugin.
  RunSuite(
      "version = 2\n"
      "[plugins.\"io.containerd.metadata.v1.bolt\"]\n"
      "  content_sharing_policy = \"isolated\"\n",
      {"CrossNamespaceIsolate"});
}

}  // namespace
}  // namespace mcd::itest
