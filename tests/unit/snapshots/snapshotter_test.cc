// The overlayfs and native snapshotters and the namespaced store above them:
// parent chains, mounts as containerd builds them, commit, usage, removal
// rules, records surviving a reopen, and real mounts of what they return.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <fstream>
#include <optional>
#include <set>

#include "metadata/db.h"
#include "metadata/gc.h"
#include "metadata/snapshots.h"
#include "pkg/errdefs.h"
#include "pkg/fs.h"
#include "pkg/mount.h"
#include "plugins/plugin.h"
#include "snapshots/snapshotter.h"

namespace mcd::snapshots {
namespace {

class TempDir {
 public:
  TempDir() {
    std::string t = "/tmp/mcd-snap-XXXXXX";
    path_ = ::mkdtemp(t.data());
    ::chmod(path_.c_str(), 0711);
  }
  ~TempDir() { fs::RemoveAll(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Builds a snapshotter through its registration, as the daemon does.
std::shared_ptr<Snapshotter> Open(const std::string& id, const std::string& root) {
  for (const auto& r : plugin::Registry::Global().All()) {
    if (r.type != plugin::kSnapshot || r.id != id) continue;
    plugin::DaemonInfo di;
    di.root = root;
    di.state = root + "/state";
    plugin::Set set;
    plugin::Loaded self;
    self.reg = &r;
    toml::table cfg = r.config;
    plugin::InitContext ic(r, di, cfg, nullptr, set, self);
    ic.root = root + "/" + r.URI();
    auto sn = std::dynamic_pointer_cast<Snapshotter>(r.init(ic));
    if (id == "overlayfs") {
      EXPECT_EQ(self.exports["root"], ic.root);
    }
    EXPECT_EQ(self.platforms, std::vector<std::string>{"linux/amd64"});
    return sn;
  }
  ADD_FAILURE() << "no snapshotter " << id;
  return nullptr;
}

errdefs::Code CodeOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return errdefs::CodeOf(e);
  }
  return errdefs::Code::kOk;
}

void WriteFile(const std::string& p, const std::string& data) {
  std::ofstream(p) << data;
}
std::string Read(const std::string& p) {
  return fs::ReadFile(p);
}

class SnapshotterTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SnapshotterTest, ChainCommitViewRemove) {
  TempDir d;
  auto sn = Open(GetParam(), d.path());
  ASSERT_TRUE(sn);
  std::string sroot = d.path() + "/io.containerd.snapshotter.v1." + GetParam() + "/snapshots/";

  auto m1 = sn->Prepare("a-active", "", {});
  ASSERT_EQ(m1.size(), 1u);
  EXPECT_EQ(m1[0].type, "bind");
  // Each snapshotter's order, as containerd's: overlayfs flag first, native last.
  const bool overlay = GetParam() == "overlayfs";
  EXPECT_EQ(m1[0].options, overlay ? (std::vector<std::string>{"rw", "rbind"})
                                   : (std::vector<std::string>{"rbind", "rw"}));
  std::string dir1 = m1[0].source;
  WriteFile(dir1 + "/one", "1");
  EXPECT_EQ(CodeOf([&] { sn->Prepare("a-active", "", {}); }), errdefs::Code::kAlreadyExists);
  EXPECT_EQ(CodeOf([&] { sn->Prepare("x", "nope", {}); }), errdefs::Code::kNotFound);
  EXPECT_EQ(CodeOf([&] { sn->Prepare("x", "a-active", {}); }), errdefs::Code::kInvalidArgument);

  auto u = sn->GetUsage("a-active");
  EXPECT_EQ(u.inodes, 2);  // the dir and the file
  sn->Commit("a", "a-active", {{"k", "v"}});
  EXPECT_EQ(CodeOf([&] { sn->Stat("a-active"); }), errdefs::Code::kNotFound);
  auto info = sn->Stat("a");
  EXPECT_EQ(info.kind, Kind::kCommitted);
  EXPECT_EQ(info.labels.at("k"), "v");
  EXPECT_EQ(sn->GetUsage("a").inodes, 2);

  auto m2 = sn->Prepare("b-active", "a", {});
  ASSERT_EQ(m2.size(), 1u);
  if (GetParam() == "overlayfs") {
    EXPECT_EQ(m2[0].type, "overlay");
    EXPECT_EQ(m2[0].source, "overlay");
    auto& o = m2[0].options;
    EXPECT_EQ(o.back(), "lowerdir=" + sroot + "1/fs");
    EXPECT_NE(std::find(o.begin(), o.end(), "upperdir=" + sroot + "2/fs"), o.end());
    EXPECT_NE(std::find(o.begin(), o.end(), "workdir=" + sroot + "2/work"), o.end());
  } else {
    EXPECT_EQ(m2[0].source, sroot + "2");
    EXPECT_EQ(Read(m2[0].source + "/one"), "1");  // native copies the parent
  }
  // A view of one committed layer is a read-only bind of it.
  auto mv = sn->View("v", "a", {});
  ASSERT_EQ(mv.size(), 1u);
  EXPECT_EQ(mv[0].type, "bind");
  EXPECT_EQ(mv[0].options, overlay ? (std::vector<std::string>{"ro", "rbind"})
                                   : (std::vector<std::string>{"rbind", "ro"}));
  EXPECT_EQ(mv[0].source, GetParam() == "overlayfs" ? sroot + "1/fs" : sroot + "1");
  // As containerd: overlayfs gives the view (id 3) an empty fs/, native no
  // directory at all (it mounts the parent's).
  EXPECT_EQ(fs::Exists(sroot + "3"), overlay);
  EXPECT_EQ(sn->Stat("v").kind, Kind::kView);
  EXPECT_EQ(CodeOf([&] { sn->Commit("vv", "v", {}); }), errdefs::Code::kFailedPrecondition);

  EXPECT_EQ(CodeOf([&] { sn->Remove("a"); }), errdefs::Code::kFailedPrecondition);
  sn->Remove("v");
  sn->Remove("b-active");
  sn->Remove("a");
  EXPECT_EQ(CodeOf([&] { sn->Remove("a"); }), errdefs::Code::kNotFound);
  // Directories go in the background; Cleanup waits for them.
  sn->Cleanup();
  EXPECT_FALSE(fs::Exists(sroot + "2"));
  EXPECT_FALSE(fs::Exists(sroot + "1"));
  sn->Close();
}

TEST_P(SnapshotterTest, UpdateWalkAndReopen) {
  TempDir d;
  {
    auto sn = Open(GetParam(), d.path());
    sn->Prepare("p", "", {{"a", "1"}});
    sn->Commit("c", "p", {{"a", "1"}, {"b", "2"}});
    sn->Prepare("q", "c", {});
    Info i;
    i.name = "c";
    i.labels = {{"a", "9"}};
    auto out = sn->Update(i, {"labels.a", "labels.b"});
    EXPECT_EQ(out.labels, (Labels{{"a", "9"}}));
    EXPECT_EQ(CodeOf([&] { sn->Update(i, {"parent"}); }), errdefs::Code::kInvalidArgument);
    sn->Close();
  }
  auto sn = Open(GetParam(), d.path());
  std::vector<std::string> names;
  sn->Walk(
      [&](const Info& i) {
        names.push_back(i.name + ":" + KindName(i.kind));
        return true;
      },
      filters::Filter());
  EXPECT_EQ(names, (std::vector<std::string>{"c:committed", "q:active"}));
  // The filter adaptor answers containerd's fields.
  Info q = sn->Stat("q");
  auto ad = Adapt(q);
  EXPECT_EQ(ad({"kind"}), "active");
  EXPECT_EQ(ad({"parent"}), "c");
  EXPECT_EQ(ad({"name"}), "q");
  EXPECT_EQ(ad({"labels", "x"}), std::nullopt);
  EXPECT_EQ(sn->Stat("q").parent, "c");
  sn->Close();
}

TEST_P(SnapshotterTest, MountsReallyMount) {
  TempDir d;
  auto sn = Open(GetParam(), d.path());
  auto m = sn->Prepare("l1", "", {});
  WriteFile(m[0].source + "/base", "b");
  sn->Commit("c1", "l1", {});
  auto m2 = sn->Prepare("l2", "c1", {});
  {
    mount::TempMount tm(m2);
    EXPECT_EQ(Read(tm.path() + "/base"), "b");
    WriteFile(tm.path() + "/added", "a");
  }
  sn->Commit("c2", "l2", {});
  auto v = sn->View("v", "c2", {});
  {
    mount::TempMount tm(v);
    EXPECT_EQ(Read(tm.path() + "/base"), "b");
    EXPECT_EQ(Read(tm.path() + "/added"), "a");
    // Read-only: a view cannot be written.
    int fd = ::open((tm.path() + "/nope").c_str(), O_WRONLY | O_CREAT, 0644);
    EXPECT_LT(fd, 0);
    EXPECT_EQ(errno, EROFS);
  }
  sn->Close();
}

// A directory left where the next snapshot goes (a crash after making it,
// before the record) is replaced; removal takes a used snapshot's whole
// tree and an unused one's empty layout alike, by Close at the latest.
TEST_P(SnapshotterTest, OrphanDirectoryReplacedAndRemovalComplete) {
  TempDir d;
  auto sn = Open(GetParam(), d.path());
  ASSERT_TRUE(sn);
  std::string sroot = d.path() + "/io.containerd.snapshotter.v1." + GetParam() + "/snapshots/";
  fs::MkdirAll(sroot + "1/stale", 0755);
  WriteFile(sroot + "1/stale/f", "x");
  sn->Prepare("used", "", {});
  EXPECT_FALSE(fs::Exists(sroot + "1/stale"));
  WriteFile(sn->Mounts("used")[0].source + "/file", "data");
  fs::MkdirAll(sn->Mounts("used")[0].source + "/sub/dir", 0755);
  sn->Prepare("unused", "", {});
  EXPECT_TRUE(fs::Exists(sroot + "2"));
  sn->Remove("used");
  sn->Remove("unused");
  sn->Close();
  EXPECT_FALSE(fs::Exists(sroot + "1"));
  EXPECT_FALSE(fs::Exists(sroot + "2"));
}

INSTANTIATE_TEST_SUITE_P(Both, SnapshotterTest, ::testing::Values("overlayfs", "native"));

TEST(SnapshotStore, NamespacesLeasesAndChildren) {
  TempDir d;
  auto sn = Open("overlayfs", d.path());
  auto db = metadata::DB::Open(d.path() + "/meta");
  metadata::SnapshotStore s(db, sn);
  Context a = MakeContext("a"), b = MakeContext("b");
  auto ma = s.Prepare(a, "k", "", {});
  auto mb = s.Prepare(b, "k", "", {});
  EXPECT_NE(ma[0].source, mb[0].source);  // two backend snapshots
  try {
    s.Prepare(a, "k", "", {});
    ADD_FAILURE();
  } catch (const errdefs::Error& e) {
    EXPECT_EQ(std::string(e.what()), "snapshot \"k\": already exists");
  }
  try {
    s.Prepare(a, "x", "missing", {});
    ADD_FAILURE();
  } catch (const errdefs::Error& e) {
    EXPECT_EQ(std::string(e.what()), "parent snapshot missing does not exist: not found");
  }
  s.Commit(a, "base", "k", {});
  s.Prepare(a, "child", "base", {});
  try {
    s.Remove(a, "base");
    ADD_FAILURE();
  } catch (const errdefs::Error& e) {
    EXPECT_EQ(std::string(e.what()), "cannot remove snapshot with child: failed precondition");
  }
  EXPECT_EQ(s.Stat(a, "child").parent, "base");
  EXPECT_EQ(CodeOf([&] { s.Stat(b, "base"); }), errdefs::Code::kNotFound);
  // A lease that does not exist is refused.
  Context leased = MakeContext("a", "nolease");
  EXPECT_EQ(CodeOf([&] { s.Prepare(leased, "l", "", {}); }), errdefs::Code::kNotFound);
  s.Remove(a, "child");
  s.Remove(a, "base");
  s.Remove(b, "k");
  int n = 0;
  sn->Walk(
      [&](const Info&) {
        ++n;
        return true;
      },
      filters::Filter());
  EXPECT_EQ(n, 0);
  db->Close();
  sn->Close();
}

// The collector lives in the DB and the stores hold the DB: registering
// them for collection must not make the DB own them (a cycle neither side
// ever leaves), and a collection after the stores went skips them.
TEST(SnapshotStore, CollectorDoesNotOwnTheStores) {
  TempDir d;
  auto sn = Open("native", d.path());
  auto db = metadata::DB::Open(d.path() + "/meta");
  auto store = std::make_shared<metadata::SnapshotStore>(db, sn);
  metadata::RegisterSnapshotsGC(*db, {{"native", store}});
  store->Prepare(MakeContext("a"), "k", "", {});
  store->Remove(MakeContext("a"), "k");
  std::weak_ptr<metadata::SnapshotStore> weak = store;
  store.reset();
  EXPECT_TRUE(weak.expired());
  EXPECT_NO_THROW(db->collector().Collect());
  db->Close();
  sn->Close();
}

TEST(SnapshotStore, CollectBackendRemovesUnnamedChildrenFirst) {
  TempDir d;
  auto sn = Open("native", d.path());
  auto db = metadata::DB::Open(d.path() + "/meta");
  // Backend snapshots no record names, as a crash between the backend
  // commit and the record would leave.
  sn->Prepare("x/1/p", "", {});
  sn->Commit("x/2/c", "x/1/p", {});
  sn->Prepare("x/3/q", "x/2/c", {});
  metadata::SnapshotStore s(db, sn);
  s.Prepare(MakeContext("a"), "kept", "", {});
  s.CollectBackend();
  std::vector<std::string> left;
  sn->Walk(
      [&](const Info& i) {
        left.push_back(i.name);
        return true;
      },
      filters::Filter());
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].substr(0, 2), "a/");
  db->Close();
  sn->Close();
}

// Backend key numbers come from memory and are persisted with the records
// that use them: after a restart numbers go on from the persisted sequence,
// and one whose backend snapshot survived a crash without its record (an
// orphan holding "<ns>/<n>/<key>") is skipped.
TEST(SnapshotStore, BackendKeysSurviveRestartsAndSkipOrphans) {
  TempDir d;
  auto sn = Open("overlayfs", d.path());
  auto db = metadata::DB::Open(d.path() + "/meta");
  Context a = MakeContext("a");
  auto bkey = [&](metadata::SnapshotStore&, const std::string& key) {
    std::string found;
    sn->Walk(
        [&](const Info& i) {
          if (i.name.size() > key.size() && i.name.ends_with("/" + key)) found = i.name;
          return true;
        },
        filters::Filter());
    return found;
  };
  {
    metadata::SnapshotStore s(db, sn);
    s.Prepare(a, "k1", "", {});
    s.Commit(a, "c1", "k1", {});
    s.Prepare(MakeContext("b"), "k1", "", {});  // namespaces count apart
    EXPECT_EQ(bkey(s, "c1"), "a/2/c1");
    EXPECT_EQ(bkey(s, "k1"), "b/1/k1");
  }
  // A restart: what a crash after the backend step of "a/3/k2" leaves.
  sn->Prepare("a/3/k2", "", {});
  metadata::SnapshotStore s(db, sn);
  s.Prepare(a, "k2", "", {});
  EXPECT_EQ(s.Stat(a, "k2").kind, Kind::kActive);
  std::set<std::string> names;
  sn->Walk(
      [&](const Info& i) {
        names.insert(i.name);
        return true;
      },
      filters::Filter());
  EXPECT_EQ(names, (std::set<std::string>{"a/2/c1", "b/1/k1", "a/3/k2", "a/4/k2"}));
  EXPECT_EQ(db->Get("seq/snapshots/a/overlayfs"), std::optional<std::string>("4"));
  s.CollectBackend();  // the orphan goes
  names.clear();
  sn->Walk(
      [&](const Info& i) {
        names.insert(i.name);
        return true;
      },
      filters::Filter());
  EXPECT_EQ(names, (std::set<std::string>{"a/2/c1", "b/1/k1", "a/4/k2"}));
  db->Close();
  sn->Close();
}

}  // namespace
}  // namespace mcd::snapshots
