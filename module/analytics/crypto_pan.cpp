#include "module/analytics/crypto_pan.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstring>

namespace callvault {

struct CryptoPan::Cipher {
  EVP_CIPHER_CTX* ctx = nullptr;
  // Scratch for the per-bit input blocks and their encryptions (IPv6 worst
  // case: 128 blocks of 16 bytes).  The blocks mix address bits with pad
  // bits; they are not wiped per call (the address itself sits in the CDR
  // in the same process), only when the instance goes.
  uint8_t in[128 * 16];
  uint8_t out[128 * 16 + 16];
  ~Cipher() {
    EVP_CIPHER_CTX_free(ctx);
    OPENSSL_cleanse(in, sizeof(in));
    OPENSSL_cleanse(out, sizeof(out));
  }
};

std::unique_ptr<CryptoPan> CryptoPan::Create(const SecretBytes& key) {
  if (key.size() != kKeyBytes) return nullptr;
  std::unique_ptr<CryptoPan> pan(new CryptoPan());
  pan->cipher_ = std::make_unique<Cipher>();
  auto& c = *pan->cipher_;
  c.ctx = EVP_CIPHER_CTX_new();
  if (c.ctx == nullptr ||
      EVP_EncryptInit_ex(c.ctx, EVP_aes_128_ecb(), nullptr, key.data(), nullptr) != 1 ||
      EVP_CIPHER_CTX_set_padding(c.ctx, 0) != 1) {
    return nullptr;
  }
  // pad = AES(key[16..32)).  ECB without padding keeps no state between
  // updates, so the same context serves every later call.
  int len = 0;
  if (EVP_EncryptUpdate(c.ctx, pan->pad_.data(), &len, key.data() + 16, 16) != 1 || len != 16) {
    return nullptr;
  }
  return pan;
}

CryptoPan::~CryptoPan() { OPENSSL_cleanse(pad_.data(), pad_.size()); }

namespace {

uint64_t LoadBe64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return __builtin_bswap64(v);
}

void StoreBe64(uint8_t* p, uint64_t v) {
  v = __builtin_bswap64(v);
  std::memcpy(p, &v, 8);
}

}  // namespace

void CryptoPan::Anonymise(uint8_t* addr, int bits) {
  auto& c = *cipher_;
  // Block i = first i bits of addr, then pad bits i..127.  Block i+1 differs
  // from block i only in bit i, which switches from the pad's bit to the
  // address's.  The block is kept as two big-endian 64-bit halves.
  uint64_t hi = LoadBe64(pad_.data()), lo = LoadBe64(pad_.data() + 8);
  const uint64_t a_hi = LoadBe64(addr), a_lo = LoadBe64(addr + 8);
  for (int i = 0; i < bits; ++i) {
    StoreBe64(c.in + 16 * i, hi);
    StoreBe64(c.in + 16 * i + 8, lo);
    if (i < 64) {
      const uint64_t m = uint64_t{1} << (63 - i);
      hi = (hi & ~m) | (a_hi & m);
    } else {
      const uint64_t m = uint64_t{1} << (127 - i);
      lo = (lo & ~m) | (a_lo & m);
    }
  }
  int len = 0;
  // ECB on an initialised context cannot fail for block-aligned input; if
  // OpenSSL ever did fail, an all-zero pad would leak the address, so the
  // output is then blanked instead.
  if (EVP_EncryptUpdate(c.ctx, c.out, &len, c.in, 16 * bits) != 1 || len != 16 * bits) {
    std::memset(addr, 0, static_cast<size_t>(bits) / 8);
    return;
  }
  uint64_t otp_hi = 0, otp_lo = 0;
  for (int i = 0; i < bits; ++i) {
    const uint64_t bit = c.out[16 * i] >> 7;
    if (i < 64) {
      otp_hi |= bit << (63 - i);
    } else {
      otp_lo |= bit << (127 - i);
    }
  }
  StoreBe64(addr, a_hi ^ otp_hi);
  StoreBe64(addr + 8, a_lo ^ otp_lo);
}

std::array<uint8_t, 4> CryptoPan::Anonymise4(const std::array<uint8_t, 4>& addr) {
  std::array<uint8_t, 16> a{};
  std::memcpy(a.data(), addr.data(), 4);
  Anonymise(a.data(), 32);
  return {a[0], a[1], a[2], a[3]};
}

std::array<uint8_t, 16> CryptoPan::Anonymise6(const std::array<uint8_t, 16>& addr) {
  std::array<uint8_t, 16> a = addr;
  Anonymise(a.data(), 128);
  return a;
}

}  // namespace callvault
