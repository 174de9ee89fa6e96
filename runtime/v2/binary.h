#pragma once
// The shim binary as containerd 1.6 runs it: the runtime name resolved to an
// executable, the `start` and `delete` command lines, and the address the
// shim prints.
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "pkg/process.h"

namespace mcd::runtime {

// "io.containerd.runc.v2" -> "containerd-shim-runc-v2": the last two
// dot-separated parts; empty when the name has fewer than two parts.
std::string BinaryName(const std::string& runtime);

// Finds the shim for a runtime name (or checks an absolute path), caching
// results: PATH first, then beside the daemon binary (`self`). NotFound with
// containerd's wording when missing, InvalidArgument for a bad name.
class RuntimeResolver {
 public:
  explicit RuntimeResolver(std::string self) : self_(std::move(self)) {}
  std::string Resolve(const std::string& runtime);

 private:
  std::string self_;
  std::mutex mu_;
  std::map<std::string, std::string> cache_;
};

// What every shim command shares.
struct ShimCommand {
  std::string binary;  // resolved shim path
  std::string ns;
  std::string id;
  std::string bundle;         // cwd
  std::string grpc_address;   // -address
  std::string ttrpc_address;  // TTRPC_ADDRESS
  std::string self;           // -publish-binary
  bool debug = false;
  bool sched_core = false;

  // `<shim> -namespace ns -address a -publish-binary b -id id [-debug] start`
  process::Options Start(const std::string& options_any) const;
  // `… -id id -bundle path [-debug] delete`
  process::Options Delete() const;

 private:
  process::Options Base(std::vector<std::string> args) const;
};

// The shim's trimmed `start` output as an address for ttrpc::Client::Connect:
// "unix:///p" stays a path socket; a bare name is an abstract socket ("@name"),
// as containerd's dialer reads it. InvalidArgument when empty or malformed.
std::string ParseAddress(const std::string& out);

// The `address` file of a bundle, trimmed. NotFound when missing.
std::string ReadAddress(const std::string& bundle);

struct Exit {
  uint32_t pid = 0;
  uint32_t status = 0;
  std::chrono::system_clock::time_point at{};
};

// Parses `delete`'s stdout (a task.v2 DeleteResponse). InvalidArgument when
// it is not one.
Exit ParseDeleteOutput(const std::string& out);

}  // namespace mcd::runtime
