#pragma once
// The bundle's `log` fifo: the shim writes its log there (it blocks opening
// it until a reader exists), the daemon copies it to its own stderr as
// containerd does. Reading is asynchronous on the shared io_context.
#include <memory>
#include <string>

namespace mcd::runtime {

class ShimLog {
 public:
  // Creates the fifo (0700) when missing and starts copying. Opened
  // read-write so neither side ever blocks and a restarted daemon can
  // reattach to a running shim's fifo.
  static std::shared_ptr<ShimLog> Open(const std::string& bundle);
  // Any fifo; `copy` false drains it without copying (a v1 shim's stdout
  // and stderr when not debugging, as containerd discards them).
  static std::shared_ptr<ShimLog> OpenFifo(const std::string& path, bool copy);
  virtual ~ShimLog() = default;
  // Stops copying and closes the fifo; idempotent.
  virtual void Close() = 0;
  // The last bytes the shim logged (for error messages).
  virtual std::string Tail() const = 0;
};

}  // namespace mcd::runtime
