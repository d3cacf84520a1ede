// One CDR <-> one row of cdr.records.
//
// The row keeps in clear only what retention and lookup need; the CDR JSON is
// sealed with AES-256-GCM under the trunk/month data key, with associated
// data binding record_id, trunk, call_day, retention_class, legal_basis,
// retain_until and key_id (length-prefixed, see Aad()).  So editing
// retain_until, relabelling the trunk or moving a payload to another row makes
// Open() fail, and the failure names the record.
//
// Derivations (fixed here so writer and reader agree):
//  - trunk: the ingress trunk, else the egress trunk, else "" (unknown).
//  - call_day: UTC day of the INVITE (end time if the INVITE time is missing),
//    within [2000-01-01, today + 7 days]: a broken clock or a crafted record
//    must not create partitions for year 9999.
//  - retention: cfg.RetentionFor(trunk); retain_until = call_day + days.
//  - caller_bi: blind index of the P-Asserted-Identity user if present (the
//    network-asserted subscriber), else of the From user; callee_bi: of the
//    Request-URI user.  The trunk's default_region normalises national forms.
#pragma once

#include <string>
#include <string_view>

#include "module/cdr/cdr.h"
#include "module/config/config.h"
#include "module/store/blind_index.h"
#include "module/store/cdr_summary.h"
#include "module/store/data_keys.h"

namespace callvault {

struct RecordRow {
  std::string record_id;  // canonical lower-case UUID
  std::string node_id;
  std::string trunk;
  std::string call_day;  // YYYY-MM-DD
  std::string retention_class;
  std::string legal_basis;
  std::string retain_until;  // YYYY-MM-DD
  int hold_state = 0;
  std::string key_id;
  std::string caller_bi;  // 32 bytes, or empty for NULL
  std::string callee_bi;
  std::string payload;  // nonce || ciphertext || tag

  std::string period() const { return call_day.substr(0, 7); }  // YYYY-MM
};

class RecordCodec {
 public:
  // Both must outlive the codec.
  RecordCodec(const Config& cfg, const BlindIndexer& blind_index)
      : cfg_(cfg), blind_index_(blind_index) {}

  // Fills every clear column except key_id and payload.  False with *error
  // for a record that cannot be stored (bad record id, time out of range).
  bool Describe(const CdrSummary& cdr, RecordRow* row, std::string* error) const;

  // Seals cdr_json (the CDR's JSON form) into row->payload under key and sets
  // row->key_id.  False only when the key is exhausted.
  static bool Seal(std::string_view cdr_json, DataKey* key, RecordRow* row, std::string* error);

  // Verifies and decrypts.  *error: "record <uuid>: payload authentication
  // failed (retention metadata or payload altered)" and the like.
  static bool Open(const RecordRow& row, const DataKey& key, Cdr* out, std::string* error);

  static std::string Aad(const RecordRow& row);

 private:
  const Config& cfg_;
  const BlindIndexer& blind_index_;
  const std::string default_region_ = TrunkConfig{}.default_region;  // unknown trunks
};

// Canonical lower-case form of a UUID text; false if it is not one.
bool CanonicalUuid(std::string_view in, std::string* out);
// Days since 1970-01-01 <-> "YYYY-MM-DD".
std::string FormatDay(int64_t days_since_epoch);
bool ParseDay(std::string_view text, int64_t* days_since_epoch);

}  // namespace callvault
