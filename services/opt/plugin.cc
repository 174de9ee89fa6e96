// Plugin io.containerd.internal.v1 / opt: the managed opt directory that
// `ctr install` (client.Install) fills with an image's bin/ (and lib/). The
// client finds the directory through introspection (exports "path"); the
// daemon puts its bin/ first on PATH and lib/ on LD_LIBRARY_PATH, so an
// installed shim or runc is what runtimes resolve and shims inherit.
#include <cstdlib>
#include <string>

#include "pkg/errdefs.h"
#include "pkg/fs.h"
#include "plugins/plugin.h"

namespace mcd::services::opt {
namespace {

class Opt final : public plugin::Instance {};

// Plugins initialise before any request thread exists: setenv is safe here.
void Set(const char* var, const std::string& v) {
  if (::setenv(var, v.c_str(), 1) != 0) throw errdefs::FromErrno(errno, std::string("set ") + var);
}

void Prepend(const char* var, const std::string& dir) {
  const char* old = std::getenv(var);
  Set(var, old && *old ? dir + ":" + old : dir);
}

// Libraries: last, so an installed lib/ never shadows the system's; and no
// empty entry, which the loader would read as the working directory.
void Append(const char* var, const std::string& dir) {
  const char* old = std::getenv(var);
  Set(var, old && *old ? std::string(old) + ":" + dir : dir);
}

plugin::Registrar reg{{
    .type = plugin::kInternal,
    .id = "opt",
    .requires_ = {},
    .config = toml::table{{"path", "/opt/containerd"}},
    .init = [](plugin::InitContext& ic) -> std::shared_ptr<plugin::Instance> {
      auto path = ic.config["path"].value<std::string>();
      if (!path || path->empty() || (*path)[0] != '/')
        throw errdefs::InvalidArgument("opt path must be an absolute path");
      // Install writes into bin/ and lib/ but does not create them.
      fs::MkdirAll(*path + "/bin", 0711);
      fs::MkdirAll(*path + "/lib", 0711);
      Prepend("PATH", *path + "/bin");
      Append("LD_LIBRARY_PATH", *path + "/lib");
      ic.exports()["path"] = *path;
      return std::make_shared<Opt>();
    },
}};

}  // namespace
}  // namespace mcd::services::opt
