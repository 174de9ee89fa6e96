// minicontainerd: the daemon, its config subcommands and the publish helper
// shims run through -publish-binary.
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <filesystem>

#include <absl/synchronization/mutex.h>
#include <CLI/CLI.hpp>
#include <climits>
#include <cstdio>
#include <iostream>

#include "daemon/cgroup.h"
#include "daemon/config.h"
#include "daemon/ephemeral.h"
#include "daemon/oci_hook.h"
#include "daemon/publish.h"
#include "daemon/server.h"
#include "pkg/errdefs.h"
#include "pkg/fs.h"
#include "pkg/log.h"

#ifndef MCD_VERSION
#define MCD_VERSION "0.0.0"
#endif

namespace {

std::string SelfPath(const char* argv0) {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n > 0) return std::string(buf, static_cast<size_t>(n));
  return argv0;
}

struct Flags {
  std::string config_path;
  std::string root, state, address, log_level;
  bool ephemeral = false;
};

mcd::daemon::Config Load(const Flags& f, bool allow_missing_default) {
  using mcd::daemon::Config;
  std::vector<std::string> warnings;
  Config cfg;
  std::string path = f.config_path;
  if (path.empty() && allow_missing_default && mcd::fs::Exists("/etc/minicontainerd/config.toml"))
    path = "/etc/minicontainerd/config.toml";
  if (!path.empty()) cfg = mcd::daemon::LoadConfig(path, &warnings);
  if (!f.root.empty()) cfg.root = f.root;
  if (!f.state.empty()) cfg.state = f.state;
  if (!f.address.empty()) cfg.grpc.address = f.address;
  if (!f.log_level.empty()) cfg.debug.level = f.log_level;
  // Shims run in their bundle directory and get these paths, so relative
  // ones are resolved here, once, against the daemon's working directory.
  for (std::string* p : {&cfg.root, &cfg.state, &cfg.grpc.address, &cfg.ttrpc.address}) {
    if (!p->empty() && p->front() != '/' && p->front() != '@' && !p->starts_with("unix://")) {
      *p = std::filesystem::absolute(*p).string();
    }
  }
  mcd::log::Level level;
  if (!mcd::log::ParseLevel(cfg.debug.level, &level)) {
    throw mcd::errdefs::InvalidArgument("unknown log level " + cfg.debug.level);
  }
  mcd::log::Setup(level,
                  cfg.debug.format == "json" ? mcd::log::Format::kJson : mcd::log::Format::kText);
  for (const auto& w : warnings) mcd::log::Warn(w);
  return cfg;
}

int RunDaemon(const Flags& f, const std::string& self) {
  // Signals are taken synchronously by this thread; every thread started
  // later inherits the mask.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  std::unique_ptr<mcd::daemon::Ephemeral> eph;
  Flags flags = f;
  if (f.ephemeral) {
    eph = std::make_unique<mcd::daemon::Ephemeral>();
    if (flags.root.empty()) flags.root = eph->root();
    if (flags.state.empty()) flags.state = eph->state();
    if (flags.address.empty()) flags.address = eph->address();
  }
  auto cfg = Load(flags, true);
  if (eph) {
    auto it = cfg.plugins.insert("io.containerd.internal.v1.opt", toml::table{}).first;
    if (auto* t = it->second.as_table(); t && !t->contains("path")) t->insert("path", eph->opt());
  }
  mcd::log::Info("starting containerd", {{"revision", "minicontainerd"}, {"version", MCD_VERSION}});
  if (cfg.oom_score != 0) mcd::daemon::SetOomScore(::getpid(), static_cast<int>(cfg.oom_score));
  if (!cfg.cgroup.path.empty()) mcd::daemon::JoinCgroup(cfg.cgroup.path, ::getpid());
  mcd::daemon::Server server(cfg, self);
  server.LoadPlugins();
  server.Serve();
  if (eph) eph->Announce(cfg.grpc.address);

  int sig = 0;
  sigwait(&set, &sig);
  mcd::log::Info("stop received", {{"signal", sig == SIGINT ? "interrupt" : "terminated"}});
  server.Shutdown(eph != nullptr);
  mcd::log::Info("containerd successfully shutdown", {});
  return 0;
}

// Index of an `oci-hook` subcommand in argv (after any global options), or 0.
int OciHookIndex(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "oci-hook") return i;
    if (a.empty() || a[0] != '-') return 0;
    bool takes_value = a == "-c" || a == "--config" || a == "--root" || a == "--state" ||
                       a == "-a" || a == "--address" || a == "-l" || a == "--log-level";
    if (takes_value) ++i;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Debian builds abseil without NDEBUG, which leaves its lock-order checking
  // on: every absl::Mutex that gRPC takes updates a process-wide graph under
  // a global lock, and a suspected cycle aborts the daemon.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  CLI::App app{"minicontainerd: a containerd-compatible daemon", "minicontainerd"};
  app.set_version_flag("-v,--version", "minicontainerd " MCD_VERSION " (containerd API 1.6.20)");
  Flags f;
  app.add_option("-c,--config", f.config_path, "path to the configuration file");
  app.add_option("--root", f.root, "containerd root directory");
  app.add_option("--state", f.state, "containerd state directory");
  app.add_option("-a,--address", f.address, "address for containerd's GRPC server");
  app.add_option("-l,--log-level", f.log_level,
                 "set the logging level [trace, debug, info, warn, error, fatal, panic]");
  app.add_flag("--ephemeral", f.ephemeral,
               "throwaway root, state and socket under /tmp, removed on exit");

  auto* config = app.add_subcommand("config", "information on the containerd config");
  config->require_subcommand(1);
  auto* cdefault = config->add_subcommand("default", "see the output of the default config");
  auto* cdump = config->add_subcommand(
      "dump", "see the output of the final main config with imported in subconfig files");

  mcd::daemon::PublishFlags pf;
  auto* publish = app.add_subcommand("publish", "binary to publish events to containerd");
  publish->add_option("--topic", pf.topic, "topic of the event")->required();
  publish->add_option("--namespace", pf.ns, "namespace to publish to")->required();

  // Listed for --help; run before parsing (below) because everything after
  // it is the hook's own command line, flags included.
  app.add_subcommand("oci-hook",
                     "provides a base for OCI runtime hooks to allow arguments to be injected.");
  if (int at = OciHookIndex(argc, argv); at > 0) {
    std::vector<std::string> args(argv + at + 1, argv + argc);
    if (!args.empty() && args.front() == "--") args.erase(args.begin());
    try {
      return mcd::daemon::OciHook(std::move(args));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "minicontainerd: %s\n", e.what());
      return 1;
    }
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    const std::string self = SelfPath(argv[0]);
    if (*cdefault) {
      mcd::daemon::Config cfg;
      std::cout << mcd::daemon::Render(cfg, mcd::plugin::Registry::Global().All());
      return 0;
    }
    if (*cdump) {
      auto cfg = Load(f, true);
      std::cout << mcd::daemon::Render(cfg, mcd::plugin::Registry::Global().All());
      return 0;
    }
    if (*publish) {
      pf.address = f.address;
      return mcd::daemon::Publish(pf);
    }
    return RunDaemon(f, self);
  } catch (const std::exception& e) {
    // One line, as containerd's "containerd: <error>".
    std::fprintf(stderr, "minicontainerd: %s\n", e.what());
    return 1;
  }
}
