#pragma once
// containerd.services.images.v1 logic (the io.containerd.service.v1 plugin
// "images-service"): proto <-> store records, events, and a synchronous
// garbage collection for Delete with sync.
#include <memory>

#include "events/exchange.h"
#include "github.com/containerd/containerd/api/services/images/v1/images.pb.h"
#include "metadata/gc_scheduler.h"
#include "metadata/images.h"
#include "pkg/context.h"

namespace mcd::services::images {

namespace api = containerd::services::images::v1;

class Local : public plugin::Instance {
 public:
  Local(std::shared_ptr<metadata::DB> db, std::shared_ptr<metadata::gc::Scheduler> gc,
        events::Exchange* events)
      : store_(std::move(db)), gc_(std::move(gc)), events_(events) {}

  void Get(const Context& ctx, const api::GetImageRequest& req, api::GetImageResponse* resp);
  void List(const Context& ctx, const api::ListImagesRequest& req, api::ListImagesResponse* resp);
  void Create(const Context& ctx, const api::CreateImageRequest& req,
              api::CreateImageResponse* resp);
  void Update(const Context& ctx, const api::UpdateImageRequest& req,
              api::UpdateImageResponse* resp);
  void Delete(const Context& ctx, const api::DeleteImageRequest& req);

  static void ToProto(const metadata::Image& img, api::Image* out);
  static metadata::Image FromProto(const api::Image& img);

 private:
  metadata::ImageStore store_;
  std::shared_ptr<metadata::gc::Scheduler> gc_;
  events::Exchange* events_;
};

}  // namespace mcd::services::images
