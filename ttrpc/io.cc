#include "ttrpc/io.h"

#include <boost/asio/executor_work_guard.hpp>
#include <exception>
#include <thread>

#include "pkg/log.h"

namespace mcd::ttrpc {

namespace {
constexpr int kIoThreads = 2;  // handlers never block; the machine is small

void RunLoop(boost::asio::io_context* io) {
  for (;;) {
    try {
      io->run();
      return;
    } catch (const std::exception& e) {
      // A handler that throws must not take the process down with it.
      log::Error("ttrpc io handler failed", {{"error", e.what()}});
    }
  }
}
}  // namespace

boost::asio::io_context& Io() {
  struct State {
    boost::asio::io_context io{kIoThreads};
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{
        io.get_executor()};
  };
  // Never destroyed: detached threads may still run while statics are torn
  // down at exit, and nothing needs flushing.
  static State* state = [] {
    auto* s = new State;
    for (int i = 0; i < kIoThreads; ++i) std::thread(RunLoop, &s->io).detach();
    return s;
  }();
  return state->io;
}

}  // namespace mcd::ttrpc
