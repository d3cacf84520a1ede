#include "module/store/blind_index.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <algorithm>
#include <cctype>

namespace callvault {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

bool IsPhoneLike(std::string_view s) {
  bool digit = false;
  for (char c : s) {
    if (std::isdigit(static_cast<unsigned char>(c))) {
      digit = true;
    } else if (c != '+' && c != '-' && c != '.' && c != '(' && c != ')' && c != ' ' && c != '/') {
      return false;
    }
  }
  return digit;
}

std::string DigitsOnly(std::string_view s) {
  std::string d;
  for (char c : s) {
    if (std::isdigit(static_cast<unsigned char>(c))) d += c;
  }
  if (d.rfind("00", 0) == 0) d.erase(0, 2);
  return d;
}

}  // namespace

std::string NormaliseNumber(std::string_view number, std::string_view region) {
  number = number.substr(0, number.find(';'));
  while (!number.empty() && std::isspace(static_cast<unsigned char>(number.front()))) {
    number.remove_prefix(1);
  }
  while (!number.empty() && std::isspace(static_cast<unsigned char>(number.back()))) {
    number.remove_suffix(1);
  }
  if (number.empty()) return "";
  if (!IsPhoneLike(number)) {
    std::string user(number);
    std::transform(user.begin(), user.end(), user.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    // Privacy markers are not subjects: indexing them would make one huge,
    // meaningless bucket.
    for (const char* marker : {"anonymous", "unknown", "restricted", "unavailable", "private"}) {
      if (user == marker) return "";
    }
    return "u:" + user;
  }
  // Already international: E.164 is the digits; skip the (costly) parser.
  // ("00" is not a shortcut: the international prefix differs by region.)
  std::string digits = DigitsOnly(number);
  if (number.front() == '+') return "n:" + digits;
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  PhoneNumber parsed;
  if (util.Parse(std::string(number), std::string(region), &parsed) ==
      PhoneNumberUtil::NO_PARSING_ERROR) {
    std::string e164;
    util.Format(parsed, PhoneNumberUtil::E164, &e164);
    if (!e164.empty() && e164.front() == '+') return "n:" + e164.substr(1);
  }
  return "n:" + digits;
}

// HMAC-SHA256 (RFC 2104) with the key's inner and outer pad states hashed
// once: each index then costs two context copies instead of a MAC setup.
// Equal to HmacSha256() of the keyring (tested).
struct BlindIndexer::Hmac {
  EVP_MD_CTX* inner = EVP_MD_CTX_new();
  EVP_MD_CTX* outer = EVP_MD_CTX_new();
  EVP_MD_CTX* work = EVP_MD_CTX_new();
  ~Hmac() {
    EVP_MD_CTX_free(inner);  // frees (and cleanses) the keyed states
    EVP_MD_CTX_free(outer);
    EVP_MD_CTX_free(work);
  }
};

BlindIndexer::BlindIndexer(std::unique_ptr<Hmac> hmac) : hmac_(std::move(hmac)) {}
BlindIndexer::~BlindIndexer() = default;

std::unique_ptr<BlindIndexer> BlindIndexer::Create(const Keyring& keyring, std::string* error) {
  const SecretBytes* key = keyring.secret(kBlindIndexSecret);
  if (key == nullptr || key->empty()) {
    *error = std::string("keyring has no '") + kBlindIndexSecret + "' secret";
    return nullptr;
  }
  constexpr size_t kBlock = 64;
  SecretBytes k(kBlock), ipad(kBlock), opad(kBlock);
  if (key->size() > kBlock) {
    unsigned int n = 0;
    EVP_Digest(key->data(), key->size(), k.data(), &n, EVP_sha256(), nullptr);
  } else {
    std::copy(key->data(), key->data() + key->size(), k.data());
  }
  for (size_t i = 0; i < kBlock; ++i) {
    ipad.data()[i] = k.data()[i] ^ 0x36;
    opad.data()[i] = k.data()[i] ^ 0x5c;
  }
  auto hmac = std::make_unique<Hmac>();
  if (!hmac->inner || !hmac->outer || !hmac->work ||
      !EVP_DigestInit_ex(hmac->inner, EVP_sha256(), nullptr) ||
      !EVP_DigestUpdate(hmac->inner, ipad.data(), kBlock) ||
      !EVP_DigestInit_ex(hmac->outer, EVP_sha256(), nullptr) ||
      !EVP_DigestUpdate(hmac->outer, opad.data(), kBlock)) {
    *error = "cannot set up HMAC-SHA256 for the blind index";
    return nullptr;
  }
  return std::unique_ptr<BlindIndexer>(new BlindIndexer(std::move(hmac)));
}

std::string BlindIndexer::Mac(std::string_view data) const {
  unsigned char inner[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  std::string out(kBlindIndexBytes, '\0');
  EVP_MD_CTX_copy_ex(hmac_->work, hmac_->inner);
  EVP_DigestUpdate(hmac_->work, data.data(), data.size());
  EVP_DigestFinal_ex(hmac_->work, inner, &n);
  EVP_MD_CTX_copy_ex(hmac_->work, hmac_->outer);
  EVP_DigestUpdate(hmac_->work, inner, n);
  EVP_DigestFinal_ex(hmac_->work, reinterpret_cast<unsigned char*>(out.data()), &n);
  OPENSSL_cleanse(inner, sizeof inner);
  return out;
}

std::string BlindIndexer::Index(std::string_view number, std::string_view region) const {
  std::string_view trimmed = number.substr(0, number.find(';'));
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.front()))) {
    trimmed.remove_prefix(1);
  }
  // Only national forms go through libphonenumber; everything else costs
  // about as much as a cache lookup, so only those are cached.
  const bool parsed = !trimmed.empty() && trimmed.front() != '+' && IsPhoneLike(trimmed);
  std::string key;
  if (parsed) {
    key.reserve(region.size() + 1 + number.size());
    key.append(region).append(1, '\x1f').append(number);
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (parsed) {
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  }
  const std::string norm = NormaliseNumber(number, region);
  std::string bi = norm.empty() ? "" : Mac(norm);
  if (parsed) {
    // Bounded: dropping everything at once is O(1) amortised and the hot set
    // is warm again within a few batches.
    if (cache_.size() >= kCacheEntries) cache_.clear();
    cache_.emplace(std::move(key), bi);
  }
  return bi;
}

std::vector<std::string> BlindIndexer::SearchIndexes(std::string_view number,
                                                     const std::vector<std::string>& regions) const {
  std::vector<std::string> out;
  for (const auto& region : regions) {
    std::string bi = Index(number, region);
    if (!bi.empty() && std::find(out.begin(), out.end(), bi) == out.end()) out.push_back(bi);
  }
  return out;
}

}  // namespace callvault
