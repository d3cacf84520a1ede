// Epoch keys for analytics pseudonyms, and their destruction.
//
// An epoch key must be impossible to recompute once its epoch is retired, so
// it cannot be a pure function of a long-lived master key.  Each epoch
// therefore gets a random 32-byte salt, created on first use and stored
// wrapped (AES-256-GCM under the keyring's active KEK, aad
// "analytics-epoch:<id>") in the epoch file; the key is
//   HMAC-SHA256(keyring secret "pseudonym", "callvault-analytics-epoch:" id 0x00 salt).
// Both halves are needed: the file alone (even with the KEK) does not give
// keys without the pseudonym secret, and the pseudonym secret alone does not
// give any epoch's key without its salt.  Retiring an epoch deletes its salt
// (the file is replaced atomically and the old file's blocks overwritten)
// and records the retirement, so the epoch is never created again.
//
// File (<state dir>/analytics-epochs, mode 0600, refused if group/other can
// read or write it), one entry per line:
//   callvault-analytics-epochs 1
//   epoch <id> <kek version> <base64 wrapped salt>
//   retired <id> <unix seconds>
// Writers (this store creating an epoch, `callvaultctl analytics
// retire-epoch`) serialise on an flock of "<file>.lock"; readers never see a
// partial file because it is only ever replaced by rename.
//
// A running module notices a retirement made by another process within
// kRefreshInterval (Refresh()), forgets the key and wipes it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "module/config/config.h"
#include "module/crypto/keyring.h"
#include "module/crypto/secret.h"

namespace callvault {

// Where the epoch file lives for this config: the capture state dir (which
// defaults to the journal dir).
std::string EpochKeyFile(const Config& config);

class EpochKeyStore {
 public:
  static constexpr std::chrono::milliseconds kRefreshInterval{1000};
  static constexpr const char* kPseudonymSecret = "pseudonym";

  // The file need not exist yet.  Fails if the keyring lacks the pseudonym
  // secret or an active KEK, or the file exists with loose permissions or
  // does not parse.
  static std::unique_ptr<EpochKeyStore> Open(const std::string& path, const Keyring& keyring,
                                             std::string* error);
  ~EpochKeyStore();

  enum class Status { kOk, kRetired, kError };
  // The epoch's 32-byte key, creating the epoch (and writing the file) on
  // first use.  kRetired: the epoch was retired and stays so.
  Status Key(const std::string& epoch_id, SecretBytes* key, std::string* error);

  // Re-reads the file if it changed (looked at no more than once per
  // kRefreshInterval), forgetting keys of epochs that are gone from it.
  // Returns generation(), which changes whenever a key was forgotten, so
  // callers holding contexts derived from keys know to drop them.
  uint64_t Refresh();
  uint64_t generation() const { return generation_; }

  struct RetireResult {
    bool had_key = false;          // a salt existed and was destroyed
    bool already_retired = false;  // nothing changed
  };
  // Destroys the epoch's salt and records the retirement.  Needs no keyring:
  // destroying a key must not depend on being able to use it.
  static bool Retire(const std::string& path, const std::string& epoch_id, int64_t now_unix_s,
                     RetireResult* result, std::string* error);

  struct Listing {
    std::vector<std::string> live;
    std::vector<std::pair<std::string, int64_t>> retired;  // id, unix seconds
  };
  static bool List(const std::string& path, Listing* out, std::string* error);

 private:
  EpochKeyStore() = default;

  std::string path_;
  Keyring keyring_;
  std::map<std::string, SecretBytes> keys_;  // derived keys of live epochs in use
  std::map<std::string, int64_t> retired_;
  uint64_t generation_ = 0;
  std::chrono::steady_clock::time_point last_check_{};
  struct Stamp {
    uint64_t ino = 0, size = 0;
    int64_t mtime_ns = -1;
    bool operator==(const Stamp&) const = default;
  } stamp_;
};

}  // namespace callvault
