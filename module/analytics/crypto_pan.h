// Crypto-PAn: prefix-preserving pseudonymisation of IPv4 and IPv6 addresses
// (Xu, Fan, Ammar, Moon 2002).  Two addresses sharing a k-bit prefix map to
// two pseudonyms sharing a k-bit prefix, so subnet-level analytics survive
// while the addresses themselves are hidden.  IPv6 uses the same construction
// over 128 bits.
//
// Key: 32 bytes.  AES-128 key = key[0..16), pad = AES(key[16..32)).
// Bit i of the one-time pad is the top bit of AES(first i bits of the address
// followed by the pad's bits i..127); the output is address XOR pad.
//
// Speed: the n blocks (n = 32 or 128) depend only on the input address, not on
// each other's output, so they are built up front and encrypted by one
// EVP_EncryptUpdate call on one ECB context created at construction: one
// cipher call per address, no per-bit context set-up.
//
// Not thread-safe (the cipher context is reused): one instance per thread.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "module/crypto/secret.h"

namespace callvault {

class CryptoPan {
 public:
  static constexpr size_t kKeyBytes = 32;

  // nullptr if key is not 32 bytes or OpenSSL refuses the cipher.
  static std::unique_ptr<CryptoPan> Create(const SecretBytes& key);
  ~CryptoPan();
  CryptoPan(const CryptoPan&) = delete;
  CryptoPan& operator=(const CryptoPan&) = delete;

  // Addresses in network byte order.
  std::array<uint8_t, 4> Anonymise4(const std::array<uint8_t, 4>& addr);
  std::array<uint8_t, 16> Anonymise6(const std::array<uint8_t, 16>& addr);

 private:
  CryptoPan() = default;
  // Pseudonymises the first `bits` bits of addr (left-aligned in 16 bytes).
  void Anonymise(uint8_t* addr, int bits);

  struct Cipher;
  std::unique_ptr<Cipher> cipher_;
  std::array<uint8_t, 16> pad_{};
};

}  // namespace callvault
