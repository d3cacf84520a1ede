// AES-256-GCM, the only cipher callvault uses for data at rest.
//
// Misuse resistance (after Tink's Aead): the caller never picks a nonce.  Each
// Encrypt draws a fresh random 96-bit nonce and counts its uses; a key is good
// for kMaxEncryptions (NIST SP 800-38D 8.3), after which Encrypt refuses and the
// caller must rotate to a new data key.
//
// Wire format: nonce (12) || ciphertext || tag (16).
//
// Thread-safe: Encrypt and Decrypt may run concurrently on one instance.  The
// key schedule is set up once per cipher context and the context kept for
// the next call (OpenSSL 3's per-context set-up cost more than sealing a
// CDR); a call that finds the kept context taken by another thread makes its
// own.  The use count is atomic.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "module/crypto/secret.h"

namespace callvault {

class Aead {
 public:
  static constexpr size_t kKeyBytes = 32;
  static constexpr size_t kNonceBytes = 12;
  static constexpr size_t kTagBytes = 16;
  static constexpr size_t kOverhead = kNonceBytes + kTagBytes;
  static constexpr uint64_t kMaxEncryptions = 1ull << 32;

  // Returns nullptr if key is not 32 bytes.
  static std::unique_ptr<Aead> Create(const SecretBytes& key);
  ~Aead();

  // Appends nonce||ct||tag to *out.  False (and *out unchanged) when the key
  // is exhausted, an input exceeds INT_MAX bytes, or OpenSSL fails.
  bool Encrypt(std::string_view plaintext, std::string_view aad, std::string* out);
  // False when anything (nonce, ciphertext, tag, aad, key) does not match.
  bool Decrypt(std::string_view sealed, std::string_view aad, std::string* plaintext) const;

  uint64_t encryptions() const { return encryptions_.load(std::memory_order_relaxed); }

 private:
  explicit Aead(const SecretBytes& key);
  class KeyedContext;
  std::unique_ptr<KeyedContext> Take(bool encrypt) const;
  void Keep(std::unique_ptr<KeyedContext> ctx, bool encrypt) const;

  SecretBytes key_;
  std::atomic<uint64_t> encryptions_{0};
  // Kept contexts, one per direction; null while in use (or never made).
  mutable std::atomic<KeyedContext*> kept_[2] = {nullptr, nullptr};
};

}  // namespace callvault
