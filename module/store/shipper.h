// The shipper: journal -> PostgreSQL, exactly once.
//
// Each batch (up to database.batch_size records) is read from the journal
// starting at this node's checkpoint in cdr.ship_positions, encrypted into
// rows (record_codec.h) and written by binary COPY (libpq, pg_session.h) in
// ONE transaction together with the new checkpoint.  A read-ahead thread
// (batch_reader.h) prepares the next batch while one ships.  Either both commit or neither does, so a shipper
// restart, a database error or a crash anywhere re-ships exactly the batch
// that did not commit; a record id already in the table (a journal replay
// after a proxy crash) is counted as a duplicate and skipped.
//
// A record the database refuses (constraint, trigger, bad data) does not
// block the rest: the failed batch is retried row by row in one transaction,
// the culprit goes to cdr.quarantine with its reason and journal position,
// the others land.  Records the shipper cannot decode (journal corruption,
// not a CDR, bad record id) are quarantined the same way.
//
// The database being down, frozen, misconfigured (wrong CA or host name) or
// refusing the writer never loses anything: RunOnce fails, nothing moves, the
// journal keeps every record, Run() retries with exponential backoff.  A
// frozen server cannot hang the shipper: connect_timeout bounds connecting,
// and a client-side watchdog (io_watchdog.h) drops a connection whose round
// trip exceeds io_timeout_ms.
//
// Thread-safety: RunOnce/Run from one thread; stats() from any thread.
//
// Usage (the pipeline): construct once per node with the loaded config and
// keyring, then run it on its own thread:
//   Shipper shipper(cfg, keyring);
//   std::jthread t([&](std::stop_token st) { shipper.Run(st); });
// Records appended to the journal after Run started are picked up within
// idle_poll_ms; request_stop() ends Run after the current batch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>

#include "module/config/config.h"
#include "module/crypto/keyring.h"

namespace callvault {

struct ShipperOptions {
  uint32_t io_timeout_ms = 20000;     // one batch's database work, end to end
  uint32_t connect_timeout_s = 5;
  uint32_t idle_poll_ms = 50;         // Run(): pause when the journal has nothing new
  uint32_t max_backoff_ms = 30000;    // Run(): backoff doubles from database.retry_ms up to this
  // Test seam for crash-consistency tests: called after the rows and the
  // checkpoint were written, right before COMMIT; returning false aborts the
  // transaction exactly as a crash at that point would.
  std::function<bool()> before_commit;
};

struct ShipperStats {
  uint64_t shipped = 0;        // rows committed to cdr.records
  uint64_t duplicates = 0;     // records already stored (replays), skipped
  uint64_t quarantined = 0;    // records parked in cdr.quarantine
  uint64_t batches = 0;        // committed shipping transactions
  uint64_t row_fallbacks = 0;  // batches retried row by row after a refusal
  uint64_t failures = 0;       // failed attempts (nothing committed)
  std::string position;        // committed checkpoint, "segment:offset" ("" = journal
                               // start or not connected yet); read at connect, then per batch
  std::string last_error;      // last failure, safe to log
};

class Shipper {
 public:
  // cfg and keyring must outlive the shipper.  Nothing connects yet.
  Shipper(const Config& cfg, const Keyring& keyring, ShipperOptions opts = {});
  ~Shipper();
  Shipper(const Shipper&) = delete;
  Shipper& operator=(const Shipper&) = delete;

  // Ships one batch of at most min(max_records, database.batch_size)
  // records.  True when the batch committed or the journal had nothing new
  // (*processed = records consumed from the journal, including quarantined
  // and duplicate ones).  False with *error when nothing could be committed;
  // the same records are retried by the next call.
  bool RunOnce(size_t max_records, std::string* error, size_t* processed = nullptr);

  // Ships until stop is requested; failures back off and retry forever.
  void Run(std::stop_token stop);

  ShipperStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace callvault
