#pragma once
// Socket addresses as containerd writes them, turned into the sun_path to
// bind or connect: "unix:///p" and "/p" name a file, "@n" and "unix://@n" an
// abstract socket, and a bare name (no "unix://", no "/") is abstract too, as
// the shim's own dialer reads the address it prints.
#include <string>

namespace mcd::ttrpc {

// The sun_path bytes (abstract: leading NUL). Throws InvalidArgument when
// empty or too long for sockaddr_un.
std::string SocketPath(const std::string& address);

}  // namespace mcd::ttrpc
