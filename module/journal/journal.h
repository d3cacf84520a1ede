// The durable, encrypted, append-only record journal: the first sink of every
// record and the store-and-forward layer in front of PostgreSQL and analytics.
//
// Layout: <dir>/seg-<20-digit number>.cvj segments, numbered from 1.  Each
// segment starts with an 84-byte header carrying the KEK version and the
// segment's own random data key wrapped under that KEK (aad
// "journal-segment:<n>").  Each record is
//   u32 length | u8 type | u32 CRC-32C(length, type) | sealed(nonce||ct||tag)
// where the AEAD associated data is "cvj1:<segment>:<offset>:<type>", so a
// record moved, re-typed or spliced from another segment fails to decrypt.
// The CRC guards only the framing (see segment_format.h for why); integrity
// of the content is the AEAD tag's job.
//
// Invariants:
//  - A record is durable once Sync() returned true after its Append().
//  - A reader never skips silently: a bad tag, a damaged frame, a cut-short
//    record or a wrong key is reported with its exact position; the writer,
//    on open, truncates only a torn tail (a partial last record after a
//    crash) and counts it.  Damage anywhere else is left for readers to report
//    and the writer continues in a fresh segment.
//  - Positions are totally ordered: (segment, offset).  Segment numbers only
//    grow; a segment is complete once a later one exists.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "module/crypto/keyring.h"

namespace callvault {

enum class RecordType : uint8_t {
  kCdr = 1,  // payload: CDR JSON (module/cdr/cdr_json.h)
};

struct JournalPosition {
  uint64_t segment = 0;  // 0: before the first segment
  uint64_t offset = 0;   // byte offset within the segment of the next record
  auto operator<=>(const JournalPosition&) const = default;
  std::string ToString() const;  // "segment:offset", both decimal
  // Accepts exactly what ToString produces; false (and *out unchanged) otherwise.
  static bool Parse(std::string_view s, JournalPosition* out);
};

struct JournalOptions {
  std::string dir;
  uint64_t segment_bytes = 64ull << 20;  // roll when the next record would pass this
  uint64_t max_bytes = 8ull << 30;       // all segments together; Append refuses beyond
  uint32_t alarm_percent = 80;           // 1..100
};

// One writer per directory (an flock on <dir>/writer.lock enforces it across
// processes).  Thread-safe: every member takes an internal mutex.
class JournalWriter {
 public:
  static constexpr size_t kMaxPayloadBytes = 16u << 20;

  // Creates dir (0700) if missing, checks the options, opens the last
  // segment (its KEK must be in the keyring, else the open is refused: a
  // wrong keyring is a configuration error) and truncates a torn tail.
  static std::unique_ptr<JournalWriter> Open(const JournalOptions& opts, const Keyring& keyring,
                                             std::string* error);
  // Syncs what is still buffered; a failure is logged (call Sync() first to
  // handle it).
  ~JournalWriter();

  // Buffers one record and sets *at to its position.  Returns false (and
  // sets *error) if the payload is over kMaxPayloadBytes, the disk bound
  // would be exceeded, or rolling to a new segment failed; the caller keeps
  // the record.  New segments use the keyring's active KEK at Open time.
  bool Append(RecordType type, std::string_view payload, JournalPosition* at,
              std::string* error);
  // Writes buffered records and fsyncs (group commit).  On a write failure
  // the partial write is cut off again and the records stay buffered for the
  // next Sync; on an fsync failure they are written but not known durable.
  bool Sync(std::string* error);

  JournalPosition end() const;       // position after the last appended record
  uint64_t bytes_on_disk() const;    // all segments, counting buffered records
  bool over_alarm() const;           // use above alarm_percent of max_bytes
  uint64_t torn_tail_bytes() const;  // truncated at open after a crash

  // Deletes whole segments numbered below `segment` that every consumer has
  // passed; never the segment being written.
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

// Reads segments in order, following a live writer (tail -f): at the end of
// the newest segment Next() returns kEnd and later picks up what the writer
// adds, moving on to the next segment once one exists.  Not thread-safe; one
// reader per consumer.
class JournalReader {
 public:
  enum class Status { kOk, kEnd, kCorrupt };

  // Starts before the first segment.  dir must exist.
  static std::unique_ptr<JournalReader> Open(const std::string& dir, const Keyring& keyring,
                                             std::string* error);
  ~JournalReader();

  // Continues at pos (a record's `next`, or {0,0} for the beginning).  Fails
  // if pos names a segment that does not exist.
  bool Seek(JournalPosition pos, std::string* error);
  // kEnd: nothing more yet (a live writer may add more; call again later).
  // A record not yet fully written in the newest segment is kEnd, not
  // kCorrupt; the same in an older segment is kCorrupt.
  // kCorrupt: *error is "<segment file> offset <n>: <what>"; the reader stays
  // on the bad record (the caller decides whether to quarantine and Skip()).
  Status Next(JournalRecord* out, std::string* error);
  // Moves past what Next() reported kCorrupt: past the record if its framing
  // is intact, to the next record that verifies if the frame itself is
  // damaged, or to the next segment if the segment header is unusable or the
  // segment is cut short.  Returns the position skipped to.
  JournalPosition Skip();
  JournalPosition position() const;

 private:
  struct Impl;
  explicit JournalReader(std::unique_ptr<Impl>);
  std::unique_ptr<Impl> impl_;
};

}  // namespace callvault
