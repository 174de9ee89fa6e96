#include "tests/integration/events/watch.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>

namespace mcd::itest {
namespace {

int MillisLeft(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

}  // namespace

LogWatch::LogWatch(const std::string& path)
    : path_(path), inotify_(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) {
  if (!inotify_ || ::inotify_add_watch(inotify_.get(), path.c_str(), IN_MODIFY) < 0) {
    throw std::runtime_error("inotify on " + path);
  }
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  offset_ = ::lseek(fd.get(), 0, SEEK_END);
}

bool LogWatch::WaitFor(const std::string& needle, std::chrono::seconds timeout, bool at_end) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    // Read what was appended, then look for the needle line by line.
    UniqueFd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
    char buf[65536];
    ssize_t n;
    while ((n = ::pread(fd.get(), buf, sizeof buf, offset_)) > 0) {
      pending_.append(buf, static_cast<size_t>(n));
      offset_ += n;
    }
    size_t nl;
    while ((nl = pending_.find('\n')) != std::string::npos) {
      std::string line = pending_.substr(0, nl);
      pending_.erase(0, nl + 1);
      if (at_end ? line.size() >= needle.size() &&
                       line.compare(line.size() - needle.size(), needle.size(), needle) == 0
                 : line.find(needle) != std::string::npos)
        return true;
    }
    pollfd p{inotify_.get(), POLLIN, 0};
    if (::poll(&p, 1, MillisLeft(deadline)) <= 0) return false;
    char ev[4096];
    while (::read(inotify_.get(), ev, sizeof ev) > 0) {
    }
  }
}

Background::Background(const std::vector<std::string>& argv) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(p[1], 1);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(p[1]);
  out_.reset(p[0]);
}

Background::~Background() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

std::optional<std::string> Background::ReadLine(std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    size_t nl = buf_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buf_.substr(0, nl);
      buf_.erase(0, nl + 1);
      return line;
    }
    pollfd p{out_.get(), POLLIN, 0};
    if (::poll(&p, 1, MillisLeft(deadline)) <= 0) return std::nullopt;
    char b[4096];
    ssize_t n = ::read(out_.get(), b, sizeof b);
    if (n <= 0) return std::nullopt;
    buf_.append(b, static_cast<size_t>(n));
  }
}

}  // namespace mcd::itest
