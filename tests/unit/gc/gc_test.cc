// The collector's rules over a real RocksDB: roots, label references, sweep
// and the owner hooks.
#include "metadata/gc.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "mcd/containers.pb.h"
#include "mcd/images.pb.h"
#include "pkg/fs.h"

namespace mcd::metadata::gc {
namespace {

class GcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("mcd-gc-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    db_ = DB::Open(dir_.string());
    // A minimal content owner: v1/<ns>/content/blob/<digest> = labels as
    // "k=v\n" lines; gc.root makes it a root.
    Resource r;
    r.name = "test-content";
    r.kinds = {Kind::kContent};
    r.roots = [](Txn& t, const std::string& ns, const Emit& emit) {
      t.Scan(BucketPrefix(ns, "content") + "blob/", [&](std::string_view k, std::string_view v) {
        if (Labels(v).count(std::string(kLabelRoot))) {
          emit(Node{Kind::kContent, ns, std::string(k.substr(k.rfind('/') + 1))});
        }
        return true;
      });
    };
    r.all = [](Txn& t, const std::string& ns, const Emit& emit) {
      t.Scan(BucketPrefix(ns, "content") + "blob/", [&](std::string_view k, std::string_view) {
        emit(Node{Kind::kContent, ns, std::string(k.substr(k.rfind('/') + 1))});
        return true;
      });
    };
    r.refs = [](Txn& t, const Node& n, const Emit& emit) {
      if (auto v = t.Get(BucketPrefix(n.ns, "content") + "blob/" + n.key)) {
        LabelRefs(n.ns, Labels(*v), emit);
      }
    };
    r.remove = [](Txn& t, const Node& n) {
      t.Delete(BucketPrefix(n.ns, "content") + "blob/" + n.key);
    };
    r.cleanup = [this](const std::vector<Node>& removed) {
      for (const auto& n : removed) cleaned_.insert(n.ns + "/" + n.key);
    };
    db_->collector().Register(r);
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  static gc::Labels Labels(std::string_view text) {
    gc::Labels out;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      std::string line(text.substr(pos, nl - pos));
      auto eq = line.find('=');
      if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
      if (nl == std::string_view::npos) break;
      pos = nl + 1;
    }
    return out;
  }
  void Blob(const std::string& ns, const std::string& dgst, const std::string& labels = "") {
    db_->Update([&](Txn& t) {
      t.Put(NamespaceKey(ns), "");
      t.Put(BucketPrefix(ns, "content") + "blob/" + dgst, labels);
    });
  }
  bool HasBlob(const std::string& ns, const std::string& dgst) {
    return db_->Get(BucketPrefix(ns, "content") + "blob/" + dgst).has_value();
  }
  void Image(const std::string& ns, const std::string& name, const std::string& target,
             const std::map<std::string, std::string>& labels = {}) {
    records::Image img;
    img.mutable_target()->set_digest(target);
    for (const auto& [k, v] : labels) (*img.mutable_labels())[k] = v;
    db_->Update([&](Txn& t) { t.Put(ObjectKey(ns, "images", name), img.SerializeAsString()); });
  }

  std::filesystem::path dir_;
  std::shared_ptr<DB> db_;
  std::set<std::string> cleaned_;
};

TEST_F(GcTest, UnreferencedContentIsRemovedAndCleanedUp) {
  Blob("ns1", "sha256:a");
  Blob("ns1", "sha256:b");
  auto stats = db_->collector().Collect();
  EXPECT_EQ(stats.removed, 2u);
  EXPECT_FALSE(HasBlob("ns1", "sha256:a"));
  EXPECT_FALSE(HasBlob("ns1", "sha256:b"));
  EXPECT_EQ(cleaned_, (std::set<std::string>{"ns1/sha256:a", "ns1/sha256:b"}));
}

TEST_F(GcTest, ImageTargetAndLabelRefsAreFollowed) {
  // index -> manifest (gc.ref.content.m.0) -> config (.config) + layer (.l.0)
  Blob("ns1", "sha256:index", "containerd.io/gc.ref.content.m.0=sha256:manifest\n");
  Blob("ns1", "sha256:manifest",
       "containerd.io/gc.ref.content.config=sha256:config\n"
       "containerd.io/gc.ref.content.l.0=sha256:layer\n"
       "containerd.io/gc.ref.contentx=sha256:notref\n");
  Blob("ns1", "sha256:config");
  Blob("ns1", "sha256:layer");
  Blob("ns1", "sha256:notref");
  Blob("ns1", "sha256:slash");
  Blob("ns1", "sha256:plain");
  Image("ns1", "docker.io/library/busybox:latest", "sha256:index",
        {{"containerd.io/gc.ref.content/x", "sha256:slash"},
         {"containerd.io/gc.ref.content", "sha256:plain"}});
  db_->collector().Collect();
  for (auto d : {"sha256:index", "sha256:manifest", "sha256:config", "sha256:layer", "sha256:slash",
                 "sha256:plain"}) {
    EXPECT_TRUE(HasBlob("ns1", d)) << d;
  }
  EXPECT_FALSE(HasBlob("ns1", "sha256:notref"));
  EXPECT_EQ(cleaned_, (std::set<std::string>{"ns1/sha256:notref"}));
}

TEST_F(GcTest, ReferencesStayInTheirNamespace) {
  Blob("ns1", "sha256:a");
  Blob("ns2", "sha256:a");
  Image("ns1", "img", "sha256:a");
  db_->collector().Collect();
  EXPECT_TRUE(HasBlob("ns1", "sha256:a"));
  EXPECT_FALSE(HasBlob("ns2", "sha256:a"));
}

TEST_F(GcTest, GcRootLabelKeepsContent) {
  Blob("ns1", "sha256:root", "containerd.io/gc.root=x\ncontainerd.io/gc.ref.content=sha256:kid\n");
  Blob("ns1", "sha256:kid");
  db_->collector().Collect();
  EXPECT_TRUE(HasBlob("ns1", "sha256:root"));
  EXPECT_TRUE(HasBlob("ns1", "sha256:kid"));
}

TEST_F(GcTest, ImageDeleteReleasesContent) {
  Blob("ns1", "sha256:a");
  Image("ns1", "img", "sha256:a");
  db_->collector().Collect();
  EXPECT_TRUE(HasBlob("ns1", "sha256:a"));
  db_->Update([&](Txn& t) { t.Delete(ObjectKey("ns1", "images", "img")); });
  db_->collector().Collect();
  EXPECT_FALSE(HasBlob("ns1", "sha256:a"));
}

TEST_F(GcTest, ContainerSnapshotAndLabelRefsAreRoots) {
  std::vector<Node> roots;
  Resource spy;
  spy.name = "spy-snapshots";
  spy.kinds = {Kind::kSnapshot};
  spy.refs = [&](Txn&, const Node& n, const Emit&) { roots.push_back(n); };
  db_->collector().Register(spy);
  records::Container c;
  c.set_snapshotter("overlayfs");
  c.set_snapshot_key("c1");
  (*c.mutable_labels())["containerd.io/gc.ref.snapshot.native/1"] = "k1";
  (*c.mutable_labels())["containerd.io/gc.ref.content.x"] = "sha256:a";
  Blob("ns1", "sha256:a");
  db_->Update([&](Txn& t) { t.Put(ObjectKey("ns1", "containers", "c1"), c.SerializeAsString()); });
  db_->collector().Collect();
  EXPECT_TRUE(HasBlob("ns1", "sha256:a"));
  std::set<std::string> keys;
  for (const auto& n : roots) keys.insert(n.ns + ":" + n.key);
  EXPECT_EQ(keys, (std::set<std::string>{"ns1:overlayfs/c1", "ns1:native/k1"}));
}

TEST(GcLabels, LabelRefsFollowContainerdNaming) {
  std::vector<Node> got;
  LabelRefs("ns",
            {{"containerd.io/gc.ref.content", "d0"},
             {"containerd.io/gc.ref.content.m.1", "d1"},
             {"containerd.io/gc.ref.content/x", "d2"},
             {"containerd.io/gc.ref.contentious", "no"},
             {"containerd.io/gc.ref.snapshot.overlayfs", "s1"},
             {"containerd.io/gc.ref.snapshot.native/2", "s2"},
             {"other", "no"}},
            [&](Node n) { got.push_back(n); });
  std::set<std::string> s;
  for (const auto& n : got) s.insert(std::to_string(static_cast<int>(n.kind)) + ":" + n.key);
  EXPECT_EQ(s, (std::set<std::string>{"0:d0", "0:d1", "0:d2", "1:overlayfs/s1", "1:native/s2"}));
}

TEST(GcLabels, ParseTimeIsRfc3339) {
  using namespace std::chrono;
  auto t = ParseTime("2026-01-02T03:04:05Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(duration_cast<seconds>(t->time_since_epoch()).count(), 1767323045);
  auto t2 = ParseTime("2026-01-02T04:04:05.5+01:00");
  ASSERT_TRUE(t2);
  EXPECT_EQ(duration_cast<milliseconds>(t2->time_since_epoch()).count(), 1767323045500);
  EXPECT_FALSE(ParseTime("2026-01-02 03:04:05"));
  EXPECT_FALSE(ParseTime("tomorrow"));
  EXPECT_FALSE(ParseTime("2026-01-02T03:04:05"));
  std::map<std::string, std::string> labels{{"containerd.io/gc.expire", "2000-01-01T00:00:00Z"}};
  EXPECT_TRUE(Expired(labels, system_clock::now()));
  labels["containerd.io/gc.expire"] = "garbage";
  EXPECT_FALSE(Expired(labels, system_clock::now()));
}

}  // namespace
}  // namespace mcd::metadata::gc
