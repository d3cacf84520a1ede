// Read side of the CDR store, for ops and subject requests (callvaultctl cdr
// search / cdr show): find rows by blind index or record id and decrypt them.
// Needs a role that may read payloads (callvault_reader) and the keyring.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <pqxx/connection>

#include "module/cdr/cdr.h"
#include "module/config/config.h"
#include "module/crypto/keyring.h"
#include "module/store/data_keys.h"
#include "module/store/record_codec.h"

namespace callvault {

enum class NumberField { kCaller, kCallee };

class RecordStore {
 public:
  RecordStore(pqxx::connection_base& conn, const Keyring& keyring)
      : conn_(conn), keys_(keyring) {}

  // Rows whose caller_bi (or callee_bi) is one of blind_indexes, with
  // call_day in [from_day, to_day] (YYYY-MM-DD, empty = open), ordered by
  // call_day then record id.  Database errors come back in *error.
  bool Search(NumberField field, const std::vector<std::string>& blind_indexes,
              const std::string& from_day, const std::string& to_day,
              std::vector<RecordRow>* rows, std::string* error);

  // The row of record_id; *found false if there is none.
  bool Fetch(const std::string& record_id, RecordRow* row, bool* found, std::string* error);

  // Verifies and decrypts a row; *error names the record on any failure.
  bool Decrypt(const RecordRow& row, Cdr* cdr, std::string* error);

 private:
  pqxx::connection_base& conn_;
  DataKeyStore keys_;
};

// Every region a trunk of cfg normalises national numbers with (for search).
std::vector<std::string> SearchRegions(const Config& cfg);

}  // namespace callvault
