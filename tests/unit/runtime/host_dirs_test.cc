#include "runtime/v2/host_dirs.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "pkg/fs.h"

namespace mcd::runtime {
namespace {

class HostDirsTest : public ::testing::Test {
 protected:
  HostDirsTest() {
    fs::MkdirAll(At("cg/memory"));
    fs::MkdirAll(At("cg/pids"));
  }
  std::string At(const std::string& rel) const { return dir_.path() + "/" + rel; }
  // What a runtime would make for a task.
  void Make(const std::string& rel) { fs::MkdirAll(At(rel)); }

  fs::TempDir dir_{"mcd-hostdirs-"};
};

TEST_F(HostDirsTest, RemovesWhatWasMissingAndIsEmptyDeepestFirst) {
  HostDirs h({At("cg/memory"), At("cg/pids")}, At("s"));
  Make("runc");  // existed before: never ours
  h.NoteTask("ns1", At("runc"), R"({"linux":{"cgroupsPath":"/ns1/pod/c1"}})");
  // s, runc/ns1, {memory,pids}/ns1 and /ns1/pod: c1 itself is runc's.
  EXPECT_EQ(h.Noted().size(), 6u);
  Make("s/shim.sock");  // a live shim's socket (a directory will do)
  Make("runc/ns1");
  Make("cg/memory/ns1/pod");  // the leaf removed, as runc does on delete
  Make("cg/pids/ns1");
  h.RemoveEmpty();
  EXPECT_FALSE(fs::Exists(At("runc/ns1")));
  EXPECT_FALSE(fs::Exists(At("cg/memory/ns1")));
  EXPECT_FALSE(fs::Exists(At("cg/pids/ns1")));
  EXPECT_TRUE(fs::Exists(At("runc")));
  EXPECT_TRUE(fs::Exists(At("cg/memory")));
  EXPECT_TRUE(fs::Exists(At("s/shim.sock")));
}

TEST_F(HostDirsTest, KeepsWhatStillHoldsSomethingOrExistedBefore) {
  HostDirs h({At("cg/memory")}, At("s"));
  Make("cg/memory/shared");  // another user's, before the task
  h.NoteTask("ns2", At("runc"), R"({"linux":{"cgroupsPath":"/shared/c2"}})");
  h.NoteTask("ns3", At("runc"), "{}");
  Make("runc/ns2/live");  // a running container's state
  Make("runc/ns3");
  Make("cg/memory/shared/c2");  // runc's own: it removes it at delete
  h.RemoveEmpty();
  EXPECT_TRUE(fs::Exists(At("runc/ns2/live")));
  EXPECT_FALSE(fs::Exists(At("runc/ns3")));
  EXPECT_TRUE(fs::Exists(At("cg/memory/shared/c2")));
  EXPECT_TRUE(fs::Exists(At("cg/memory/shared")));
}

TEST_F(HostDirsTest, OnlyAbsoluteCgroupPathsAndValidSpecsCount) {
  HostDirs h({At("cg/memory")}, At("s"));
  for (const char* spec : {R"({"linux":{"cgroupsPath":"system.slice:ctr:c1"}})",
                           R"({"linux":{"cgroupsPath":"rel/c"}})", R"({"linux":{"cgroupsPath":7}})",
                           R"({"linux":[]})", "not json", "", R"({"linux":{"cgroupsPath":"/"}})"})
    h.NoteTask("ns", "", spec);
  for (const auto& p : h.Noted()) EXPECT_EQ(p.find(At("cg")), std::string::npos) << p << " noted";
}

TEST_F(HostDirsTest, ACgroupPathStaysInsideItsHierarchy) {
  HostDirs h({At("cg/memory")}, At("s"));
  h.NoteTask("ns", "", R"({"linux":{"cgroupsPath":"/../../escape/c/"}})");
  EXPECT_EQ(h.Noted(), (std::vector<std::string>{At("cg/memory/escape"), At("s")}));
}

TEST_F(HostDirsTest, NotesKeptInAFileServeTheNextDaemon) {
  const std::string file = At("notes");
  {
    HostDirs h({At("cg/memory")}, At("s"));
    h.Persist(file);
    h.NoteTask("ns1", At("runc"), R"({"linux":{"cgroupsPath":"/ns1/c1"}})");
  }  // a crash: no RemoveEmpty
  Make("runc/ns1/busy");
  Make("cg/memory/ns1");
  Make("s");
  {
    HostDirs h({At("cg/memory")}, At("s"));
    h.Persist(file);
    h.RemoveEmpty();
  }
  EXPECT_FALSE(fs::Exists(At("cg/memory/ns1")));
  EXPECT_FALSE(fs::Exists(At("s")));
  EXPECT_TRUE(fs::Exists(At("runc/ns1/busy")));
  EXPECT_EQ(fs::ReadFile(file), At("runc/ns1") + "\n" + At("runc") + "\n");  // deepest first
  ::rmdir(At("runc/ns1/busy").c_str());
  {
    HostDirs h({}, At("s"));
    h.Persist(file);
    h.RemoveEmpty();
  }
  EXPECT_FALSE(fs::Exists(At("runc")));
  EXPECT_FALSE(fs::Exists(file));
}

// A daemon that runs for long keeps no more per task: after a namespace's
// first task, its next ones note nothing and write nothing.
TEST_F(HostDirsTest, LaterTasksOfANamespaceAddNothing) {
  const std::string file = At("notes");
  HostDirs h({At("cg/memory"), At("cg/pids")}, At("s"));
  h.Persist(file);
  h.NoteTask("ns1", At("runc"), R"({"linux":{"cgroupsPath":"/ns1/c0"}})");
  const auto noted = h.Noted();
  const std::string kept = fs::ReadFile(file);
  Make("runc/ns1");
  Make("cg/memory/ns1");
  for (int i = 1; i < 50; ++i) {
    h.NoteTask("ns1", At("runc"),
               R"({"linux":{"cgroupsPath":"/ns1/c)" + std::to_string(i) + R"("}})");
  }
  EXPECT_EQ(h.Noted(), noted);
  EXPECT_EQ(fs::ReadFile(file), kept);
}

TEST_F(HostDirsTest, NothingUnderAFileIsNoted) {
  HostDirs h({}, At("s"));
  std::ofstream(At("file")) << "x";
  h.NoteMissing(At("file/sub"));  // ENOTDIR: no one can make it
  EXPECT_TRUE(h.Noted().empty());
  h.RemoveEmpty();
  EXPECT_TRUE(fs::Exists(At("file")));
}

}  // namespace
}  // namespace mcd::runtime
