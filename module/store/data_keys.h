// Data keys of the CDR store: one AES-256 key per trunk and calendar month,
// kept in cdr.data_keys wrapped by a KEK of the keyring (envelope encryption).
// This class does the key crypto and caching; callers move the rows (the
// shipper through libpq, the read side through libpqxx).
//
// Invariants:
//  - A data key is unwrapped with the KEK version recorded on its row, so a
//    rotation (which rewraps under a newer version) never strands a key.
//  - The wrap's associated data "dk:<key_id>:<period>:<trunk>" ties the wrapped
//    bytes to their row: a wrapped key copied to another row does not unwrap.
//  - Unwrapped keys live only inside Aead objects (wiped on destruction).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "module/crypto/aead.h"
#include "module/crypto/keyring.h"

namespace callvault {

// One row of cdr.data_keys.
struct DataKeyRow {
  std::string key_id;  // UUID text
  std::string trunk;
  std::string period;  // "YYYY-MM"
  uint32_t kek_version = 0;
  std::string state;    // active | shredded
  std::string wrapped;  // empty once shredded
};

struct DataKey {
  std::string key_id;
  std::string trunk;
  std::string period;
  uint32_t kek_version = 0;
  std::unique_ptr<Aead> aead;
};

class DataKeyStore {
 public:
  explicit DataKeyStore(const Keyring& keyring) : keyring_(keyring) {}

  DataKey* Find(const std::string& trunk, const std::string& period);
  const DataKey* FindById(const std::string& key_id) const;

  // Unwraps a stored row and caches the key.  nullptr with *error naming the
  // key when it is shredded, under an unknown KEK version or altered.
  DataKey* Adopt(const DataKeyRow& row, std::string* error);

  // A fresh random key for trunk/period wrapped under the active KEK, as a
  // row to insert (INSERT .. ON CONFLICT (trunk, period) DO NOTHING, then
  // read back and Adopt whichever row won).
  bool NewRow(const std::string& trunk, const std::string& period, DataKeyRow* row,
              std::string* error) const;

  static std::string WrapAad(const std::string& key_id, const std::string& period,
                             const std::string& trunk);

 private:
  const Keyring& keyring_;
  std::map<std::string, std::unique_ptr<DataKey>> by_id_;
  std::map<std::pair<std::string, std::string>, DataKey*> by_trunk_period_;
};

// A fresh random (version 4) UUID in canonical lower-case text.
std::string RandomUuid();

}  // namespace callvault
