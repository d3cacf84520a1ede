#include "module/crypto/secret.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <cstring>

namespace callvault {

SecretBytes::SecretBytes(size_t n) : bytes_(n, 0) {}

SecretBytes::SecretBytes(const void* data, size_t n)
    : bytes_(static_cast<const uint8_t*>(data), static_cast<const uint8_t*>(data) + n) {}

SecretBytes::~SecretBytes() { Wipe(); }

SecretBytes::SecretBytes(const SecretBytes& other) : bytes_(other.bytes_) {}

SecretBytes& SecretBytes::operator=(const SecretBytes& other) {
  if (this != &other) {
    // Wipe first: assign() may reuse or free the old buffer, and a freed
    // buffer must not keep the old key.
    Wipe();
    bytes_.assign(other.bytes_.begin(), other.bytes_.end());
  }
  return *this;
}

// A moved-from vector is left empty, so the key lives in exactly one place.
SecretBytes::SecretBytes(SecretBytes&& other) noexcept : bytes_(std::move(other.bytes_)) {
  other.bytes_.clear();
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    Wipe();
    bytes_ = std::move(other.bytes_);
    other.bytes_.clear();
  }
  return *this;
}

SecretBytes SecretBytes::Random(size_t n) {
  SecretBytes s(n);
  // A CSPRNG failure leaves no safe way to continue: a predictable key would
  // silently void every guarantee built on it.
  if (n > 0 && RAND_bytes(s.data(), static_cast<int>(n)) != 1) std::abort();
  return s;
}

void SecretBytes::Wipe() {
  if (!bytes_.empty()) OPENSSL_cleanse(bytes_.data(), bytes_.size());
  bytes_.clear();
}

bool SecretBytes::Equals(const SecretBytes& other) const {
  return bytes_.size() == other.bytes_.size() &&
         (bytes_.empty() || CRYPTO_memcmp(bytes_.data(), other.bytes_.data(), bytes_.size()) == 0);
}

}  // namespace callvault
