// The RocksDB wrapper's prefix scans, in and out of a transaction, at the
// edges of the key space (bounded iterators must not cut a scan short).
#include "metadata/db.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <rocksdb/table_properties.h>

#include <algorithm>
#include <filesystem>

#include "pkg/fs.h"

namespace mcd::metadata {
namespace {

class DBTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mcd-unit-db-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    db_ = DB::Open(dir_ + "/db");
  }
  void TearDown() override {
    db_->Close();
    db_.reset();
    fs::RemoveAll(dir_);
  }
  std::vector<std::string> Keys(std::string_view prefix) {
    std::vector<std::string> out;
    db_->Scan(prefix, [&](std::string_view k, std::string_view) {
      out.emplace_back(k);
      return true;
    });
    return out;
  }
  std::string dir_;
  std::shared_ptr<DB> db_;
};

TEST_F(DBTest, ScanSeesExactlyThePrefixPastTombstones) {
  const std::string ff = "a\xff";
  db_->Update([&](Txn& t) {
    for (int i = 0; i < 1000; ++i) t.Put("p/dead" + std::to_string(i), "x");
    t.Put("p/live", "1");
    t.Put(ff, "2");
    t.Put(ff + "\xff", "3");
    t.Put("b", "4");
  });
  db_->Update([&](Txn& t) {
    for (int i = 0; i < 1000; ++i) t.Delete("p/dead" + std::to_string(i));
  });
  EXPECT_EQ(Keys("p/"), std::vector<std::string>{"p/live"});
  EXPECT_EQ(Keys("p/dead"), std::vector<std::string>{});
  EXPECT_EQ(Keys(ff), (std::vector<std::string>{ff, ff + "\xff"}));
  EXPECT_EQ(Keys(ff + "\xff"), std::vector<std::string>{ff + "\xff"});
  EXPECT_EQ(Keys("\xff").size(), 0u);
  auto all = Keys("");  // also the database's own schema key
  EXPECT_EQ(std::count(all.begin(), all.end(), "b"), 1);
  EXPECT_EQ(std::count(all.begin(), all.end(), ff + "\xff"), 1);
  // Inside a transaction: the batch's own writes join the bounded scan.
  db_->Update([&](Txn& t) {
    t.Put("p/new", "5");
    std::vector<std::string> seen;
    t.Scan("p/", [&](std::string_view k, std::string_view) {
      seen.emplace_back(k);
      return true;
    });
    EXPECT_EQ(seen, (std::vector<std::string>{"p/live", "p/new"}));
    t.Scan(ff, [&](std::string_view k, std::string_view) {
      seen.emplace_back(k);
      return true;
    });
    EXPECT_EQ(seen.size(), 4u);
  });
}

// Tombstones do not pile up: past kCompactAfterDeletes deleted keys a
// background compaction drops them, so scans stay as fast as on a young
// database (bench/metadata_bench.cc measures the difference).
TEST_F(DBTest, DeletedKeysAreCompactedAway) {
  auto deletes = [&] {
    uint64_t mem = 0;
    EXPECT_TRUE(db_->raw()->GetIntProperty("rocksdb.num-deletes-active-mem-table", &mem));
    uint64_t imm = 0;
    EXPECT_TRUE(db_->raw()->GetIntProperty("rocksdb.num-deletes-imm-mem-tables", &imm));
    rocksdb::TablePropertiesCollection tables;
    EXPECT_TRUE(db_->raw()->GetPropertiesOfAllTables(&tables).ok());
    uint64_t on_disk = 0;
    for (const auto& [name, props] : tables) on_disk += props->num_deletions;
    return mem + imm + on_disk;
  };
  const size_t n = DB::kCompactAfterDeletes + DB::kCompactAfterDeletes / 2;
  for (size_t i = 0; i < n; ++i) {
    const std::string key = "v1/ns/containers/c" + std::to_string(i);
    db_->Update([&](Txn& t) { t.Put(key, "x"); });
    db_->Update([&](Txn& t) { t.Delete(key); });
  }
  db_->Update([&](Txn& t) { t.Put("v1/ns/containers/live", "x"); });
  db_->WaitForIdle();
  // Only the deletes after the last compaction are left.
  EXPECT_LT(deletes(), DB::kCompactAfterDeletes);
  EXPECT_EQ(Keys("v1/ns/containers/"), std::vector<std::string>{"v1/ns/containers/live"});
  // Closing while a compaction may run returns (it is cancelled).
  for (size_t i = 0; i < DB::kCompactAfterDeletes; ++i) {
    db_->Update([&, i](Txn& t) { t.Delete("v1/ns/containers/x" + std::to_string(i)); });
  }
  db_->Close();
  db_ = DB::Open(dir_ + "/db");
  EXPECT_EQ(Keys("v1/ns/containers/"), std::vector<std::string>{"v1/ns/containers/live"});
}

// Each open replays and keeps the logs written since the last flush; a
// daemon restarted often must not collect them without bound (each start
// would replay them all).
TEST_F(DBTest, RestartsDoNotPileUpLogs) {
  auto logs = [&] {
    size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir_ + "/db")) {
      if (e.path().extension() == ".log") ++n;
    }
    return n;
  };
  for (int i = 0; i < 12; ++i) {
    db_->Update([&](Txn& t) { t.Put("k" + std::to_string(i), "v"); });
    db_->Close();
    db_ = DB::Open(dir_ + "/db");
    db_->WaitForIdle();
  }
  EXPECT_LE(logs(), DB::kMaxLogsAtOpen + 1);
  for (int i = 0; i < 12; ++i) EXPECT_TRUE(db_->Get("k" + std::to_string(i))) << i;
  // Restarts that write nothing leave empty logs: those go too.
  for (int i = 0; i < 12; ++i) {
    db_->Close();
    db_ = DB::Open(dir_ + "/db");
  }
  EXPECT_LE(logs(), DB::kMaxLogsAtOpen + 1);
}

}  // namespace
}  // namespace mcd::metadata
