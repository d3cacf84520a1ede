#include "module/crypto/aead.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <limits>

namespace callvault {
namespace {

// Fetched once: an explicit fetch avoids OpenSSL 3's per-call implicit
// algorithm lookup, which costs more than sealing a small record.
const EVP_CIPHER* Gcm() {
  static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  return cipher;
}

struct CtxDeleter {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter>;

bool FitsInt(size_t n) { return n <= static_cast<size_t>(std::numeric_limits<int>::max()); }

}  // namespace

std::unique_ptr<Aead> Aead::Create(const SecretBytes& key) {
  if (key.size() != kKeyBytes || Gcm() == nullptr) return nullptr;
  return std::unique_ptr<Aead>(new Aead(key));
}

Aead::Aead(const SecretBytes& key) : key_(key) {}

Aead::~Aead() = default;

bool Aead::Encrypt(std::string_view plaintext, std::string_view aad, std::string* out) {
  // Count before sealing so that concurrent callers can never jointly pass
  // the limit; a refused call still consumes a count, which is harmless.
  if (encryptions_.fetch_add(1, std::memory_order_relaxed) >= kMaxEncryptions) return false;
  if (!FitsInt(plaintext.size()) || !FitsInt(aad.size())) return false;

  const size_t start = out->size();
  out->resize(start + kNonceBytes + plaintext.size() + kTagBytes);
  auto* nonce = reinterpret_cast<unsigned char*>(out->data() + start);
  unsigned char* ct = nonce + kNonceBytes;
  unsigned char* tag = ct + plaintext.size();

  CtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  bool ok = ctx && RAND_bytes(nonce, kNonceBytes) == 1 &&
            EVP_EncryptInit_ex2(ctx.get(), Gcm(), key_.data(), nonce, nullptr) == 1 &&
            (aad.empty() ||
             EVP_EncryptUpdate(ctx.get(), nullptr, &len,
                               reinterpret_cast<const unsigned char*>(aad.data()),
                               static_cast<int>(aad.size())) == 1) &&
            EVP_EncryptUpdate(ctx.get(), ct, &len,
                              reinterpret_cast<const unsigned char*>(plaintext.data()),
                              static_cast<int>(plaintext.size())) == 1 &&
            EVP_EncryptFinal_ex(ctx.get(), ct + len, &len) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, tag) == 1;
  if (!ok) out->resize(start);
  return ok;
}

bool Aead::Decrypt(std::string_view sealed, std::string_view aad, std::string* plaintext) const {
  if (sealed.size() < kOverhead || !FitsInt(sealed.size()) || !FitsInt(aad.size())) return false;
  const auto* nonce = reinterpret_cast<const unsigned char*>(sealed.data());
  const unsigned char* ct = nonce + kNonceBytes;
  const size_t ct_len = sealed.size() - kOverhead;
  const unsigned char* tag = ct + ct_len;

  std::string pt(ct_len, '\0');
  auto* pt_bytes = reinterpret_cast<unsigned char*>(pt.data());
  CtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  bool ok = ctx && EVP_DecryptInit_ex2(ctx.get(), Gcm(), key_.data(), nonce, nullptr) == 1 &&
            (aad.empty() ||
             EVP_DecryptUpdate(ctx.get(), nullptr, &len,
                               reinterpret_cast<const unsigned char*>(aad.data()),
                               static_cast<int>(aad.size())) == 1) &&
            EVP_DecryptUpdate(ctx.get(), pt_bytes, &len, ct, static_cast<int>(ct_len)) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes,
                                const_cast<unsigned char*>(tag)) == 1 &&
            EVP_DecryptFinal_ex(ctx.get(), pt_bytes + len, &len) == 1;
  if (!ok) {
    // Unauthenticated plaintext must never reach the caller, not even in a
    // freed buffer.
    if (!pt.empty()) OPENSSL_cleanse(pt.data(), pt.size());
    return false;
  }
  *plaintext = std::move(pt);
  return true;
}

}  // namespace callvault
