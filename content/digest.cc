#include "content/digest.h"

#include <openssl/evp.h>

#include <stdexcept>

#include "pkg/errdefs.h"

namespace mcd::content {

struct Digester::Impl {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~Impl() { EVP_MD_CTX_free(ctx); }
};

Digester::Digester() : impl_(std::make_unique<Impl>()) {
  if (!impl_->ctx || EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr) != 1) {
    throw errdefs::Internal("sha256 init failed");
  }
}
Digester::~Digester() = default;
Digester::Digester(Digester&&) noexcept = default;
Digester& Digester::operator=(Digester&&) noexcept = default;

void Digester::Update(std::string_view data) {
  if (EVP_DigestUpdate(impl_->ctx, data.data(), data.size()) != 1) {
    throw errdefs::Internal("sha256 update failed");
  }
}

std::string Digester::Digest() const {
  // Finalise a copy so the running state keeps accepting data.
  EVP_MD_CTX* c = EVP_MD_CTX_new();
  if (!c) throw errdefs::Internal("sha256 copy failed");
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  bool ok = EVP_MD_CTX_copy_ex(c, impl_->ctx) == 1 && EVP_DigestFinal_ex(c, md, &n) == 1;
  EVP_MD_CTX_free(c);
  if (!ok) throw errdefs::Internal("sha256 final failed");
  static const char* hex = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned int i = 0; i < n; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

std::string FromBytes(std::string_view data) {
  Digester d;
  d.Update(data);
  return d.Digest();
}

bool IsValid(std::string_view digest) {
  if (digest.size() != 7 + 64 || digest.substr(0, 7) != "sha256:") return false;
  for (char c : digest.substr(7)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string DigestError(std::string_view d) {
  auto i = d.find(':');
  if (i == std::string_view::npos || i == 0 || i + 1 == d.size()) {
    return "invalid checksum digest format";
  }
  auto alg = d.substr(0, i);
  auto enc = d.substr(i + 1);
  auto is_alg_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '.' || c == '_' ||
           c == '-';
  };
  if (alg != "sha256" && alg != "sha384" && alg != "sha512") {
    bool well_formed = true;
    for (char c : alg) well_formed = well_formed && is_alg_char(c);
    for (char c : enc) {
      well_formed = well_formed && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                    (c >= '0' && c <= '9') || c == '=' || c == '_' || c == '-');
    }
    return well_formed ? "unsupported digest algorithm" : "invalid checksum digest format";
  }
  size_t want = alg == "sha256" ? 64 : alg == "sha384" ? 96 : 128;
  if (enc.size() != want) return "invalid checksum digest length";
  for (char c : enc) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return "invalid checksum digest format";
  }
  // Valid for go-digest, but only sha256 is stored here.
  return alg == "sha256" ? "" : "unsupported digest algorithm";
}

void Validate(std::string_view digest) {
  if (!IsValid(digest)) {
    throw errdefs::Error(errdefs::Code::kInvalidArgument,
                         "\"" + std::string(digest) + "\" failed validation");
  }
}

std::string_view Hex(std::string_view digest) {
  return digest.substr(7);
}

}  // namespace mcd::content
