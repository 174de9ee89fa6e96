#pragma once
// Shared pieces of the foundation integration tests.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/integration/support/harness.h"

namespace mcd::itest {

// Non-empty lines of ctr's tabular output, split on runs of spaces/tabs.
std::vector<std::vector<std::string>> Rows(const std::string& out);

// A fixture with one started daemon on a fresh temporary directory.
class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Require("ctr");
    d_ = std::make_unique<Daemon>(dir_.path());
    d_->Start();
  }
  process::Result C(const std::vector<std::string>& args) { return Ctr(*d_, args); }

  TempDir dir_;
  std::unique_ptr<Daemon> d_;
};

// Runs the daemon binary to completion (for start-ups that must fail).
process::Result RunDaemonBinary(const std::vector<std::string>& args);

}  // namespace mcd::itest
