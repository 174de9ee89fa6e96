#pragma once
// The container store: v1/<ns>/containers/<id> = records.Container, with
// containerd 1.6's validation, field-path updates and error wording
// (containerd/metadata/containers.go).
#include <memory>
#include <string>
#include <vector>

#include "mcd/containers.pb.h"
#include "metadata/db.h"

namespace mcd::metadata {

struct Container {
  std::string id;
  records::Container rec;
};

class ContainerStore {
 public:
  explicit ContainerStore(std::shared_ptr<DB> db) : db_(std::move(db)) {}

  // NotFound `container "<id>" in namespace "<ns>"`.
  Container Get(const std::string& ns, const std::string& id) const;
  // Filters: containerd's language over id, image, runtime.name, labels.<k>.
  std::vector<Container> List(const std::string& ns, const std::vector<std::string>& filters) const;
  // Stamps created/updated; AlreadyExists `container "<id>"`.
  Container Create(const std::string& ns, Container c);
  // Field paths: labels, labels.<k>, spec, extensions, extensions.<k>, image,
  // snapshotkey; none = replace those (snapshotter and runtime name must not
  // change).
  Container Update(const std::string& ns, const Container& c,
                   const std::vector<std::string>& fieldpaths);
  // NotFound when absent.
  void Delete(const std::string& ns, const std::string& id);

 private:
  std::shared_ptr<DB> db_;
};

}  // namespace mcd::metadata
