#pragma once
// A shim connection's close handler that calls back into its runtime with
// the task (or v1 shim) it belongs to, as both runtimes watch their shims:
// it holds neither alive, so a runtime or task that is gone is not called.
#include <functional>
#include <memory>
#include <type_traits>

namespace mcd::runtime {

template <class Owner, class Item>
std::function<void()> WeakCall(std::type_identity_t<std::weak_ptr<Owner>> owner,
                               std::type_identity_t<std::weak_ptr<Item>> item,
                               void (Owner::*fn)(const std::shared_ptr<Item>&)) {
  return [owner = std::move(owner), item = std::move(item), fn] {
    auto o = owner.lock();
    auto i = item.lock();
    if (o && i) ((*o).*fn)(i);
  };
}

}  // namespace mcd::runtime
