// Standard base64 (RFC 4648, with padding) through OpenSSL's EVP block
// coder.  Decoding is strict: no whitespace, no missing or misplaced padding,
// so a damaged key line is refused rather than decoded into a different key.
#pragma once

#include <string>
#include <string_view>

#include "module/crypto/secret.h"

namespace callvault {

std::string Base64Encode(std::string_view data);
// False if `text` is not canonical padded base64; *out is then unchanged.
bool Base64Decode(std::string_view text, std::string* out);
// Same, decoding straight into key material so no plain copy is left behind.
bool Base64Decode(std::string_view text, SecretBytes* out);

}  // namespace callvault
