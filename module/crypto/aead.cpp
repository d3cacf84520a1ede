#include "module/crypto/aead.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <pthread.h>

#include <cstring>
#include <limits>

namespace callvault {
namespace {

// Fetched once: an explicit fetch avoids OpenSSL 3's per-call implicit
// algorithm lookup, which costs more than sealing a small record.
const EVP_CIPHER* Gcm() {
  static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  return cipher;
}

// Nonces come from a per-thread block of DRBG output, fetched 4 KiB at a
// time: RAND_bytes per call costs more than the sealing itself (locking,
// reseed and fork checks).  The bytes are the DRBG's, used once each, in
// order, so a nonce is exactly as random as one drawn alone.  A forked child
// would inherit the parent's unused block and repeat its nonces, so fork
// discards the block in the child (pthread_atfork), as OpenSSL reseeds.
struct NoncePool {
  unsigned char bytes[Aead::kNonceBytes * 341];
  size_t used = sizeof bytes;
};
thread_local NoncePool nonce_pool;

void DiscardNoncePoolAfterFork() {
  OPENSSL_cleanse(nonce_pool.bytes, sizeof nonce_pool.bytes);
  nonce_pool.used = sizeof nonce_pool.bytes;
}

bool FreshNonce(unsigned char* out) {
  static const bool registered = pthread_atfork(nullptr, nullptr, DiscardNoncePoolAfterFork) == 0;
  NoncePool& pool = nonce_pool;
  if (!registered) return RAND_bytes(out, Aead::kNonceBytes) == 1;
  if (pool.used + Aead::kNonceBytes > sizeof pool.bytes) {
    if (RAND_bytes(pool.bytes, sizeof pool.bytes) != 1) return false;
    pool.used = 0;
  }
  std::memcpy(out, pool.bytes + pool.used, Aead::kNonceBytes);
  OPENSSL_cleanse(pool.bytes + pool.used, Aead::kNonceBytes);
  pool.used += Aead::kNonceBytes;
  return true;
}

bool FitsInt(size_t n) { return n <= static_cast<size_t>(std::numeric_limits<int>::max()); }

}  // namespace

// A cipher context holding the key schedule of one key, for one direction.
// OpenSSL wipes the key material when the context is freed.
class Aead::KeyedContext {
 public:
  static std::unique_ptr<KeyedContext> Make(const SecretBytes& key, bool encrypt) {
    auto k = std::unique_ptr<KeyedContext>(new KeyedContext);
    if (!k->ctx_ ||
        EVP_CipherInit_ex2(k->ctx_, Gcm(), key.data(), nullptr, encrypt ? 1 : 0, nullptr) != 1) {
      return nullptr;
    }
    return k;
  }
  ~KeyedContext() { EVP_CIPHER_CTX_free(ctx_); }
  // Starts a message: same key, this nonce.
  EVP_CIPHER_CTX* Start(const unsigned char* nonce, bool encrypt) {
    return EVP_CipherInit_ex2(ctx_, nullptr, nullptr, nonce, encrypt ? 1 : 0, nullptr) == 1 ? ctx_
                                                                                            : nullptr;
  }

 private:
  KeyedContext() : ctx_(EVP_CIPHER_CTX_new()) {}
  EVP_CIPHER_CTX* ctx_;
};

std::unique_ptr<Aead> Aead::Create(const SecretBytes& key) {
  if (key.size() != kKeyBytes || Gcm() == nullptr) return nullptr;
  return std::unique_ptr<Aead>(new Aead(key));
}

Aead::Aead(const SecretBytes& key) : key_(key) {}

Aead::~Aead() {
  for (auto& kept : kept_) delete kept.exchange(nullptr);
}

std::unique_ptr<Aead::KeyedContext> Aead::Take(bool encrypt) const {
  if (KeyedContext* k = kept_[encrypt].exchange(nullptr, std::memory_order_acquire)) {
    return std::unique_ptr<KeyedContext>(k);
  }
  return KeyedContext::Make(key_, encrypt);
}

void Aead::Keep(std::unique_ptr<KeyedContext> ctx, bool encrypt) const {
  KeyedContext* expected = nullptr;
  if (kept_[encrypt].compare_exchange_strong(expected, ctx.get(), std::memory_order_release)) {
    ctx.release();
  }
}

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

  auto keyed = Take(true);
  EVP_CIPHER_CTX* ctx = nullptr;
  int len = 0;
  bool ok = keyed && FreshNonce(nonce) && (ctx = keyed->Start(nonce, true)) != nullptr &&
            (aad.empty() ||
             EVP_EncryptUpdate(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                               static_cast<int>(aad.size())) == 1) &&
            EVP_EncryptUpdate(ctx, ct, &len,
                              reinterpret_cast<const unsigned char*>(plaintext.data()),
                              static_cast<int>(plaintext.size())) == 1 &&
            EVP_EncryptFinal_ex(ctx, ct + len, &len) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kTagBytes, tag) == 1;
  // Start resets a context whatever state a failure left it in.
  if (ctx) Keep(std::move(keyed), true);
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
  auto keyed = Take(false);
  EVP_CIPHER_CTX* ctx = nullptr;
  int len = 0;
  bool ok = keyed && (ctx = keyed->Start(nonce, false)) != nullptr &&
            (aad.empty() ||
             EVP_DecryptUpdate(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                               static_cast<int>(aad.size())) == 1) &&
            EVP_DecryptUpdate(ctx, pt_bytes, &len, ct, static_cast<int>(ct_len)) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kTagBytes,
                                const_cast<unsigned char*>(tag)) == 1 &&
            EVP_DecryptFinal_ex(ctx, pt_bytes + len, &len) == 1;
  if (ctx) Keep(std::move(keyed), false);
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
