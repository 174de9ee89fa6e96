#pragma once
// sha256 digests in containerd's form "sha256:<64 lowercase hex>", computed
// with OpenSSL, streaming.
#include <memory>
#include <string>
#include <string_view>

namespace mcd::content {

inline constexpr std::string_view kSHA256 = "sha256";

// Incremental sha256.
class Digester {
 public:
  Digester();
  ~Digester();
  Digester(Digester&&) noexcept;
  Digester& operator=(Digester&&) noexcept;
  void Update(std::string_view data);
  void Update(const void* data, size_t n) {
    Update(std::string_view(static_cast<const char*>(data), n));
  }
  // "sha256:<hex>" of everything so far; the digester stays usable.
  std::string Digest() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string FromBytes(std::string_view data);

// True for "sha256:<64 lowercase hex>" (the only algorithm supported).
bool IsValid(std::string_view digest);
// go-digest's validation error text ("invalid checksum digest format",
// "invalid checksum digest length", "unsupported digest algorithm"), empty
// when valid.
std::string DigestError(std::string_view digest);
// InvalidArgument "<digest> failed validation"-style error unless IsValid.
void Validate(std::string_view digest);
// The hex part; the digest must be valid.
std::string_view Hex(std::string_view digest);

}  // namespace mcd::content
