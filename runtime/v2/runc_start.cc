#include "runtime/v2/runc_start.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <nlohmann/json.hpp>

#include "github.com/containerd/containerd/runtime/v2/runc/options/oci.pb.h"
#include "pkg/errdefs.h"
#include "pkg/fd.h"
#include "pkg/log.h"
#include "pkg/process.h"
#include "runtime/v2/shim_launch.h"

namespace mcd::runtime {
namespace {

using namespace std::chrono_literals;

constexpr const char* kRuncV2 = "containerd-shim-runc-v2";
constexpr const char* kRuncOptions = "containerd.runc.v1.Options";

// The annotations the runc v2 shim groups containers by (its manager's
// groupLabels).
constexpr const char* kGroupLabels[] = {"io.containerd.runc.v2.group",
                                        "io.kubernetes.cri.sandbox-id"};

bool IsElf(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  char magic[4];
  return fd && ::read(fd.get(), magic, 4) == 4 &&
         std::memcmp(magic,
                     "\x7f"
                     "ELF",
                     4) == 0;
}

}  // namespace

// An ELF file whose `-v` says 1.6. A script in its place (a wrapper that
// records how it is called, say) is not the shim whose `start` this skips.
bool RuncStart::IsRunc16(const std::string& binary) {
  if (!IsElf(binary)) {
    log::Debug("not the runc shim's executable", {{"binary", binary}});
    return false;
  }
  try {
    process::Options o;
    o.argv = {binary, "-v"};
    o.timeout = 5s;
    auto r = process::Run(o);
    std::string v = ParseVersion(r.out);
    log::Debug("runc shim version", {{"binary", binary}, {"version", v}});
    return r.exit_code == 0 && SupportedVersion(v);
  } catch (const std::exception& e) {
    log::Debug("runc shim version", {{"binary", binary}, {"error", e.what()}});
    return false;
  }
}

std::string RuncStart::ParseVersion(const std::string& out) {
  // "<argv0>:\n  Version:  1.6.20~ds1\n  Revision: ...\n"
  size_t at = out.find("\n  Version:");
  if (at == std::string::npos) return "";
  size_t from = out.find_first_not_of(' ', at + 11);
  if (from == std::string::npos) return "";
  size_t end = out.find('\n', from);
  return out.substr(from, end == std::string::npos ? std::string::npos : end - from);
}

bool RuncStart::SupportedVersion(const std::string& v) {
  // The `start` this replaces is 1.6's; other lines' may do other work.
  return v.starts_with("1.6.") || v.starts_with("v1.6.");
}

bool RuncStart::Grouped(const std::string& spec) {
  auto j = nlohmann::json::parse(spec, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return true;  // its `start` reports that
  auto a = j.find("annotations");
  if (a == j.end() || !a->is_object()) return false;
  for (const char* g : kGroupLabels)
    if (a->contains(g)) return true;
  return false;
}

bool RuncStart::Known(const std::string& binary) {
  struct stat st;
  if (::stat(binary.c_str(), &st) != 0) return false;
  std::lock_guard lk(mu_);
  auto it = known_.find(binary);
  if (it != known_.end() && it->second.dev == st.st_dev && it->second.ino == st.st_ino &&
      it->second.mtime.tv_sec == st.st_mtim.tv_sec &&
      it->second.mtime.tv_nsec == st.st_mtim.tv_nsec && it->second.size == st.st_size)
    return it->second.ok;
  // Once per binary (and again when it is replaced): one short process.
  bool ok = is_runc16_(binary);
  known_[binary] = {st.st_dev, st.st_ino, st.st_mtim, st.st_size, ok};
  return ok;
}

bool RuncStart::Applies(const ShimCommand& cmd, const std::string& spec,
                        const google::protobuf::Any* options) {
  const char* sched_core = std::getenv("SCHED_CORE");
  if (std::filesystem::path(cmd.binary).filename() != kRuncV2 || cmd.sched_core ||
      (sched_core && *sched_core))
    return false;
  if (options && !options->value().empty()) {
    containerd::runc::v1::Options o;
    // containerd's typeurl writes the bare message name; other writers
    // prefix it.
    const std::string& url = options->type_url();
    if ((url != kRuncOptions && !url.ends_with(std::string("/") + kRuncOptions)) ||
        !o.ParseFromString(options->value()) || !o.shim_cgroup().empty())
      return false;
  }
  // filepath.Join would clean these; the socket's name must match exactly.
  const std::string& a = cmd.grpc_address;
  if (a.empty() || a[0] != '/' || a.find("/./") != std::string::npos ||
      a.find("/../") != std::string::npos || a.ends_with("/.") || a.ends_with("/.."))
    return false;
  return !Grouped(spec) && Known(cmd.binary);
}

std::optional<std::string> RuncStart::Start(const ShimCommand& cmd) {
  const std::string address = SocketAddress(cmd.grpc_address, cmd.ns, cmd.id);
  UniqueFd sock = ListenShimSocket(address, StaleSocket::kKeepIfAnswering);
  if (!sock) return std::nullopt;
  pid_t pid = -1;
  try {
    // The shim daemon reads it back to remove its socket on shutdown.
    WriteBundleFile(cmd.bundle, "address", address);
    // `start` runs os.Executable(): the binary with its symlinks resolved.
    std::error_code ec;
    std::string self = std::filesystem::canonical(cmd.binary, ec).string();
    if (ec) self = cmd.binary;
    std::vector<std::string> argv = {self,   "-namespace", cmd.ns,          "-id",
                                     cmd.id, "-address",   cmd.grpc_address};
    if (cmd.debug) argv.push_back("-debug");
    process::SpawnOptions so{.exe = self,
                             .argv = std::move(argv),
                             .extra_env = {"GOMAXPROCS=4", "TTRPC_ADDRESS=" + cmd.ttrpc_address},
                             .cwd = cmd.bundle,
                             .new_process_group = true,
                             .fds = {-1, -1, -1, sock.get()}};
    if (int rc = process::Spawn(so, &pid); rc != 0)
      throw errdefs::Unknown("fork/exec " + cmd.binary + ": " + errdefs::ErrnoText(rc));
    // The shim owns the socket now. Closing this copy means a shim that dies
    // before accepting resets the daemon's connection instead of leaving it
    // queued.
    sock.reset();
    ReapOnExit(pid, nullptr);
    AdjustOOMScore(pid);
  } catch (...) {
    if (pid > 0) ::kill(pid, SIGKILL);
    RemoveSocket(address);
    throw;
  }
  log::Debug("shim started without its start command",
             {{"id", cmd.id}, {"namespace", cmd.ns}, {"pid", std::to_string(pid)}});
  return address;
}

}  // namespace mcd::runtime
