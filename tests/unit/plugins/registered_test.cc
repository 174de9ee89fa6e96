// Linked like the daemon (every module, whole archive): each plugin the
// daemon must offer registered itself. Add yours to the list.
#include <gtest/gtest.h>

#include <set>

#include "plugins/plugin.h"

namespace mcd::plugin {
namespace {

TEST(Registered, EveryExpectedPlugin) {
  std::set<std::string> have;
  for (const auto& r : Registry::Global().All()) have.insert(r.URI());
  for (const char* uri : {
           "io.containerd.event.v1.exchange",
           "io.containerd.metadata.v1.rocksdb",
           "io.containerd.service.v1.introspection-service",
           "io.containerd.service.v1.namespaces-service",
           "io.containerd.grpc.v1.introspection",
           "io.containerd.grpc.v1.namespaces",
           "io.containerd.grpc.v1.version",
           "io.containerd.grpc.v1.healthcheck",
           "io.containerd.gc.v1.scheduler",
           "io.containerd.content.v1.content",
           "io.containerd.snapshotter.v1.btrfs",
           "io.containerd.service.v1.containers-service",
           "io.containerd.service.v1.content-service",
           "io.containerd.service.v1.images-service",
           "io.containerd.service.v1.leases-service",
           "io.containerd.grpc.v1.containers",
           "io.containerd.grpc.v1.content",
           "io.containerd.grpc.v1.events",
           "io.containerd.grpc.v1.images",
           "io.containerd.grpc.v1.leases",
           "io.containerd.runtime.v1.linux",
           "io.containerd.monitor.v1.cgroups",
       }) {
    EXPECT_TRUE(have.count(uri)) << uri << " is not registered";
  }
}

TEST(Registered, GraphOfAllPluginsIsValid) {
  const auto& regs = Registry::Global().All();
  auto order = Graph(regs);
  EXPECT_EQ(order.size(), regs.size());
  for (const auto& r : regs) {
    EXPECT_TRUE(r.init) << r.URI() << " has no init";
    EXPECT_FALSE(r.type.empty());
    EXPECT_FALSE(r.id.empty());
  }
}

}  // namespace
}  // namespace mcd::plugin
