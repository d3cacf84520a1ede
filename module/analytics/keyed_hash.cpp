// SHA-256's own context functions, not EVP: every token is two SHA-256
// blocks, and with EVP each MAC also pays two EVP_MD_CTX_copy_ex (each an
// allocation and a provider dispatch), which measured 50% slower per token
// here (1.09 us vs 0.73 us; see bench/pseudonymise_bench.cpp).  These
// functions are deprecated in OpenSSL 3 but present throughout 3.x; the
// one-shot HMAC in the keyring stays on EVP.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "module/analytics/keyed_hash.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstring>

namespace callvault {

struct KeyedHash::State {
  // SHA-256 states after absorbing key^ipad and key^opad.
  SHA256_CTX inner;
  SHA256_CTX outer;
  ~State() { OPENSSL_cleanse(this, sizeof(*this)); }
};

std::unique_ptr<KeyedHash> KeyedHash::Create(const SecretBytes& key) {
  if (key.empty()) return nullptr;
  constexpr size_t kBlock = 64;
  uint8_t k[kBlock] = {};
  if (key.size() > kBlock) {
    SHA256(key.data(), key.size(), k);
  } else {
    std::copy(key.data(), key.data() + key.size(), k);
  }
  uint8_t ipad[kBlock], opad[kBlock];
  for (size_t i = 0; i < kBlock; ++i) {
    ipad[i] = static_cast<uint8_t>(k[i] ^ 0x36);
    opad[i] = static_cast<uint8_t>(k[i] ^ 0x5c);
  }
  std::unique_ptr<KeyedHash> h(new KeyedHash());
  h->state_ = std::make_unique<State>();
  auto& s = *h->state_;
  const bool ok = SHA256_Init(&s.inner) == 1 && SHA256_Update(&s.inner, ipad, kBlock) == 1 &&
                  SHA256_Init(&s.outer) == 1 && SHA256_Update(&s.outer, opad, kBlock) == 1;
  OPENSSL_cleanse(k, sizeof(k));
  OPENSSL_cleanse(ipad, sizeof(ipad));
  OPENSSL_cleanse(opad, sizeof(opad));
  if (!ok) return nullptr;
  return h;
}

KeyedHash::~KeyedHash() = default;

bool KeyedHash::Mac(std::string_view domain, std::string_view data,
                    std::array<uint8_t, 32>* out) {
  const auto& s = *state_;
  uint8_t inner[32];
  static const uint8_t kSeparator = 0;
  SHA256_CTX work = s.inner;
  bool ok;
  uint8_t message[64];
  if (domain.size() + 1 + data.size() <= sizeof(message)) {
    // The usual case (a number, a record id): one update.
    std::memcpy(message, domain.data(), domain.size());
    message[domain.size()] = kSeparator;
    std::memcpy(message + domain.size() + 1, data.data(), data.size());
    ok = SHA256_Update(&work, message, domain.size() + 1 + data.size()) == 1;
  } else {
    ok = SHA256_Update(&work, domain.data(), domain.size()) == 1 &&
         SHA256_Update(&work, &kSeparator, 1) == 1 &&
         SHA256_Update(&work, data.data(), data.size()) == 1;
  }
  ok = ok && SHA256_Final(inner, &work) == 1;  // Final wipes work's buffer
  work = s.outer;
  const bool ok2 = ok && SHA256_Update(&work, inner, sizeof(inner)) == 1 &&
                   SHA256_Final(out->data(), &work) == 1;
  OPENSSL_cleanse(inner, sizeof(inner));
  return ok2;
}

std::string KeyedHash::Token(std::string_view domain, std::string_view data) {
  std::array<uint8_t, 32> mac;
  if (!Mac(domain, data, &mac)) return std::string();
  return Base64Url(mac.data(), kTokenBytes);
}

std::string Base64Url(const uint8_t* data, size_t n) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((n * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8) | data[i + 2];
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (n - i == 1) {
    const uint32_t v = uint32_t{data[i]} << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (n - i == 2) {
    const uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

}  // namespace callvault
