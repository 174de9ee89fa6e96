#pragma once
// The running tasks of a runtime by namespace and id, as both the v2
// TaskManager and the v1 runtime keep them. It does no locking: the owner
// holds its own mutex around every call (that mutex also guards the owner's
// other state, which must change atomically with the table).
#include <map>
#include <string>
#include <vector>

namespace mcd::runtime {

// V is a shared_ptr-like handle (null when absent).
template <class V>
class TaskTable {
 public:
  // The entry, or a null V.
  V Find(const std::string& ns, const std::string& id) const {
    auto it = by_ns_.find(ns);
    if (it == by_ns_.end()) return V();
    auto e = it->second.find(id);
    return e == it->second.end() ? V() : e->second;
  }

  // Every entry of a namespace; empty ns: of all namespaces.
  std::vector<V> List(const std::string& ns) const {
    std::vector<V> out;
    for (const auto& [n, m] : by_ns_) {
      if (!ns.empty() && n != ns) continue;
      for (const auto& [id, v] : m) out.push_back(v);
    }
    return out;
  }

  bool HasAny(const std::string& ns) const {
    auto it = by_ns_.find(ns);
    return it != by_ns_.end() && !it->second.empty();
  }

  void Put(const std::string& ns, const std::string& id, V v) { by_ns_[ns][id] = std::move(v); }

  // Removes the entry only while it is still v (a newer one of the same id
  // stays); an emptied namespace goes too.
  template <class P>
  void Erase(const std::string& ns, const std::string& id, const P* v) {
    auto it = by_ns_.find(ns);
    if (it == by_ns_.end()) return;
    auto e = it->second.find(id);
    if (e != it->second.end() && e->second.get() == v) it->second.erase(e);
    if (it->second.empty()) by_ns_.erase(it);
  }

 private:
  std::map<std::string, std::map<std::string, V>> by_ns_;
};

}  // namespace mcd::runtime
