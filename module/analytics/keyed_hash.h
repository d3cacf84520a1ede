// HMAC-SHA256 under one fixed key, prepared once (the SHA-256 states after
// the ipad and opad blocks) so that each MAC costs the two blocks of the
// message and the inner hash (OpenSSL 3's one-shot HMAC() is about six times
// slower).  Every analytics token is made here.
//
// Domain separation: every caller passes a domain tag ("num", "raw", "eid",
// "host", ...) that is MACed before the data, so a token of one kind can
// never equal a token of another kind for the same bytes.
//
// Thread-safe: the prepared states are only read; each MAC works on a copy.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "module/crypto/secret.h"

namespace callvault {

class KeyedHash {
 public:
  static constexpr size_t kTokenBytes = 16;  // 128-bit tokens (>= 96 required)

  // nullptr if key is empty or OpenSSL refuses SHA-256.
  static std::unique_ptr<KeyedHash> Create(const SecretBytes& key);
  ~KeyedHash();
  KeyedHash(const KeyedHash&) = delete;
  KeyedHash& operator=(const KeyedHash&) = delete;

  // HMAC-SHA256(key, domain || 0x00 || data).  False only if OpenSSL fails.
  bool Mac(std::string_view domain, std::string_view data, std::array<uint8_t, 32>* out);
  // base64url (no padding) of the MAC's first kTokenBytes: 22 characters.
  // Empty only if OpenSSL fails.
  std::string Token(std::string_view domain, std::string_view data);

 private:
  KeyedHash() = default;
  struct State;
  std::unique_ptr<State> state_;
};

// RFC 4648 section 5 alphabet, no padding.
std::string Base64Url(const uint8_t* data, size_t n);

}  // namespace callvault
