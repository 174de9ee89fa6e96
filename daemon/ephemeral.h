#pragma once
// --ephemeral: a throwaway root, state and socket under /tmp for trying the
// daemon out; everything (mounts included) is removed when it exits.
#include <string>

namespace mcd::daemon {

class Ephemeral {
 public:
  Ephemeral();
  ~Ephemeral();
  std::string root() const { return dir_ + "/root"; }
  std::string state() const { return dir_ + "/state"; }
  std::string address() const { return dir_ + "/containerd.sock"; }
  // The managed opt directory (`ctr install`), so a throwaway daemon writes
  // nothing outside its own folder.
  std::string opt() const { return dir_ + "/opt"; }
  // Prints the socket and how to point ctr at it.
  void Announce(const std::string& address) const;

 private:
  std::string dir_;
};

}  // namespace mcd::daemon
