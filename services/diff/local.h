#pragma once
// containerd.services.diff.v1 logic (io.containerd.service.v1 "diff-service"):
// the differs named by its `default` config, tried in order.
#include <memory>
#include <vector>

#include "diff/walking.h"
#include "github.com/containerd/containerd/api/services/diff/v1/diff.pb.h"
#include "pkg/context.h"

namespace mcd::services::diff {

namespace api = containerd::services::diff::v1;

class Local : public plugin::Instance {
 public:
  explicit Local(std::vector<std::shared_ptr<mcd::diff::Walking>> differs)
      : differs_(std::move(differs)) {}
  void Apply(const Context& ctx, const api::ApplyRequest& req, api::ApplyResponse* resp);
  void Diff(const Context& ctx, const api::DiffRequest& req, api::DiffResponse* resp);

 private:
  std::vector<std::shared_ptr<mcd::diff::Walking>> differs_;
};

}  // namespace mcd::services::diff
