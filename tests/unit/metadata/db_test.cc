// The RocksDB wrapper's prefix scans, in and out of a transaction, at the
// edges of the key space (bounded iterators must not cut a scan short).
#include "metadata/db.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>

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

}  // namespace
}  // namespace mcd::metadata
