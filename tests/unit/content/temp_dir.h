#pragma once
// A temporary directory for a test, removed at the end.
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "pkg/fs.h"

namespace mcd::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/mcd-unit-XXXXXX";
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() { fs::RemoveAll(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace mcd::testing
