// The keyring file: versioned key-encryption keys (KEKs) plus the named
// secrets other parts derive from (blind-index key, pseudonym master key, LI
// key).  The file must be a regular file with mode 0600 or stricter; anything
// else is refused.  Key management (generate, rotate) is apart from key use:
// the module only ever loads a keyring.
//
// File format (text, one entry per line, '#' comments, blank lines ignored):
//   callvault-keyring 1
//   kek <version> <base64 32 bytes>
//   active-kek <version>
//   secret <name> <base64, 16 to 64 bytes>   e.g. blind-index, pseudonym, li
// Versions are positive decimal integers; names are [a-z0-9._-]+.  A load
// error names the file and line ("keyring k.txt: line 3: bad base64 in kek 2")
// and never quotes key material.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "module/crypto/secret.h"

namespace callvault {

// Names of the secrets Keyring::Generate() creates.
inline constexpr char kSecretBlindIndex[] = "blind-index";
inline constexpr char kSecretPseudonym[] = "pseudonym";
inline constexpr char kSecretLi[] = "li";

class Keyring {
 public:
  static constexpr size_t kKekBytes = 32;
  static constexpr size_t kMinSecretBytes = 16;
  static constexpr size_t kMaxSecretBytes = 64;

  enum class SaveMode {
    kReplace,    // atomically replace an existing file (rotation)
    kCreateNew,  // fail if the file exists, without a window where it could be clobbered
  };

  // Refuses (false, *error) a file that is missing, not a regular file,
  // accessible by group or others, or malformed.
  static bool Load(const std::string& path, Keyring* out, std::string* error);
  // Writes mode 0600 via a temporary file, fsync and rename (or link for
  // kCreateNew), then fsyncs the directory: a crash leaves the old or the new
  // keyring, never a torn one.
  bool Save(const std::string& path, std::string* error,
            SaveMode mode = SaveMode::kReplace) const;

  // A new keyring with KEK version 1 and fresh named secrets (32 bytes each).
  static Keyring Generate();
  // Adds KEK version max+1 and makes it active; returns the new version.
  uint32_t AddKek();

  uint32_t active_kek_version() const { return active_kek_; }
  const SecretBytes* active_kek() const { return kek(active_kek_); }
  const SecretBytes* kek(uint32_t version) const;  // nullptr if unknown
  const std::map<uint32_t, SecretBytes>& keks() const { return keks_; }
  const SecretBytes* secret(const std::string& name) const;  // nullptr if unknown
  void SetSecret(const std::string& name, SecretBytes value);
  bool RemoveSecret(const std::string& name);
  std::map<std::string, SecretBytes>& secrets() { return secrets_; }

 private:
  static bool Parse(const std::string& path, std::string_view text, Keyring* out,
                    std::string* error);
  // Why Save would refuse this keyring (Load would refuse the file), or "".
  std::string Invalid() const;

  std::map<uint32_t, SecretBytes> keks_;
  uint32_t active_kek_ = 0;
  std::map<std::string, SecretBytes> secrets_;
};

// Envelope encryption: a data key sealed under a KEK with AES-256-GCM
// (Aead wire format, so 28 bytes longer than the key).  aad binds the wrapped
// key to its identity (e.g. "journal-segment:42" or "dk:carrier-a:2026-11").
bool WrapKey(const SecretBytes& kek, const SecretBytes& data_key, std::string_view aad,
             std::string* wrapped);
// False if kek, wrapped or aad differ in any bit from what WrapKey used.
bool UnwrapKey(const SecretBytes& kek, std::string_view wrapped, std::string_view aad,
               SecretBytes* data_key);

// HMAC-SHA256; returns the 32 raw MAC bytes (empty only if OpenSSL fails).
std::string HmacSha256(const SecretBytes& key, std::string_view data);

}  // namespace callvault
