// What a daemon leaves on the machine outside its own root and state.
// --ephemeral throws its state away, so it kills and deletes its containers
// on exit instead of leaving them running without bundles. Any daemon removes
// at exit the host directories its tasks' runtimes made (runc's root for the
// namespace, the namespace's cgroups) once they are empty, after a restart
// too: containerd leaves them, and a CI machine would collect one set per
// namespace.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <regex>

#include "pkg/cgroup_mounts.h"
#include "pkg/fs.h"
#include "pkg/mount.h"
#include "runtime/v2/binary.h"
#include "tests/integration/runtime/support.h"
#include "tests/integration/support/image_builder.h"

namespace mcd::itest::rt {
namespace {

using namespace std::chrono_literals;

const char* const kImage = "docker.io/library/busybox:latest";

// The namespace's directory in every cgroup hierarchy that has one.
std::vector<std::string> NamespaceCgroups(const std::string& ns) {
  std::vector<std::string> out;
  for (const auto& m : cgroups::Mounts())
    if (m.root == "/" && fs::Exists(m.mountpoint + "/" + ns))
      out.push_back(m.mountpoint + "/" + ns);
  return out;
}

void Import(const Daemon& d, const std::string& dir, const std::string& ns) {
  const std::string tar = dir + "/busybox.tar";
  image::WriteOciArchive({image::Busybox(kImage)}, tar);
  auto r = Ctr(d, {"images", "import", tar}, ns);
  ASSERT_EQ(r.exit_code, 0) << ResultText(r);
}

// Whatever a failed expectation left running is removed, so one failure does
// not leave containers on the machine.
void ForceClean(const std::string& ns, const std::vector<std::string>& ids,
                const std::vector<std::string>& sockets = {}) {
  for (pid_t p : ProcessesMentioning("-namespace " + ns + " ")) ::kill(p, SIGKILL);
  for (const auto& s : sockets) ::unlink(s.c_str());
  for (const auto& id : ids)
    Sh({"runc", "--root", "/run/containerd/runc/" + ns, "delete", "-f", id});
  ::rmdir(("/run/containerd/runc/" + ns).c_str());
  for (const auto& cg : NamespaceCgroups(ns)) Sh({"find", cg, "-depth", "-type", "d", "-delete"});
}

TEST(EphemeralDaemon, KillsAndDeletesItsContainersOnExit) {
  for (const char* tool : {"ctr", "runc", "containerd-shim-runc-v2"}) Require(tool);
  TempDir dir;
  Daemon d(dir.path(), {.extra_args = {"--ephemeral"}});
  d.Start();
  const std::string ns = "ephemeral-" + std::to_string(::getpid());
  ASSERT_NO_FATAL_FAILURE(Import(d, dir.path(), ns));
  const std::vector<std::string> ids = {"eph1", "eph2"};
  for (const auto& id : ids) {
    auto r = Ctr(d, {"run", "-d", kImage, id, "sleep", "4252"}, ns);
    ASSERT_EQ(r.exit_code, 0) << ResultText(r);
  }
  auto r = Ctr(d, {"task", "exec", "-d", "--exec-id", "x1", "eph2", "sleep", "4253"}, ns);
  ASSERT_EQ(r.exit_code, 0) << ResultText(r);
  r = Ctr(d, {"task", "pause", "eph1"}, ns);  // a frozen task is killed too
  ASSERT_EQ(r.exit_code, 0) << ResultText(r);

  // What a daemon that only disconnects would leave behind.
  std::vector<std::string> sockets;
  for (const auto& id : ids) {
    const std::string bundle = d.state() + "/io.containerd.runtime.v2.task/" + ns + "/" + id;
    sockets.push_back(runtime::ParseAddress(runtime::ReadAddress(bundle)).substr(7));
    EXPECT_TRUE(fs::Exists(sockets.back())) << sockets.back();
    EXPECT_TRUE(fs::Exists("/run/containerd/runc/" + ns + "/" + id));
  }
  const auto cgroups = NamespaceCgroups(ns);
  EXPECT_FALSE(cgroups.empty());
  EXPECT_EQ(ProcessesMentioning("-namespace " + ns + " ").size(), 2u);
  EXPECT_EQ(ProcessesMentioning("sleep 425").size(), 3u);

  EXPECT_EQ(d.Stop(), 0);
  // Shims and container processes: gone once the daemon has exited (a
  // bounded wait only for the kernel to finish reaping).
  EXPECT_TRUE(AwaitExit("-namespace " + ns + " ", -1, 10s).empty()) << "shims left running";
  EXPECT_TRUE(AwaitExit("sleep 425", -1, 10s).empty()) << "container processes left running";
  for (const auto& s : sockets) EXPECT_FALSE(fs::Exists(s)) << s;
  EXPECT_FALSE(fs::Exists("/run/containerd/runc/" + ns)) << "runc state left";
  for (const auto& cg : cgroups) EXPECT_FALSE(fs::Exists(cg)) << cg;
  EXPECT_TRUE(mount::MountPointsUnder(d.state()).empty());
  if (::testing::Test::HasFailure()) ForceClean(ns, ids, sockets);
}

// A shim that does not answer (stopped) holds up only its own task: the
// daemon still exits, with the other tasks discarded.
TEST(EphemeralDaemon, AShimThatDoesNotAnswerHoldsUpOnlyItsOwnTask) {
  for (const char* tool : {"ctr", "runc", "containerd-shim-runc-v2"}) Require(tool);
  TempDir dir;
  Daemon d(dir.path(), {.extra_args = {"--ephemeral"}});
  d.Start();
  const std::string ns = "ephemeral-hung-" + std::to_string(::getpid());
  ASSERT_NO_FATAL_FAILURE(Import(d, dir.path(), ns));
  for (const auto& [id, secs] : {std::pair{"hung", "4246"}, std::pair{"fine", "4247"}}) {
    auto r = Ctr(d, {"run", "-d", kImage, id, "sleep", secs}, ns);
    ASSERT_EQ(r.exit_code, 0) << ResultText(r);
  }
  auto hung = ShimPids(d, "hung");
  ASSERT_EQ(hung.size(), 1u);
  const std::string bundle = d.state() + "/io.containerd.runtime.v2.task/" + ns + "/hung";
  const std::string socket = runtime::ParseAddress(runtime::ReadAddress(bundle)).substr(7);
  ASSERT_EQ(::kill(hung[0], SIGSTOP), 0);

  EXPECT_EQ(d.Stop(), 0);
  EXPECT_TRUE(AwaitExit("sleep 4247", -1, 10s).empty()) << "the answering task was not discarded";
  EXPECT_FALSE(ProcessesMentioning("sleep 4246").empty());  // left to its stopped shim
  ::kill(hung[0], SIGCONT);
  ForceClean(ns, {"hung", "fine"}, {socket});
}

// A daemon in a namespace of its own that ran one `ctr run --rm`: what runc
// left behind (its root for the namespace, the namespace's cgroups) exists.
class DaemonExit : public ::testing::Test {
 protected:
  void RunOnce(const std::string& ns_prefix) {
    for (const char* tool : {"ctr", "runc", "containerd-shim-runc-v2"}) Require(tool);
    d_ = std::make_unique<Daemon>(dir_.path(), Daemon::Options{});
    d_->Start();
    ns_ = ns_prefix + std::to_string(::getpid());
    ASSERT_NO_FATAL_FAILURE(Import(*d_, dir_.path(), ns_));
    ASSERT_FALSE(fs::Exists(RuncRoot()));
    ASSERT_TRUE(NamespaceCgroups(ns_).empty());
    auto r = Ctr(*d_, {"run", "--rm", kImage, "once", "true"}, ns_);
    ASSERT_EQ(r.exit_code, 0) << ResultText(r);
    // Left by runc after the task's delete, as with containerd.
    EXPECT_TRUE(fs::Exists(RuncRoot()));
    cgroups_ = NamespaceCgroups(ns_);
    EXPECT_FALSE(cgroups_.empty());
  }
  // After the daemon's exit: nothing of the namespace is left.
  void ExpectGone() {
    EXPECT_FALSE(fs::Exists(RuncRoot()));
    for (const auto& cg : cgroups_) EXPECT_FALSE(fs::Exists(cg)) << cg;
  }
  void TearDown() override {
    if (HasFailure() && !ns_.empty()) ForceClean(ns_, {"once"});
  }
  std::string RuncRoot() const { return "/run/containerd/runc/" + ns_; }

  TempDir dir_;
  std::unique_ptr<Daemon> d_;
  std::string ns_;
  std::vector<std::string> cgroups_;
};

TEST_F(DaemonExit, RemovesTheEmptyHostDirsItsTasksMade) {
  ASSERT_NO_FATAL_FAILURE(RunOnce("hostdirs-"));
  EXPECT_EQ(d_->Stop(), 0);
  ExpectGone();
}

// The notes are kept in the runtime's state: a daemon restarted after a
// crash removes what the crashed one made.
TEST_F(DaemonExit, RemovesThemAfterACrashToo) {
  ASSERT_NO_FATAL_FAILURE(RunOnce("hostdirs-crash-"));
  d_->Kill();
  d_->Start();
  EXPECT_TRUE(fs::Exists(RuncRoot()));
  EXPECT_EQ(d_->Stop(), 0);
  ExpectGone();
}

}  // namespace
}  // namespace mcd::itest::rt
