#pragma once
// `minicontainerd publish --address A --topic T --namespace N`: reads an
// event Any from stdin and forwards it to the daemon (a shim's fallback).
#include <string>

namespace mcd::daemon {

struct PublishFlags {
  std::string address;
  std::string topic;
  std::string ns;
};

int Publish(const PublishFlags& f);

}  // namespace mcd::daemon
