#pragma once
// Shared helpers of the ttrpc unit tests: a private socket directory, a
// one-shot latch, and waiting on futures without hanging the suite.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <string>

#include "pkg/errdefs.h"

namespace mcd::ttrpc::test {

class SocketDir {
 public:
  SocketDir() {
    char tmpl[] = "/tmp/mcd-ttrpc-XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp");
    path_ = tmpl;
  }
  ~SocketDir() { std::filesystem::remove_all(path_); }
  std::string Sock(const std::string& name = "t.sock") const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Released once; waiters block until then.
class Latch {
 public:
  void Release() { p_.set_value(); }
  void Wait() { f_.wait(); }

 private:
  std::promise<void> p_;
  std::shared_future<void> f_{p_.get_future().share()};
};

// A one-shot notification a callback may still fire after the test's scope
// ended (callbacks run on io threads, possibly late on a failure path).
class Signal {
 public:
  std::function<void()> Notifier() const {
    return [p = p_] {
      try {
        p->set_value();
      } catch (const std::future_error&) {
      }
    };
  }
  std::future<void>& future() { return f_; }

 private:
  std::shared_ptr<std::promise<void>> p_ = std::make_shared<std::promise<void>>();
  std::future<void> f_ = p_->get_future();
};

// Bounds how long a test can hang on a broken implementation; not a timing
// assertion (the bound is far above any expected time).
inline constexpr auto kHang = std::chrono::seconds(20);

template <class T>
T Get(std::future<T>& f) {
  if (f.wait_for(kHang) != std::future_status::ready) throw std::runtime_error("test hung");
  return f.get();
}

// The code of the errdefs::Error `fn` throws (kOk if none).
template <class Fn>
errdefs::Code CodeOf(Fn&& fn, std::string* msg = nullptr) {
  try {
    fn();
  } catch (const errdefs::Error& e) {
    if (msg) *msg = e.what();
    return e.code();
  }
  return errdefs::Code::kOk;
}

}  // namespace mcd::ttrpc::test
