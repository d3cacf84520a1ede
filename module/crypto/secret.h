// Key material that wipes itself (OPENSSL_cleanse) when it goes away.  Never
// log, print or serialise one except through the keyring/wrapping code.
//
// Invariant: the bytes live in exactly one heap buffer that is never grown
// (no reallocation leaves stale copies behind); copies are explicit and each
// copy wipes itself too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace callvault {

class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(size_t n);
  SecretBytes(const void* data, size_t n);
  ~SecretBytes();
  SecretBytes(const SecretBytes&);
  SecretBytes& operator=(const SecretBytes&);
  SecretBytes(SecretBytes&&) noexcept;
  SecretBytes& operator=(SecretBytes&&) noexcept;

  // n bytes from the OpenSSL CSPRNG.  Aborts if the CSPRNG fails: a
  // predictable key would silently void every guarantee built on it.
  static SecretBytes Random(size_t n);

  uint8_t* data() { return bytes_.data(); }
  const uint8_t* data() const { return bytes_.data(); }
  size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }
  std::string_view view() const {
    return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()};
  }
  // Overwrites the bytes (OPENSSL_cleanse) and leaves the secret empty.
  void Wipe();
  // Constant-time comparison (CRYPTO_memcmp); sizes are not secret.
  bool Equals(const SecretBytes& other) const;

 private:
  std::vector<uint8_t> bytes_;
};

}  // namespace callvault
