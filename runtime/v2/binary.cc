#include "runtime/v2/binary.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "github.com/containerd/containerd/runtime/v2/task/shim.pb.h"
#include "pkg/errdefs.h"
#include "pkg/fs.h"
#include "pkg/strings.h"
#include "pkg/timestamp.h"

namespace mcd::runtime {
namespace {

bool IsFile(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && !S_ISDIR(st.st_mode);
}

}  // namespace

std::string BinaryName(const std::string& runtime) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dot = runtime.find('.', start);
    parts.push_back(runtime.substr(start, dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (parts.size() < 2 || parts[0].empty()) return "";
  return "containerd-shim-" + parts[parts.size() - 2] + "-" + parts.back();
}

std::string RuntimeResolver::Resolve(const std::string& runtime) {
  if (runtime.empty()) throw errdefs::InvalidArgument("no runtime name");
  if (runtime[0] == '/') {
    // As containerd: only stat's failure is checked here (wrapping Go's
    // error, so no class suffix); anything else fails when it is run.
    struct stat st;
    if (::stat(runtime.c_str(), &st) != 0) {
      throw errdefs::Error(errdefs::Code::kNotFound, "invalid custom binary path: stat " + runtime +
                                                         ": " + errdefs::ErrnoText(errno));
    }
    return runtime;
  }
  std::string name = BinaryName(runtime);
  // A name must not smuggle a path in: the shim name becomes an argv[0].
  // containerd's is a plain error: no class suffix.
  if (name.empty() || name.find('/') != std::string::npos)
    throw errdefs::Error(
        errdefs::Code::kInvalidArgument,
        "invalid runtime name " + runtime +
            ", correct runtime name should be either format like `io.containerd.runc.v1` or a "
            "full path to the binary");
  {
    std::lock_guard lk(mu_);
    if (auto it = cache_.find(name); it != cache_.end()) return it->second;
  }
  std::string path = process::LookPath(name);
  if (path.empty() && !self_.empty()) {
    std::string beside = self_.substr(0, self_.rfind('/') + 1) + name;
    if (IsFile(beside) && ::access(beside.c_str(), X_OK) == 0) path = beside;
  }
  if (path.empty())
    // containerd wraps os.ErrNotExist here, so no class suffix is added.
    throw errdefs::Error(
        errdefs::Code::kNotFound,
        "runtime \"" + runtime + "\" binary not installed \"" + name + "\": file does not exist");
  if (path[0] != '/') {
    char cwd[4096];
    if (::getcwd(cwd, sizeof cwd)) path = std::string(cwd) + "/" + path;
  }
  std::lock_guard lk(mu_);
  return cache_.emplace(name, path).first->second;
}

process::Options ShimCommand::Base(std::vector<std::string> args) const {
  process::Options o;
  o.argv = {binary, "-namespace", ns, "-address", grpc_address, "-publish-binary", self};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.cwd = bundle;
  o.new_process_group = true;  // a signal to the daemon's group must not reach shims
  o.extra_env = {"GOMAXPROCS=2", "TTRPC_ADDRESS=" + ttrpc_address};
  if (sched_core) o.extra_env.push_back("SCHED_CORE=1");
  return o;
}

process::Options ShimCommand::Start(const std::string& options_any) const {
  std::vector<std::string> args = {"-id", id};
  if (debug) args.push_back("-debug");
  args.push_back("start");
  process::Options o = Base(std::move(args));
  o.stdin_data = options_any;
  o.merge_stderr = true;  // containerd reads CombinedOutput
  return o;
}

process::Options ShimCommand::Delete() const {
  std::vector<std::string> args = {"-id", id, "-bundle", bundle};
  if (debug) args.push_back("-debug");
  args.push_back("delete");
  return Base(std::move(args));
}

std::string ParseAddress(const std::string& out) {
  std::string a = TrimSpace(out);
  if (a.empty()) throw errdefs::InvalidArgument("shim returned no address");
  if (a.find('\n') != std::string::npos || a.size() > 4096)
    throw errdefs::InvalidArgument("shim returned a malformed address: " + a);
  // containerd's dialer: "unix://" + path is a path socket; anything
  // without the scheme is an abstract socket name.
  if (a.rfind("unix://", 0) == 0) {
    if (a.size() == 7) throw errdefs::InvalidArgument("shim returned an empty unix address");
    return a;
  }
  return "@" + (a[0] == '@' ? a.substr(1) : a);
}

std::string ReadAddress(const std::string& bundle) {
  return TrimSpace(fs::ReadFile(bundle + "/address"));
}

Exit ParseDeleteOutput(const std::string& out) {
  containerd::task::v2::DeleteResponse r;
  if (!r.ParseFromString(out))
    throw errdefs::InvalidArgument("shim delete returned a malformed response");
  Exit e;
  e.pid = r.pid();
  e.status = r.exit_status();
  e.at = FromTimestamp(r.exited_at());
  return e;
}

}  // namespace mcd::runtime
