// containerd's own snapshotter test suite (snapshots/testsuite from Debian's
// containerd 1.6.20 sources) through the Go client's snapshot proxy against
// the daemon, as containerd's integration/client TestSnapshotterClient runs
// it: gosuite/ is that test, built with `go test -c`. Each subtest must end
// as it ends on containerd 1.6.20 (all pass but Rename, which the suite
// itself skips), and the suite must leave no mount behind.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "pkg/fs.h"
#include "pkg/mount.h"
#include "tests/integration/support/harness.h"

namespace mcd::itest {
namespace {

// What containerd 1.6.20 reports for each subtest, for overlayfs, native and
// btrfs alike (recorded with gosuite against the real daemon).
const std::map<std::string, std::string>& Expected() {
  static const std::map<std::string, std::string> m = [] {
    std::map<std::string, std::string> e;
    for (const char* t : {"Basic",
                          "StatActive",
                          "StatComitted",
                          "TransitivityTest",
                          "PreareViewFailingtest",
                          "Update",
                          "Remove",
                          "Walk",
                          "LayerFileupdate",
                          "RemoveDirectoryInLowerLayer",
                          "Chown",
                          "DirectoryPermissionOnCommit",
                          "RemoveIntermediateSnapshot",
                          "DeletedFilesInChildSnapshot",
                          "MoveFileFromLowerLayer",
                          "ViewReadonly",
                          "StatInWalk",
                          "CloseTwice",
                          "RootPermission",
                          "128LayersMount"}) {
      e[t] = "PASS";
    }
    e["Rename"] = "SKIP";  // "rename test still fails on some kernels with overlay"
    return e;
  }();
  return m;
}

// The suite's subtests by short name: "TestSnapshotterClient/Basic" -> Basic.
std::map<std::string, std::string> Outcomes(const std::string& out) {
  const std::string prefix = "TestSnapshotterClient/";
  std::map<std::string, std::string> m;
  for (const auto& [name, result] : GoTestOutcomes(out)) {
    if (name.rfind(prefix, 0) == 0) m[name.substr(prefix.size())] = result;
  }
  return m;
}

TEST(GoSnapshotSuite, OverlayfsNativeAndBtrfsAsContainerd) {
  Require("go");
  ASSERT_EQ(::geteuid(), 0u) << "the suite mounts snapshots: it needs root";
  TempDir dir;
  const std::string bin = dir.path() + "/gosuite.test";
  auto r = BuildGoTest(MCD_GOSUITE_DIR, bin);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  // The suite makes its snapshot-suite-* work dirs under TMPDIR: inside the
  // test's own directory, so nothing outlives the test even on a failure.
  const std::string tmp = dir.path() + "/tmp";
  fs::MkdirAll(tmp, 0711);
  auto run = [&](const Daemon& d, const std::string& sn) {
    SCOPED_TRACE(sn);
    process::Options o;
    o.argv = {bin, "-test.v", "-address", d.socket(), "-snapshotter", sn};
    o.extra_env = {"TMPDIR=" + tmp};
    o.merge_stderr = true;
    o.timeout = std::chrono::minutes(10);
    auto res = process::Run(o);
    EXPECT_EQ(res.exit_code, 0) << res.out;
    EXPECT_EQ(Outcomes(res.out), Expected()) << res.out;
    EXPECT_NE(res.out.find("\nPASS\n"), std::string::npos) << res.out;
    // Every subtest unmounted what it mounted and removed its work dir.
    EXPECT_EQ(mount::MountPointsUnder(tmp), std::vector<std::string>{});
    EXPECT_TRUE(std::filesystem::is_empty(tmp));
  };
  {
    Daemon d(dir.path());
    d.Start();
    for (const std::string sn : {"overlayfs", "native"}) run(d, sn);
    EXPECT_EQ(d.Stop(), 0) << d.Log();
  }
  // btrfs works where the daemon's root is on btrfs.
  const std::string on_btrfs = MountBtrfs(dir.path()) + "/d";
  fs::MkdirAll(on_btrfs, 0711);
  Daemon d(on_btrfs);
  d.Start();
  run(d, "btrfs");
  EXPECT_EQ(d.Stop(), 0) << d.Log();
}

}  // namespace
}  // namespace mcd::itest
