#include "module/crypto/base64.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <limits>

namespace callvault {
namespace {

bool IsAlphabet(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// Returns the decoded length, or -1 if text is not canonical padded base64.
// EVP_DecodeBlock itself skips surrounding whitespace and counts padding as
// zero bytes; validating first keeps the accepted language exact.
long DecodedLength(std::string_view text) {
  if (text.size() % 4 != 0 || text.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return -1;
  }
  size_t pad = 0;
  if (!text.empty() && text.back() == '=') ++pad;
  if (text.size() >= 2 && text[text.size() - 2] == '=') ++pad;
  for (size_t i = 0; i < text.size() - pad; ++i) {
    if (!IsAlphabet(text[i])) return -1;
  }
  return static_cast<long>(text.size() / 4 * 3 - pad);
}

// Decodes into buf, which must hold text.size() / 4 * 3 bytes.
bool DecodeInto(std::string_view text, unsigned char* buf) {
  if (text.empty()) return true;
  return EVP_DecodeBlock(buf, reinterpret_cast<const unsigned char*>(text.data()),
                         static_cast<int>(text.size())) >= 0;
}

}  // namespace

std::string Base64Encode(std::string_view data) {
  std::string out((data.size() + 2) / 3 * 4 + 1, '\0');  // +1: EVP writes a NUL
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()),
                          static_cast<int>(data.size()));
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

bool Base64Decode(std::string_view text, std::string* out) {
  long len = DecodedLength(text);
  if (len < 0) return false;
  std::string buf(text.size() / 4 * 3, '\0');
  if (!DecodeInto(text, reinterpret_cast<unsigned char*>(buf.data()))) return false;
  buf.resize(static_cast<size_t>(len));
  *out = std::move(buf);
  return true;
}

bool Base64Decode(std::string_view text, SecretBytes* out) {
  long len = DecodedLength(text);
  if (len < 0) return false;
  SecretBytes buf(text.size() / 4 * 3);
  if (!DecodeInto(text, buf.data())) return false;
  // Copy the exact-length prefix; buf wipes the padded scratch on return.
  *out = SecretBytes(buf.data(), static_cast<size_t>(len));
  return true;
}

}  // namespace callvault
