#pragma once
// UTF-8 as Go reads it: what grpc-go puts on the wire for a status message
// (each byte that does not start a valid sequence becomes U+FFFD), so an
// error quoting a client's raw bytes reads the same from either daemon.
#include <string>
#include <string_view>

namespace mcd::utf8 {

// The length of the valid UTF-8 sequence at the start of s (Go's rules: no
// overlong forms, no surrogates, nothing above U+10FFFF), or 0.
size_t ValidPrefix(std::string_view s);
// s with every byte that starts no valid sequence replaced by U+FFFD.
std::string Valid(std::string_view s);

}  // namespace mcd::utf8
