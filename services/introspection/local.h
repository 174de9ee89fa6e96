#pragma once
// containerd.services.introspection.v1 logic: the plugin table with each
// plugin's status, and the server UUID kept under the plugin's root.
#include "github.com/containerd/containerd/api/services/introspection/v1/introspection.pb.h"
#include "pkg/context.h"
#include "plugins/plugin.h"

namespace mcd::services::introspection {

namespace api = containerd::services::introspection::v1;

class Local : public plugin::Instance {
 public:
  Local(const plugin::Set& set, std::string root) : set_(set), root_(std::move(root)) {}

  void Plugins(const Context& ctx, const api::PluginsRequest& req, api::PluginsResponse* resp);
  // Created on first use and kept: the UUID survives restarts.
  std::string UUID();

 private:
  const plugin::Set& set_;
  std::string root_;
  std::mutex mu_;
  std::string uuid_;
};

}  // namespace mcd::services::introspection
