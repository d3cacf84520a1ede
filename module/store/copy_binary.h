// PostgreSQL binary COPY encoding of cdr.records rows (the format of
// "COPY ... FROM STDIN (FORMAT binary)": a signature header, then per row a
// field count and length-prefixed fields in each type's binary send form,
// then a -1 trailer).  No escaping, no hex: the payload goes as it is.
#pragma once

#include <string>

#include "module/store/record_codec.h"

namespace callvault {

// Column order the encoder writes, for the COPY statement.
inline constexpr char kRecordCopyStatement[] =
    "COPY cdr.records (record_id, node_id, trunk, call_day, retention_class, legal_basis, "
    "retain_until, key_id, caller_bi, callee_bi, payload) FROM STDIN (FORMAT binary)";

class RecordCopyEncoder {
 public:
  RecordCopyEncoder();
  // Appends one row; false if a UUID or day column is malformed.
  bool Add(const RecordRow& row);
  // The complete COPY data (header, rows, trailer); the encoder is spent.
  std::string Finish();
  size_t rows() const { return rows_; }

 private:
  std::string buf_;
  size_t rows_ = 0;
};

}  // namespace callvault
