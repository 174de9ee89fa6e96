// The namespace store on a real RocksDB: containerd's semantics for create,
// labels, listing and delete (what blocks it, what goes with it).
#include "metadata/namespaces.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "pkg/errdefs.h"
#include "pkg/fs.h"

namespace mcd::metadata {
namespace {

class NamespaceStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mcd-unit-ns-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    db_ = DB::Open(dir_ + "/db");
    store_ = std::make_unique<NamespaceStore>(db_);
  }
  void TearDown() override {
    store_.reset();
    db_->Close();
    db_.reset();
    fs::RemoveAll(dir_);
  }
  void Reopen() {
    store_.reset();
    db_->Close();
    db_.reset();
    db_ = DB::Open(dir_ + "/db");
    store_ = std::make_unique<NamespaceStore>(db_);
  }
  std::string ErrorOf(const std::function<void()>& fn, errdefs::Code code) {
    try {
      fn();
    } catch (const errdefs::Error& e) {
      EXPECT_EQ(e.code(), code) << e.what();
      return e.what();
    }
    ADD_FAILURE() << "no error";
    return "";
  }

  std::string dir_;
  std::shared_ptr<DB> db_;
  std::unique_ptr<NamespaceStore> store_;
};

TEST_F(NamespaceStoreTest, CreateGetList) {
  store_->Create("default", {});
  store_->Create("k8s.io", {{"a", "1"}, {"empty", ""}});
  EXPECT_TRUE(store_->Exists("k8s.io"));
  EXPECT_EQ(store_->GetLabels("k8s.io"), (Labels{{"a", "1"}}));  // empty values are not kept
  EXPECT_EQ(store_->List(), (std::vector<std::string>{"default", "k8s.io"}));
  EXPECT_EQ(ErrorOf([&] { store_->Create("default", {}); }, errdefs::Code::kAlreadyExists),
            "namespace \"default\": already exists");
}

TEST_F(NamespaceStoreTest, InvalidNames) {
  EXPECT_EQ(ErrorOf([&] { store_->Create("a/b", {}); }, errdefs::Code::kInvalidArgument),
            "identifier \"a/b\" must match ^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$: invalid "
            "argument");
  ErrorOf([&] { store_->Create("../x", {}); }, errdefs::Code::kInvalidArgument);
  ErrorOf([&] { store_->Create("", {}); }, errdefs::Code::kInvalidArgument);
  ErrorOf([&] { store_->SetLabel("a/b", "k", "v"); }, errdefs::Code::kInvalidArgument);
  // Reads and deletes of a name that cannot exist answer as for a missing one.
  EXPECT_TRUE(store_->GetLabels("a/b").empty());
  EXPECT_FALSE(store_->Exists("a/b"));
  EXPECT_EQ(ErrorOf([&] { store_->Delete("a/b"); }, errdefs::Code::kNotFound),
            "namespace \"a/b\": not found");
  EXPECT_TRUE(store_->List().empty());
}

TEST_F(NamespaceStoreTest, LabelLimit) {
  std::string big(4096, 'v');
  EXPECT_EQ(ErrorOf(
                [&] {
                  store_->Create("n", {{"key-longer-than-ten", big}});
                },
                errdefs::Code::kInvalidArgument),
            "namespace.Labels: label key and value greater than maximum size (4096 bytes), key: "
            "key-longer: invalid argument");
  EXPECT_FALSE(store_->Exists("n"));
  store_->Create("n", {{"k", std::string(4095, 'v')}});
}

TEST_F(NamespaceStoreTest, MissingNamespaceHasNoLabels) {
  EXPECT_TRUE(store_->GetLabels("nosuch").empty());
  EXPECT_FALSE(store_->Exists("nosuch"));
}

TEST_F(NamespaceStoreTest, SetLabelCreatesAndEmptyValueRemoves) {
  store_->SetLabel("fresh", "a", "b");  // as containerd: creates the namespace
  EXPECT_TRUE(store_->Exists("fresh"));
  store_->SetLabels("fresh", {{"c", "d"}, {"e", "f"}});
  EXPECT_EQ(store_->GetLabels("fresh"), (Labels{{"a", "b"}, {"c", "d"}, {"e", "f"}}));
  store_->SetLabel("fresh", "a", "");
  EXPECT_EQ(store_->GetLabels("fresh"), (Labels{{"c", "d"}, {"e", "f"}}));
  store_->SetLabel("other", "x", "");  // removal of nothing still creates it
  EXPECT_TRUE(store_->Exists("other"));
}

TEST_F(NamespaceStoreTest, ReplaceLabels) {
  store_->Create("n", {{"a", "1"}, {"b", "2"}});
  store_->ReplaceLabels("n", {{"b", "3"}, {"c", ""}});
  EXPECT_EQ(store_->GetLabels("n"), (Labels{{"b", "3"}}));
  store_->ReplaceLabels("n", {});
  EXPECT_TRUE(store_->GetLabels("n").empty());
  EXPECT_TRUE(store_->Exists("n"));
  // Replacing nothing on a missing namespace does not create it.
  store_->ReplaceLabels("ghost", {});
  EXPECT_FALSE(store_->Exists("ghost"));
  store_->ReplaceLabels("ghost", {{"x", "y"}});
  EXPECT_TRUE(store_->Exists("ghost"));
}

TEST_F(NamespaceStoreTest, ListingWithTrickyNames) {
  // '-' and '.' sort before '/', so "a-b" and "a.b" sit between "a" and
  // "a"'s own keys; "ab" after them.
  for (const char* n : {"ab", "a.b", "a", "a-b", "a_b", "a0", "b"}) store_->Create(n, {});
  db_->Update([](Txn& t) {
    t.Put(ObjectKey("a", "containers", "c1"), "x");
    t.Put(ObjectKey("a-b", "images", "docker.io/library/busybox:latest"), "x");
    t.Put(ObjectKey("a.b", "leases", "l"), "x");
  });
  EXPECT_EQ(store_->List(), (std::vector<std::string>{"a", "a-b", "a.b", "a0", "a_b", "ab", "b"}));
  store_->Delete("a.b");  // only a lease: goes with it
  EXPECT_EQ(store_->List(), (std::vector<std::string>{"a", "a-b", "a0", "a_b", "ab", "b"}));
  store_->Delete("ab");
  EXPECT_EQ(store_->Contents("a"), std::vector<std::string>{"containers"});
  EXPECT_EQ(store_->Contents("a-b"), std::vector<std::string>{"images"});
  EXPECT_TRUE(store_->Contents("a0").empty());
}

TEST_F(NamespaceStoreTest, DeleteNonEmptyIsFailedPrecondition) {
  store_->Create("busy", {});
  db_->Update([](Txn& t) {
    t.Put(ObjectKey("busy", "snapshots", "overlayfs/key/with/slashes"), "x");
    t.Put(ObjectKey("busy", "containers", "c"), "x");
    t.Put(ObjectKey("busy", "content", "blob/sha256:00"), "x");
    t.Put(ObjectKey("busy", "images", "img"), "x");
    t.Put(ObjectKey("busy", "snapshots", "native/k"), "x");
  });
  EXPECT_EQ(ErrorOf([&] { store_->Delete("busy"); }, errdefs::Code::kFailedPrecondition),
            "namespace \"busy\" must be empty, but it still has images, blobs, containers, "
            "snapshots on \"native\" snapshotter, snapshots on \"overlayfs\" snapshotter: failed "
            "precondition");
  EXPECT_TRUE(store_->Exists("busy"));
}

// The runtime's hook (tasks) is a safety net: containerd names only its
// stores, and a task always comes with a container.
// Both runtimes (v1 and v2) hook in; "tasks" is named once.
TEST_F(NamespaceStoreTest, HooksSpeakOnlyWhenTheStoresAreEmpty) {
  for (int runtime = 0; runtime < 2; ++runtime) {
    NamespaceStore::AddContentsHook([](const std::string& ns) {
      return ns.starts_with("run") ? std::vector<std::string>{"tasks"} : std::vector<std::string>{};
    });
  }
  store_->Create("run1", {});
  store_->Create("run2", {});
  db_->Update([](Txn& t) { t.Put(ObjectKey("run1", "containers", "c"), "x"); });
  EXPECT_EQ(store_->Contents("run1"), std::vector<std::string>{"containers"});
  EXPECT_EQ(ErrorOf([&] { store_->Delete("run2"); }, errdefs::Code::kFailedPrecondition),
            "namespace \"run2\" must be empty, but it still has tasks: failed precondition");
  EXPECT_TRUE(store_->Exists("run2"));
}

TEST_F(NamespaceStoreTest, DeleteTakesLeasesAndIngestsAlong) {
  store_->Create("n", {{"a", "b"}});
  db_->Update([](Txn& t) {
    t.Put(ObjectKey("n", "leases", "l1"), "x");
    t.Put(ObjectKey("n", "leases", "l1/content/sha256:00"), "");
    t.Put(ObjectKey("n", "content", "ingest/ref"), "x");
  });
  EXPECT_TRUE(store_->Contents("n").empty());
  store_->Delete("n");
  EXPECT_FALSE(store_->Exists("n"));
  EXPECT_FALSE(db_->HasPrefix(NamespaceKey("n") + "/"));
  // A namespace created again starts empty.
  store_->Create("n", {});
  EXPECT_TRUE(store_->GetLabels("n").empty());
  EXPECT_FALSE(db_->HasPrefix(NamespaceKey("n") + "/"));
}

TEST_F(NamespaceStoreTest, DeleteMissingIsNotFound) {
  EXPECT_EQ(ErrorOf([&] { store_->Delete("nosuch"); }, errdefs::Code::kNotFound),
            "namespace \"nosuch\": not found");
}

TEST_F(NamespaceStoreTest, SurvivesReopen) {
  store_->Create("kept", {{"l", "v"}});
  Reopen();
  EXPECT_EQ(store_->List(), std::vector<std::string>{"kept"});
  EXPECT_EQ(store_->GetLabels("kept"), (Labels{{"l", "v"}}));
}

}  // namespace
}  // namespace mcd::metadata
