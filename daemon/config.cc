#include "daemon/config.h"

#include <fmt/format.h>

#include <set>
#include <sstream>

#include "pkg/errdefs.h"
#include "pkg/fs.h"

namespace mcd::daemon {
namespace {

struct Ctx {
  const std::string& source;
  std::vector<std::string>* warnings;
};

std::string Where(const Ctx& c, const toml::node& n, const std::string& key) {
  auto src = n.source();
  return fmt::format("{}:{}: {}", c.source, src.begin.line, key);
}

[[noreturn]] void Bad(const Ctx& c, const toml::node& n, const std::string& key,
                      const std::string& why) {
  throw errdefs::InvalidArgument(fmt::format("invalid config {}: {}", Where(c, n, key), why));
}

void Warn(const Ctx& c, const toml::node& n, const std::string& key) {
  if (c.warnings) c.warnings->push_back(fmt::format("unknown config key {}", Where(c, n, key)));
}

void GetString(const Ctx& c, const toml::node& n, const std::string& key, std::string* out) {
  auto v = n.value<std::string>();
  if (!n.is_string() || !v) Bad(c, n, key, "expected a string");
  *out = *v;
}

void GetInt(const Ctx& c, const toml::node& n, const std::string& key, int64_t* out) {
  if (!n.is_integer()) Bad(c, n, key, "expected an integer");
  *out = *n.value<int64_t>();
}

void GetStrings(const Ctx& c, const toml::node& n, const std::string& key,
                std::vector<std::string>* out) {
  const auto* arr = n.as_array();
  if (!arr) Bad(c, n, key, "expected an array of strings");
  out->clear();
  for (const auto& e : *arr) {
    if (!e.is_string()) Bad(c, e, key, "expected an array of strings");
    out->push_back(*e.value<std::string>());
  }
}

const toml::table& Table(const Ctx& c, const toml::node& n, const std::string& key) {
  const auto* t = n.as_table();
  if (!t) Bad(c, n, key, "expected a table");
  return *t;
}

// Keys containerd accepts that this daemon does not act on: accepted quietly
// so that a real containerd config loads.
const std::set<std::string> kIgnoredTopLevel = {
    "temp", "plugin_dir", "metrics", "proxy_plugins", "stream_processors", "timeouts", "imports"};

}  // namespace

Config ParseConfig(const std::string& text, const std::string& source,
                   std::vector<std::string>* warnings) {
  toml::table doc;
  try {
    doc = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    throw errdefs::InvalidArgument(fmt::format("invalid config {}:{}:{}: {}", source,
                                               e.source().begin.line, e.source().begin.column,
                                               e.description()));
  }
  Ctx c{source, warnings};
  Config cfg;
  cfg.source = source;
  for (const auto& [k, node] : doc) {
    std::string key(k.str());
    if (key == "version") {
      int64_t v;
      GetInt(c, node, key, &v);
      if (v < 0 || v > 2) Bad(c, node, key, fmt::format("unsupported version {}, expected 2", v));
      // containerd takes 0 as 1: the version dockerd writes for the
      // containerd it starts itself ("version = 0", plugins by short id).
      cfg.version = v == 2 ? 2 : 1;
      cfg.version_given = true;
      if (cfg.version == 1 && warnings) {
        warnings->push_back(
            "containerd config version `1` has been deprecated and will be removed in containerd "
            "v2.0, please switch to version `2`, see "
            "https://github.com/containerd/containerd/blob/main/docs/PLUGINS.md#version-header");
      }
    } else if (key == "root") {
      GetString(c, node, key, &cfg.root);
    } else if (key == "state") {
      GetString(c, node, key, &cfg.state);
    } else if (key == "disabled_plugins") {
      GetStrings(c, node, key, &cfg.disabled_plugins);
    } else if (key == "required_plugins") {
      GetStrings(c, node, key, &cfg.required_plugins);
    } else if (key == "grpc") {
      for (const auto& [sk, sn] : Table(c, node, key)) {
        std::string s = "grpc." + std::string(sk.str());
        if (sk == "address")
          GetString(c, sn, s, &cfg.grpc.address);
        else if (sk == "uid")
          GetInt(c, sn, s, &cfg.grpc.uid);
        else if (sk == "gid")
          GetInt(c, sn, s, &cfg.grpc.gid);
        else if (sk == "max_recv_message_size")
          GetInt(c, sn, s, &cfg.grpc.max_recv_message_size);
        else if (sk == "max_send_message_size")
          GetInt(c, sn, s, &cfg.grpc.max_send_message_size);
        else if (sk == "tcp_address" || sk == "tcp_tls_cert" || sk == "tcp_tls_key" ||
                 sk == "tcp_tls_ca") {
          std::string ignored;
          GetString(c, sn, s, &ignored);
        } else
          Warn(c, sn, s);
      }
    } else if (key == "ttrpc") {
      for (const auto& [sk, sn] : Table(c, node, key)) {
        std::string s = "ttrpc." + std::string(sk.str());
        if (sk == "address")
          GetString(c, sn, s, &cfg.ttrpc.address);
        else if (sk == "uid")
          GetInt(c, sn, s, &cfg.ttrpc.uid);
        else if (sk == "gid")
          GetInt(c, sn, s, &cfg.ttrpc.gid);
        else
          Warn(c, sn, s);
      }
    } else if (key == "debug") {
      for (const auto& [sk, sn] : Table(c, node, key)) {
        std::string s = "debug." + std::string(sk.str());
        if (sk == "address")
          GetString(c, sn, s, &cfg.debug.address);
        else if (sk == "uid")
          GetInt(c, sn, s, &cfg.debug.uid);
        else if (sk == "gid")
          GetInt(c, sn, s, &cfg.debug.gid);
        else if (sk == "level")
          GetString(c, sn, s, &cfg.debug.level);
        else if (sk == "format") {
          GetString(c, sn, s, &cfg.debug.format);
          if (cfg.debug.format != "text" && cfg.debug.format != "json" && !cfg.debug.format.empty())
            Bad(c, sn, s, "expected \"text\" or \"json\"");
        } else
          Warn(c, sn, s);
      }
    } else if (key == "cgroup") {
      for (const auto& [sk, sn] : Table(c, node, key)) {
        std::string s = "cgroup." + std::string(sk.str());
        if (sk == "path")
          GetString(c, sn, s, &cfg.cgroup.path);
        else
          Warn(c, sn, s);
      }
    } else if (key == "oom_score") {
      GetInt(c, node, key, &cfg.oom_score);
    } else if (key == "plugins") {
      cfg.plugins = Table(c, node, key);
    } else if (kIgnoredTopLevel.count(key)) {
      continue;
    } else {
      Warn(c, node, key);
    }
  }
  cfg.doc = std::make_shared<const toml::table>(std::move(doc));
  return cfg;
}

Config LoadConfig(const std::string& path, std::vector<std::string>* warnings) {
  return ParseConfig(fs::ReadFile(path), path, warnings);
}

namespace {

std::string TypeName(toml::node_type t) {
  std::ostringstream os;
  os << t;
  return os.str();
}

// Overlays `user` onto `out` (a copy of the defaults), checking types where
// the defaults say what a key holds.
void Merge(const Ctx& c, const std::string& prefix, const toml::table& user, toml::table& out) {
  for (const auto& [k, un] : user) {
    std::string key = prefix + "." + std::string(k.str());
    toml::node* dn = out.get(k.str());
    if (!dn) {
      Warn(c, un, key);
      out.insert_or_assign(k.str(), un);
      continue;
    }
    if (dn->is_table() && un.is_table()) {
      Merge(c, key, *un.as_table(), *dn->as_table());
      continue;
    }
    bool same = dn->type() == un.type() || (dn->is_number() && un.is_number() &&
                                            !(dn->is_integer() && un.is_floating_point()));
    if (!same) {
      Bad(c, un, key,
          fmt::format("expected {}, got {}", TypeName(dn->type()), TypeName(un.type())));
    }
    out.insert_or_assign(k.str(), un);
  }
}

}  // namespace

std::string ShortId(const std::string& uri) {
  // "<a>.<b>.<c>.<vN>.<id>": types have four parts, the id is the rest.
  size_t pos = 0;
  for (int i = 0; i < 4 && pos != std::string::npos; ++i) {
    pos = uri.find('.', pos);
    if (pos != std::string::npos) ++pos;
  }
  return pos == std::string::npos ? uri : uri.substr(pos);
}

bool NamesPlugin(const Config& cfg, const plugin::Registration& reg, const std::string& name) {
  if (cfg.version == 1) return name == reg.id;
  return name == reg.URI() || (!cfg.version_given && name == reg.id);
}

toml::table PluginConfig(const Config& cfg, const plugin::Registration& reg,
                         std::vector<std::string>* warnings) {
  toml::table out = reg.config;
  auto uris = reg.config_aliases;
  uris.push_back(reg.URI());
  // Version 1 names plugin sections by id ([plugins.bolt]); a file without a
  // version may use either (the id's section first, the URI's over it).
  if (cfg.version == 1) {
    for (auto& u : uris) u = ShortId(u);
  } else if (!cfg.version_given) {
    std::vector<std::string> both;
    for (const auto& u : uris) both.push_back(ShortId(u));
    both.insert(both.end(), uris.begin(), uris.end());
    uris = std::move(both);
  }
  for (const auto& uri : uris) {
    const toml::table* user = nullptr;
    if (cfg.doc) {
      if (const auto* p = cfg.doc->get_as<toml::table>("plugins"))
        user = p->get_as<toml::table>(uri);
    } else {
      user = cfg.plugins.get_as<toml::table>(uri);
    }
    if (user) {
      Ctx c{cfg.source, warnings};
      Merge(c, "plugins.\"" + uri + "\"", *user, out);
    }
  }
  return out;
}

std::string Render(const Config& cfg, const std::vector<plugin::Registration>& regs) {
  toml::table doc;
  // Always version 2 (URI keys), whatever the file said, as containerd dumps.
  doc.insert("version", 2);
  doc.insert("root", cfg.root);
  doc.insert("state", cfg.state);
  toml::array disabled, required;
  for (const auto& d : cfg.disabled_plugins) disabled.push_back(d);
  for (const auto& r : cfg.required_plugins) required.push_back(r);
  doc.insert("disabled_plugins", disabled);
  doc.insert("required_plugins", required);
  doc.insert("oom_score", cfg.oom_score);
  doc.insert("cgroup", toml::table{{"path", cfg.cgroup.path}});
  doc.insert("grpc", toml::table{{"address", cfg.grpc.address},
                                 {"uid", cfg.grpc.uid},
                                 {"gid", cfg.grpc.gid},
                                 {"max_recv_message_size", cfg.grpc.max_recv_message_size},
                                 {"max_send_message_size", cfg.grpc.max_send_message_size}});
  doc.insert(
      "ttrpc",
      toml::table{{"address", cfg.ttrpc.address}, {"uid", cfg.ttrpc.uid}, {"gid", cfg.ttrpc.gid}});
  doc.insert("debug", toml::table{{"address", cfg.debug.address},
                                  {"uid", cfg.debug.uid},
                                  {"gid", cfg.debug.gid},
                                  {"level", cfg.debug.level},
                                  {"format", cfg.debug.format}});
  toml::table plugins;
  for (const auto& r : regs) plugins.insert(r.URI(), PluginConfig(cfg, r, nullptr));
  // Sections for plugins this build does not have are kept as written.
  for (const auto& [k, v] : cfg.plugins) {
    if (!plugins.contains(k.str())) plugins.insert(k.str(), v);
  }
  doc.insert("plugins", plugins);
  std::ostringstream os;
  // Double-quoted strings and keys, as containerd's `config default` prints.
  constexpr auto flags =
      toml::toml_formatter::default_flags & ~toml::format_flags::allow_literal_strings;
  os << toml::toml_formatter(doc, flags) << "\n";
  return os.str();
}

}  // namespace mcd::daemon
