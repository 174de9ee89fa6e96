#pragma once
// containerd's config.toml (version 2, and the deprecated version 1 that
// names plugins by id, which dockerd writes for the containerd it starts): the fields the daemon
// reads, plus each plugin's section merged over that plugin's registered defaults.
#include <toml++/toml.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "plugins/plugin.h"

namespace mcd::daemon {

struct Config {
  int version = 2;  // 1 or 2 (a file's 0 is 1, as containerd)
  // False for a file without a `version` key. containerd reads such a file as
  // version 1; this daemon reads it both ways (plugins by URI or by id), so
  // neither an old [plugins.linux] file nor a newer one that forgot the key
  // is silently ignored.
  bool version_given = false;
  std::string root = "/var/lib/minicontainerd";
  std::string state = "/run/minicontainerd";
  struct {
    std::string address = "/run/minicontainerd/minicontainerd.sock";
    int64_t uid = 0;
    int64_t gid = 0;
    int64_t max_recv_message_size = 16 << 20;  // containerd's defaults
    int64_t max_send_message_size = 16 << 20;
  } grpc;
  struct {
    std::string address;  // empty: <grpc address>.ttrpc
    int64_t uid = 0;
    int64_t gid = 0;
  } ttrpc;
  struct {
    std::string address;
    int64_t uid = 0;
    int64_t gid = 0;
    std::string level = "info";
    std::string format = "text";
  } debug;
  struct {
    std::string path;  // the daemon's own cgroup (daemon/cgroup.h)
  } cgroup;
  int64_t oom_score = 0;  // the daemon's oom_score_adj; 0: left alone
  std::vector<std::string> disabled_plugins;
  std::vector<std::string> required_plugins;
  toml::table plugins;            // [plugins."<type>.<id>"] as written by the user
  std::string source = "config";  // file the values came from, for errors
  // The parsed file: its nodes know their lines (copies do not).
  std::shared_ptr<const toml::table> doc;

  std::string TtrpcAddress() const {
    return ttrpc.address.empty() ? grpc.address + ".ttrpc" : ttrpc.address;
  }
};

// Parses a config file's text. Unknown keys are returned in `warnings`; a bad
// value throws errdefs InvalidArgument naming the file, line, key and reason.
Config ParseConfig(const std::string& text, const std::string& source,
                   std::vector<std::string>* warnings);
Config LoadConfig(const std::string& path, std::vector<std::string>* warnings);

// Whether `name` (from disabled_plugins or required_plugins) names the plugin:
// its URI (version 2), its id (version 1, as containerd), either when the
// file has no version.
bool NamesPlugin(const Config& cfg, const plugin::Registration& reg, const std::string& name);
// The id part of a plugin URI ("io.containerd.metadata.v1.bolt" -> "bolt").
std::string ShortId(const std::string& uri);

// The effective section of one plugin: its defaults with the user's values
// over them. A user value of another type than the default's throws; keys
// the plugin does not know are kept and reported in warnings.
toml::table PluginConfig(const Config& cfg, const plugin::Registration& reg,
                         std::vector<std::string>* warnings);

// The whole config as TOML, with every registered plugin's section
// (`config default` without user input, `config dump` with it).
std::string Render(const Config& cfg, const std::vector<plugin::Registration>& regs);

}  // namespace mcd::daemon
