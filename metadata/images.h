#pragma once
// The image store: v1/<ns>/images/<name> = records.Image, with containerd
// 1.6's validation, field-path updates and error wording
// (containerd/metadata/images.go). Images are GC roots (metadata/gc.h).
#include <memory>
#include <string>
#include <vector>

#include "mcd/images.pb.h"
#include "metadata/db.h"

namespace mcd::metadata {

struct Image {
  std::string name;
  records::Image rec;
};

class ImageStore {
 public:
  explicit ImageStore(std::shared_ptr<DB> db) : db_(std::move(db)) {}

  // NotFound `image "<name>"`.
  Image Get(const std::string& ns, const std::string& name) const;
  // Filters over name, target.digest, target.mediatype, labels.<k>,
  // annotations.<k>.
  std::vector<Image> List(const std::string& ns, const std::vector<std::string>& filters) const;
  // AlreadyExists `image "<name>"`.
  Image Create(const std::string& ns, Image img);
  // Field paths: labels, labels.<k>, target, annotations, annotations.<k>;
  // none = replace everything.
  Image Update(const std::string& ns, const Image& img, const std::vector<std::string>& fieldpaths);
  void Delete(const std::string& ns, const std::string& name);

 private:
  std::shared_ptr<DB> db_;
};

}  // namespace mcd::metadata
