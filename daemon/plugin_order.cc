#include "daemon/plugin_order.h"

namespace mcd::daemon {

const std::vector<std::string>& ContainerdPluginOrder() {
  // containerd 1.6.20's `ctr plugins ls` on Linux, less the snapshotters this
  // daemon has not (aufs, devmapper, zfs); its bolt metadata plugin's
  // place is taken by rocksdb. Listed in that order, each plugin already
  // follows everything it requires, so the graph keeps it.
  static const std::vector<std::string> order = {
      "io.containerd.content.v1.content",
      "io.containerd.snapshotter.v1.btrfs",
      "io.containerd.snapshotter.v1.native",
      "io.containerd.snapshotter.v1.overlayfs",
      "io.containerd.metadata.v1.rocksdb",
      "io.containerd.differ.v1.walking",
      "io.containerd.event.v1.exchange",
      "io.containerd.gc.v1.scheduler",
      "io.containerd.service.v1.introspection-service",
      "io.containerd.service.v1.containers-service",
      "io.containerd.service.v1.content-service",
      "io.containerd.service.v1.diff-service",
      "io.containerd.service.v1.images-service",
      "io.containerd.service.v1.leases-service",
      "io.containerd.service.v1.namespaces-service",
      "io.containerd.service.v1.snapshots-service",
      "io.containerd.runtime.v1.linux",
      "io.containerd.runtime.v2.task",
      "io.containerd.monitor.v1.cgroups",
      "io.containerd.service.v1.tasks-service",
      "io.containerd.grpc.v1.introspection",
      "io.containerd.internal.v1.restart",
      "io.containerd.grpc.v1.containers",
      "io.containerd.grpc.v1.content",
      "io.containerd.grpc.v1.diff",
      "io.containerd.grpc.v1.events",
      "io.containerd.grpc.v1.healthcheck",
      "io.containerd.grpc.v1.images",
      "io.containerd.grpc.v1.leases",
      "io.containerd.grpc.v1.namespaces",
      "io.containerd.internal.v1.opt",
      "io.containerd.grpc.v1.snapshots",
      "io.containerd.grpc.v1.tasks",
      "io.containerd.grpc.v1.version",
  };
  return order;
}

}  // namespace mcd::daemon
