// KEK rotation for the CDR store: rewraps every active data key in
// cdr.data_keys under the keyring's active KEK.  Only the wrapped key and its
// kek_version change; key ids and therefore every payload and its associated
// data stay as they are, so no record is read or rewritten.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <pqxx/connection>

#include "module/crypto/keyring.h"

namespace callvault {

struct RewrapResult {
  uint32_t kek_version = 0;   // the version everything is wrapped under now
  size_t rewrapped = 0;       // keys moved to kek_version
  size_t already_current = 0;
  size_t shredded = 0;        // nothing to rewrap
};

// One transaction, rows locked FOR UPDATE: either every active key ends up
// under the active KEK or none changes.  Each key is unwrapped with the KEK
// version recorded on its row, so the keyring must still hold old versions.
bool RewrapDataKeys(pqxx::connection_base& conn, const Keyring& keyring, RewrapResult* result,
                    std::string* error);

}  // namespace callvault
