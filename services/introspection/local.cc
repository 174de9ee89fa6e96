#include "services/introspection/local.h"

#include <openssl/rand.h>

#include "pkg/errdefs.h"
#include "pkg/filters.h"
#include "pkg/fs.h"

namespace mcd::services::introspection {
namespace {

// Which SkipPlugin marker ctr looks for to print "skip".
constexpr const char* kSkipText = "skip plugin";

std::string NewUUID() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) throw errdefs::Internal("no randomness for a UUID");
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

void FillPlugin(const plugin::Loaded& l, api::Plugin* p) {
  p->set_type(l.reg->type);
  p->set_id(l.reg->id);
  for (const auto& r : l.reg->requires_) p->add_requires_list(r);
  for (const auto& plat : l.platforms) {
    auto* pp = p->add_platforms();
    size_t a = plat.find('/');
    size_t b = plat.find('/', a == std::string::npos ? a : a + 1);
    pp->set_os(plat.substr(0, a));
    if (a != std::string::npos)
      pp->set_architecture(plat.substr(a + 1, b == std::string::npos ? b : b - a - 1));
    if (b != std::string::npos) pp->set_variant(plat.substr(b + 1));
  }
  for (const auto& [k, v] : l.exports) (*p->mutable_exports())[k] = v;
  for (const auto& c : l.capabilities) p->add_capabilities(c);
  if (l.status.state == plugin::Status::State::kSkipped) {
    p->mutable_init_err()->set_code(static_cast<int>(errdefs::Code::kUnknown));
    p->mutable_init_err()->set_message(l.status.message + ": " + kSkipText);
  } else if (l.status.state == plugin::Status::State::kError) {
    p->mutable_init_err()->set_code(l.status.code);
    p->mutable_init_err()->set_message(l.status.message);
  }
}

}  // namespace

void Local::Plugins(const Context&, const api::PluginsRequest& req, api::PluginsResponse* resp) {
  std::vector<std::string> fs(req.filters().begin(), req.filters().end());
  filters::Filter filter;
  try {
    filter = filters::ParseAll(fs);
  } catch (const errdefs::Error& e) {
    // containerd wraps ParseAll's error in InvalidArgument once more.
    throw errdefs::InvalidArgument(e.what());
  }
  for (const auto& l : set_.All()) {
    // As containerd: only type and id can be filtered on (platforms and
    // capabilities never match).
    auto adaptor = [&](const std::vector<std::string>& path) -> std::optional<std::string> {
      if (path.empty()) return std::nullopt;
      if (path[0] == "type" && !l->reg->type.empty()) return l->reg->type;
      if (path[0] == "id" && !l->reg->id.empty()) return l->reg->id;
      return std::nullopt;
    };
    if (filter.Match(adaptor)) FillPlugin(*l, resp->add_plugins());
  }
}

std::string Local::UUID() {
  std::lock_guard lk(mu_);
  if (!uuid_.empty()) return uuid_;
  std::string path = root_ + "/uuid";
  try {
    uuid_ = fs::ReadFile(path);
  } catch (const errdefs::Error& e) {
    if (e.code() != errdefs::Code::kNotFound) throw;
    fs::MkdirAll(root_, 0700);
    uuid_ = NewUUID();
    fs::WriteFileAtomic(path, uuid_, 0644);
  }
  return uuid_;
}

namespace {
plugin::Registrar reg{{
    .type = plugin::kService,
    .id = "introspection-service",
    .requires_ = {},
    .config = {},
    .init = [](plugin::InitContext& ic) -> std::shared_ptr<plugin::Instance> {
      // containerd keeps the UUID under its grpc introspection plugin's root.
      auto l = std::make_shared<Local>(ic.plugins(),
                                       ic.daemon.root + "/io.containerd.grpc.v1.introspection");
      l->UUID();  // create it at start so restarts keep the first one
      return l;
    },
}};
}  // namespace

}  // namespace mcd::services::introspection
