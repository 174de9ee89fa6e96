// containerd's oci-hook: runc runs the hook with the container state on
// stdin; the templates let a hook command get the pid, bundle or rootfs
// without parsing that JSON itself (e.g. `ps --pid {{pid}}`).
#include "daemon/oci_hook.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "pkg/errdefs.h"
#include "pkg/fs.h"
#include "pkg/strings.h"

extern char** environ;

namespace mcd::daemon {

namespace {

constexpr size_t kMaxState = 1 << 20;  // a state document is a few hundred bytes

// One action body ("pid", "annotation \"k\"") to its value.
std::string Eval(const std::string& action, const HookState& st) {
  std::string body = TrimSpace(action);
  std::string name = body, arg;
  bool has_arg = false;
  if (size_t sp = body.find_first_of(" \t"); sp != std::string::npos) {
    name = body.substr(0, sp);
    std::string rest = TrimSpace(body.substr(sp));
    if (rest.size() < 2 || rest.front() != '"' || rest.back() != '"') {
      throw std::runtime_error("template: oci-hook:1: bad argument in {{" + action + "}}");
    }
    arg = rest.substr(1, rest.size() - 2);
    has_arg = true;
  }
  if (name == "annotation") {
    if (!has_arg) throw std::runtime_error("template: oci-hook:1: annotation needs a key");
    auto it = st.annotations.find(arg);
    return it == st.annotations.end() ? "" : it->second;
  }
  if (has_arg) throw std::runtime_error("template: oci-hook:1: too many arguments to " + name);
  if (name == "id") return st.id;
  if (name == "pid") return std::to_string(st.pid);
  if (name == "bundle") return st.bundle;
  if (name == "rootfs") return st.rootfs;
  if (name == "status") return st.status;
  throw std::runtime_error("template: oci-hook:1: function \"" + name + "\" not defined");
}

}  // namespace

std::string RenderHookTemplate(const std::string& src, const HookState& st) {
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t open = src.find("{{", pos);
    if (open == std::string::npos) {
      out.append(src, pos);
      return out;
    }
    size_t close = src.find("}}", open + 2);
    if (close == std::string::npos) {
      throw std::runtime_error("template: oci-hook:1: unclosed action in \"" + src + "\"");
    }
    out.append(src, pos, open - pos);
    out += Eval(src.substr(open + 2, close - open - 2), st);
    pos = close + 2;
  }
}

int OciHook(std::vector<std::string> args) {
  if (args.empty()) throw errdefs::InvalidArgument("oci-hook: no command given");
  std::string data;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
    if (data.size() > kMaxState) throw errdefs::InvalidArgument("oci-hook: state too large");
  }
  HookState st;
  try {
    auto j = nlohmann::json::parse(data);
    st.id = j.value("id", "");
    st.pid = j.value("pid", 0);
    st.bundle = j.value("bundle", "");
    st.status = j.value("status", "");
    if (auto a = j.find("annotations"); a != j.end() && a->is_object()) {
      for (auto& [k, v] : a->items()) {
        if (v.is_string()) st.annotations[k] = v.get<std::string>();
      }
    }
    auto spec = nlohmann::json::parse(fs::ReadFile(st.bundle + "/config.json"));
    std::string root;
    if (auto r = spec.find("root"); r != spec.end() && r->is_object()) root = r->value("path", "");
    st.rootfs = std::filesystem::path(root).is_absolute()
                    ? root
                    : (std::filesystem::path(st.bundle) / root).string();
  } catch (const nlohmann::json::exception& e) {
    throw errdefs::InvalidArgument(std::string("oci-hook: ") + e.what());
  }

  for (auto& a : args) a = RenderHookTemplate(a, st);
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) env.push_back(RenderHookTemplate(*e, st));

  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  ::execve(argv[0], argv.data(), envp.data());
  throw std::runtime_error("oci-hook: exec " + args[0] + ": " + std::strerror(errno));
}

}  // namespace mcd::daemon
