#pragma once
// The plugin model, as containerd's: each plugin registers itself from its own
// .cc through a static Registrar; the daemon orders the registrations by their
// requirements and initialises them, giving each an InitContext.
#include <toml++/toml.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mcd::events {
class Exchange;
}

namespace mcd::plugin {

// containerd's plugin types.
inline constexpr const char* kEvent = "io.containerd.event.v1";
inline constexpr const char* kMetadata = "io.containerd.metadata.v1";
inline constexpr const char* kContent = "io.containerd.content.v1";
inline constexpr const char* kSnapshot = "io.containerd.snapshotter.v1";
inline constexpr const char* kDiff = "io.containerd.differ.v1";
inline constexpr const char* kGC = "io.containerd.gc.v1";
inline constexpr const char* kService = "io.containerd.service.v1";
inline constexpr const char* kRuntime = "io.containerd.runtime.v1";  // runtime v1
inline constexpr const char* kRuntimeV2 = "io.containerd.runtime.v2";
inline constexpr const char* kGRPC = "io.containerd.grpc.v1";
inline constexpr const char* kTTRPC = "io.containerd.ttrpc.v1";
inline constexpr const char* kInternal = "io.containerd.internal.v1";

// Every plugin instance derives from this so lookups can be type-checked.
class Instance {
 public:
  virtual ~Instance() = default;
  // Called once the daemon listens (gRPC and ttrpc): work that needs the
  // sockets up, such as cleaning dead shims whose delete may publish events.
  virtual void Serving() {}
  // Called in reverse initialisation order at shutdown, before Close, when
  // the daemon's state is thrown away with it (--ephemeral): release what
  // would outlive it, such as running containers.
  virtual void Discard() {}
  // Called in reverse initialisation order at shutdown.
  virtual void Close() {}
};

// containerd's platforms.DefaultString() for this machine: "linux/amd64",
// "linux/arm64", else "linux/<uname machine>".
std::string DefaultPlatform();

class InitContext;

struct Registration {
  std::string type;
  std::string id;
  std::vector<std::string> requires_;  // plugin types; "*" = every other type
  toml::table config;                  // defaults of [plugins."<type>.<id>"]
  std::function<std::shared_ptr<Instance>(InitContext&)> init;
  // Other "<type>.<id>" sections also read (before the plugin's own), so a
  // containerd config naming its plugin (e.g. the metadata "bolt") applies.
  std::vector<std::string> config_aliases = {};

  std::string URI() const { return type + "." + id; }
};

// Thrown by init to say "not for this machine" (ctr shows status "skip").
class SkipPlugin : public std::runtime_error {
 public:
  explicit SkipPlugin(const std::string& why) : std::runtime_error(why) {}
};

// What a running daemon knows of a plugin, for introspection.
struct Status {
  enum class State { kOk, kSkipped, kError };
  State state = State::kOk;
  std::string message;  // reason or error
  int code = 0;         // gRPC code of the error
};

struct Loaded {
  const Registration* reg = nullptr;
  std::shared_ptr<Instance> instance;  // null unless ok
  Status status;
  std::map<std::string, std::string> exports;
  std::vector<std::string> capabilities;
  std::vector<std::string> platforms;  // "os/arch"
};

// Everything already initialised, in initialisation order.
class Set {
 public:
  void Add(std::shared_ptr<Loaded> l) { all_.push_back(std::move(l)); }
  const std::vector<std::shared_ptr<Loaded>>& All() const { return all_; }
  // First ok instance of a type; NotFound when none.
  std::shared_ptr<Instance> Get(const std::string& type) const;
  std::shared_ptr<Instance> Get(const std::string& type, const std::string& id) const;
  std::vector<std::shared_ptr<Loaded>> OfType(const std::string& type) const;

 private:
  std::vector<std::shared_ptr<Loaded>> all_;
};

struct DaemonInfo {
  std::string root;           // daemon root
  std::string state;          // daemon state
  std::string grpc_address;   // unix socket path
  std::string ttrpc_address;  // unix socket path
  std::string binary;         // path of this executable (shims' -publish-binary)
  std::string tmp_mounts;     // <root>/tmpmounts: where temporary mounts go, as containerd's
};

class InitContext {
 public:
  InitContext(const Registration& reg, const DaemonInfo& daemon, const toml::table& config,
              events::Exchange* events, const Set& set, Loaded& self);

  const Registration& registration;
  const DaemonInfo& daemon;
  std::string root;           // <daemon root>/<type>.<id>
  std::string state;          // <daemon state>/<type>.<id>
  const toml::table& config;  // defaults merged with the user's section
  events::Exchange* events;

  std::shared_ptr<Instance> Get(const std::string& type) const { return set_.Get(type); }
  std::shared_ptr<Instance> Get(const std::string& type, const std::string& id) const {
    return set_.Get(type, id);
  }
  template <class T>
  std::shared_ptr<T> GetAs(const std::string& type) const;
  template <class T>
  std::shared_ptr<T> GetAs(const std::string& type, const std::string& id) const;
  const Set& plugins() const { return set_; }

  // Introspection data of the plugin being initialised.
  std::map<std::string, std::string>& exports() { return self_.exports; }
  std::vector<std::string>& capabilities() { return self_.capabilities; }
  std::vector<std::string>& platforms() { return self_.platforms; }  // "os/arch[/variant]"
  // Advertises the daemon's own platform (DefaultPlatform()).
  void AddDefaultPlatform() { self_.platforms.push_back(DefaultPlatform()); }

 private:
  const Set& set_;
  Loaded& self_;
};

// The registry: a function-local static, so registrars in any translation
// unit can run before main without an initialisation-order problem.
class Registry {
 public:
  static Registry& Global();
  void Register(Registration r);
  const std::vector<Registration>& All() const { return regs_; }
  // Puts the registrations in the order of `uris` (the rest after them, as
  // registered): registration order breaks the graph's ties. Call before
  // taking pointers into All().
  void Order(const std::vector<std::string>& uris);

 private:
  std::vector<Registration> regs_;
};

struct Registrar {
  explicit Registrar(Registration r) { Registry::Global().Register(std::move(r)); }
};

// Orders registrations so each comes after every plugin of the types it
// requires. Throws errdefs::InvalidArgument naming the plugin on a cycle or a
// requirement no registration provides. Registration order breaks ties.
std::vector<const Registration*> Graph(const std::vector<Registration>& regs,
                                       const std::vector<std::string>& disabled = {});

template <class T>
std::shared_ptr<T> InitContext::GetAs(const std::string& type) const {
  auto p = std::dynamic_pointer_cast<T>(Get(type));
  if (!p) throw std::runtime_error("plugin of type " + type + " has an unexpected class");
  return p;
}
template <class T>
std::shared_ptr<T> InitContext::GetAs(const std::string& type, const std::string& id) const {
  auto p = std::dynamic_pointer_cast<T>(Get(type, id));
  if (!p) throw std::runtime_error("plugin " + type + "." + id + " has an unexpected class");
  return p;
}

}  // namespace mcd::plugin
