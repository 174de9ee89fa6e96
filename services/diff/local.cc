#include "services/diff/local.h"

#include "pkg/errdefs.h"
#include "pkg/mount.h"

namespace mcd::services::diff {
namespace {

namespace md = mcd::diff;

md::Descriptor FromProto(const containerd::types::Descriptor& d) {
  md::Descriptor out;
  out.media_type = d.media_type();
  out.digest = d.digest();
  out.size = d.size();
  out.annotations.insert(d.annotations().begin(), d.annotations().end());
  return out;
}

void ToProto(const md::Descriptor& d, containerd::types::Descriptor* out) {
  out->set_media_type(d.media_type);
  out->set_digest(d.digest);
  out->set_size(d.size);
  for (const auto& [k, v] : d.annotations) (*out->mutable_annotations())[k] = v;
}

// containerd tries each differ and moves on when one says "not implemented".
template <class Fn>
md::Descriptor FirstThatSupports(const std::vector<std::shared_ptr<md::Walking>>& differs, Fn fn) {
  std::exception_ptr last;
  for (const auto& d : differs) {
    try {
      return fn(*d);
    } catch (const errdefs::Error& e) {
      if (e.code() != errdefs::Code::kUnimplemented) throw;
      last = std::current_exception();
    }
  }
  if (last) std::rethrow_exception(last);
  throw errdefs::NotImplemented("no differ");
}

}  // namespace

void Local::Apply(const Context& ctx, const api::ApplyRequest& req, api::ApplyResponse* resp) {
  auto mounts = mount::FromProto(req.mounts());
  auto layer = FromProto(req.diff());
  ToProto(FirstThatSupports(differs_, [&](md::Walking& w) { return w.Apply(ctx, layer, mounts); }),
          resp->mutable_applied());
}

void Local::Diff(const Context& ctx, const api::DiffRequest& req, api::DiffResponse* resp) {
  auto left = mount::FromProto(req.left());
  auto right = mount::FromProto(req.right());
  std::map<std::string, std::string> labels(req.labels().begin(), req.labels().end());
  ToProto(FirstThatSupports(differs_,
                            [&](md::Walking& w) {
                              return w.Compare(ctx, left, right, req.media_type(), req.ref(),
                                               labels);
                            }),
          resp->mutable_diff());
}

namespace {
plugin::Registrar reg{{
    .type = plugin::kService,
    .id = "diff-service",
    .requires_ = {plugin::kDiff},
    .config = toml::table{{"default", toml::array{"walking"}}},
    .init = [](plugin::InitContext& ic) -> std::shared_ptr<plugin::Instance> {
      std::vector<std::shared_ptr<mcd::diff::Walking>> differs;
      if (auto* names = ic.config["default"].as_array()) {
        for (const auto& n : *names) {
          std::string id = n.value_or(std::string());
          auto inst = ic.Get(plugin::kDiff, id);  // NotFound when not loaded
          auto w = std::dynamic_pointer_cast<mcd::diff::Walking>(inst);
          if (!w)
            throw errdefs::Unknown("differ does not implement Comparer and Applier interface: " +
                                   id);
          differs.push_back(std::move(w));
        }
      }
      return std::make_shared<Local>(std::move(differs));
    },
}};
}  // namespace

}  // namespace mcd::services::diff
