// The durable, encrypted, append-only record journal: the first sink of every
// record and the store-and-forward layer in front of PostgreSQL and analytics.
//
// Layout: <dir>/seg-<20-digit number>.cvj segments.  Each segment starts with
// a header carrying the KEK version and the segment's data key wrapped under
// that KEK (aad "journal-segment:<n>").  Each record is
//   u32 length | u8 type | sealed(nonce||ct||tag)
// where the AEAD associated data is "cvj1:<segment>:<offset>:<type>", so a
// record moved, re-typed or spliced from another segment fails to decrypt.
//
// Invariants:
//  - A record is durable once Sync() returned after its Append().
//  - A reader never skips silently: a bad tag, a torn length or a wrong key is
//    reported with its exact position; the writer, on open, truncates only a
//    torn tail (a partial last record after a crash) and counts it.
//  - Positions are totally ordered: (segment, offset).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "module/crypto/keyring.h"

namespace callvault {

enum class RecordType : uint8_t {
  kCdr = 1,  // payload: CDR JSON (module/cdr/cdr_json.h)
};

struct JournalPosition {
  uint64_t segment = 0;
  uint64_t offset = 0;  // byte offset within the segment of the next record
  auto operator<=>(const JournalPosition&) const = default;
  std::string ToString() const;  // "segment:offset"
  static bool Parse(std::string_view s, JournalPosition* out);
};

struct JournalOptions {
  std::string dir;
  uint64_t segment_bytes = 64ull << 20;
  uint64_t max_bytes = 8ull << 30;
  uint32_t alarm_percent = 80;
};

class JournalWriter {
 public:
  static std::unique_ptr<JournalWriter> Open(const JournalOptions& opts, const Keyring& keyring,
                                             std::string* error);
  ~JournalWriter();

  // Buffers one record.  Returns false (and sets *error) if the disk bound
  // would be exceeded or the write failed; the caller keeps the record.
  bool Append(RecordType type, std::string_view payload, JournalPosition* at,
              std::string* error);
  // Writes buffered records and fsyncs (group commit).
  bool Sync(std::string* error);

  JournalPosition end() const;     // position after the last appended record
  uint64_t bytes_on_disk() const;  // all segments
  bool over_alarm() const;         // use above alarm_percent of max_bytes
  uint64_t torn_tail_bytes() const;  // truncated at open after a crash

  // Deletes whole segments that every consumer has passed.
  void DropSegmentsBefore(uint64_t segment);

 private:
  struct Impl;
  explicit JournalWriter(std::unique_ptr<Impl>);
  std::unique_ptr<Impl> impl_;
};

struct JournalRecord {
  JournalPosition at;
  JournalPosition next;
  RecordType type = RecordType::kCdr;
  std::string payload;  // decrypted
};

class JournalReader {
 public:
  enum class Status { kOk, kEnd, kCorrupt };

  static std::unique_ptr<JournalReader> Open(const std::string& dir, const Keyring& keyring,
                                             std::string* error);
  ~JournalReader();

  bool Seek(JournalPosition pos, std::string* error);
  // kEnd: nothing more yet (a live writer may add more; call again later).
  // kCorrupt: *error names the segment file and offset; the reader stays on
  // the bad record (the caller decides whether to quarantine and Skip()).
  Status Next(JournalRecord* out, std::string* error);
  // Moves past a record reported kCorrupt (to the next segment if the
  // length itself is unreadable).  Returns the position skipped to.
  JournalPosition Skip();
  JournalPosition position() const;

 private:
  struct Impl;
  explicit JournalReader(std::unique_ptr<Impl>);
  std::unique_ptr<Impl> impl_;
};

}  // namespace callvault
