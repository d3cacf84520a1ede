// The analytics stage: a bounded queue of finished CDRs, one thread that
// turns each into a pseudonymised event (EventBuilder) and hands it to every
// sink.  Nothing here can slow a call or a CDR write: feeding never blocks,
// and every event that cannot be kept is counted.
//
// Two ways to feed it (docs/analytics-events.md, "Delivery"):
//  - Submit(cdr): live, bounded best-effort.  A full queue drops the event
//    and counts it (analytics.queue_dropped).
//  - Offer(cdr, next): from the journal, at-least-once.  A full queue
//    refuses (returns false, counts nothing): the caller keeps its cursor
//    and offers the record again later.  Acked() is the journal position up
//    to which every offered record is settled in every sink (delivered, or
//    dropped and counted by the sink); persist it as the analytics cursor
//    and resume from it after a restart.  Records replayed from there give
//    the same event_id, so duplicates are detectable (PostgreSQL ignores
//    them).
// Records whose epoch was retired produce no event (analytics.epoch_retired)
// and settle at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "module/analytics/event_builder.h"
#include "module/analytics/sink.h"
#include "module/cdr/cdr.h"
#include "module/config/config.h"
#include "module/crypto/keyring.h"
#include "module/journal/journal.h"

namespace callvault {

class EpochKeyStore;

class AnalyticsPipeline {
 public:
  static constexpr size_t kMaxSinks = 8;

  struct Parts {
    EventBuilderOptions builder;
    std::unique_ptr<EpochKeyStore> keys;
    std::vector<std::unique_ptr<AnalyticsSink>> sinks;  // at most kMaxSinks
    size_t queue_events = 65536;
    // Sinks are flushed (file fsync'ed, database worker woken, acks
    // settled) at most this often, and at least this often when idle.
    std::chrono::milliseconds flush_interval{100};
  };

  // From config.analytics, the trunks and the keyring: opens the epoch key
  // store (EpochKeyFile(config)) and every sink, and starts the thread.
  // nullptr with *error naming the file or config key on failure.
  static std::unique_ptr<AnalyticsPipeline> Create(const Config& config, const Keyring& keyring,
                                                   std::string* error);
  // From explicit parts (tests, bench, other hosts).  Starts the thread.
  static std::unique_ptr<AnalyticsPipeline> Create(Parts parts, std::string* error);

  ~AnalyticsPipeline();  // Stop()
  AnalyticsPipeline(const AnalyticsPipeline&) = delete;
  AnalyticsPipeline& operator=(const AnalyticsPipeline&) = delete;

  // Builds and writes everything queued, flushes the sinks, joins the
  // thread.  Idempotent; Submit/Offer refuse afterwards.
  void Stop();

  // Live feed; never blocks.  False when the event was dropped (counted).
  bool Submit(const Cdr& cdr);
  // Journal feed; never blocks.  False when the queue is full (not counted:
  // offer the same record again later).  Positions must increase.
  bool Offer(const Cdr& cdr, const JournalPosition& next);
  // See above; nullopt until the first offered record settled.
  std::optional<JournalPosition> Acked() const;

  // Waits until everything submitted so far has been built, handed to the
  // sinks and the sinks flushed once (not necessarily delivered).
  // False on timeout.  For tests, demos and orderly shutdown.
  bool WaitIdle(std::chrono::milliseconds timeout);

  // Fixed counter names ("analytics.*", per sink "analytics.sink<i>_<kind>.*").
  void Stats(const std::function<void(std::string_view, uint64_t)>& fn) const;

  const std::vector<std::unique_ptr<AnalyticsSink>>& sinks() const;

 private:
  struct Impl;
  explicit AnalyticsPipeline(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace callvault
