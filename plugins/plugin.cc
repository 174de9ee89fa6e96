#include "plugins/plugin.h"

#include <algorithm>
#include <set>

#include "pkg/errdefs.h"

namespace mcd::plugin {

Registry& Registry::Global() {
  static Registry r;
  return r;
}

void Registry::Register(Registration r) {
  for (const auto& e : regs_) {
    if (e.type == r.type && e.id == r.id) {
      throw std::logic_error("plugin " + r.URI() + " registered twice");
    }
  }
  regs_.push_back(std::move(r));
}

void Registry::Order(const std::vector<std::string>& uris) {
  auto rank = [&](const Registration& r) {
    auto it = std::find(uris.begin(), uris.end(), r.URI());
    return it - uris.begin();
  };
  std::stable_sort(regs_.begin(), regs_.end(),
                   [&](const Registration& a, const Registration& b) { return rank(a) < rank(b); });
}

std::shared_ptr<Instance> Set::Get(const std::string& type) const {
  for (const auto& l : all_) {
    if (l->reg->type == type && l->instance) return l->instance;
  }
  throw errdefs::NotFound("no plugins registered for " + type);
}

std::shared_ptr<Instance> Set::Get(const std::string& type, const std::string& id) const {
  for (const auto& l : all_) {
    if (l->reg->type == type && l->reg->id == id) {
      if (l->instance) return l->instance;
      throw errdefs::NotFound("plugin " + l->reg->URI() + " not initialised: " + l->status.message);
    }
  }
  throw errdefs::NotFound("plugin " + type + "." + id);
}

std::vector<std::shared_ptr<Loaded>> Set::OfType(const std::string& type) const {
  std::vector<std::shared_ptr<Loaded>> out;
  for (const auto& l : all_) {
    if (l->reg->type == type) out.push_back(l);
  }
  return out;
}

InitContext::InitContext(const Registration& reg, const DaemonInfo& daemon,
                         const toml::table& config, events::Exchange* events, const Set& set,
                         Loaded& self)
    : registration(reg),
      daemon(daemon),
      root(daemon.root + "/" + reg.URI()),
      state(daemon.state + "/" + reg.URI()),
      config(config),
      events(events),
      set_(set),
      self_(self) {}

std::vector<const Registration*> Graph(const std::vector<Registration>& regs,
                                       const std::vector<std::string>& disabled) {
  auto is_disabled = [&](const Registration& r) {
    return std::find(disabled.begin(), disabled.end(), r.URI()) != disabled.end();
  };
  std::vector<const Registration*> live;
  std::set<std::string> types;
  for (const auto& r : regs) {
    if (is_disabled(r)) continue;
    live.push_back(&r);
    types.insert(r.type);
  }
  // A requirement must name a type someone registered (disabled ones count:
  // disabling a provider is the user's choice, not a broken build).
  std::set<std::string> all_types;
  for (const auto& r : regs) all_types.insert(r.type);
  for (const auto* r : live) {
    for (const auto& req : r->requires_) {
      if (req != "*" && !all_types.count(req)) {
        throw errdefs::InvalidArgument("plugin " + r->URI() + " requires unknown plugin type " +
                                       req);
      }
    }
  }

  // Depth-first topological sort: 0 unvisited, 1 on the stack, 2 done.
  std::vector<const Registration*> order;
  std::map<const Registration*, int> mark;
  std::vector<std::string> path;
  std::function<void(const Registration*)> visit = [&](const Registration* r) {
    if (mark[r] == 2) return;
    if (mark[r] == 1) {
      std::string cycle;
      for (const auto& p : path) cycle += p + " -> ";
      throw errdefs::InvalidArgument("plugin dependency cycle: " + cycle + r->URI());
    }
    mark[r] = 1;
    path.push_back(r->URI());
    for (const auto& req : r->requires_) {
      for (const auto* dep : live) {
        if (dep == r) continue;
        bool wildcard = req == "*";
        // "*" means every other type; two "*" plugins do not depend on each other.
        if (wildcard) {
          bool dep_wild =
              std::find(dep->requires_.begin(), dep->requires_.end(), "*") != dep->requires_.end();
          if (dep->type == r->type || dep_wild) continue;
        } else if (dep->type != req) {
          continue;
        }
        visit(dep);
      }
    }
    path.pop_back();
    mark[r] = 2;
    order.push_back(r);
  };
  for (const auto* r : live) visit(r);
  return order;
}

}  // namespace mcd::plugin
