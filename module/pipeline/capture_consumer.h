// The capture ring's one consumer: ring -> SIP parser -> call tracker ->
// encrypted journal, with group commit and crash checkpoints.
//
// Invariants:
//  - A ring slot is released only after a checkpoint that covers it is
//    durable, and a checkpoint is written only when every CDR derived from the
//    messages it covers is fsynced in the journal.  So a crash at any point
//    loses no message whose hook call returned.
//  - After a restart the consumer replays the ring from the checkpoint; CDRs
//    the crashed process had already journaled are recognised by their stable
//    record ids and not written again.
//  - When the journal refuses a record (disk bound), consumption pauses; the
//    record is kept and retried, never dropped.  The ring then absorbs the
//    backlog and, if it fills, the hook counts drops: the call path never waits.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <unordered_set>

#include "module/capture/capture_ring.h"
#include "module/config/config.h"
#include "module/crypto/keyring.h"
#include "module/journal/journal.h"
#include "module/pipeline/stats.h"
#include "module/tracker/call_tracker.h"

namespace callvault {

class CaptureConsumer {
 public:
  // Restores the checkpoint (if any) and prepares replay.  The ring and the
  // journal writer must outlive the consumer.
  static std::unique_ptr<CaptureConsumer> Create(const Config& cfg, const Keyring& keyring,
                                                 CaptureRing* ring, JournalWriter* journal,
                                                 std::string* error);
  ~CaptureConsumer();

  // The oldest journal position any downstream still needs; whole segments
  // before it are deleted.  Without one the journal keeps everything (up to
  // its disk bound).
  void SetJournalFloor(std::function<std::optional<JournalPosition>()> floor);

  void Run(std::stop_token stop);
  void Stats(const StatFn& fn) const;

 private:
  CaptureConsumer(const Config& cfg, const Keyring& keyring, CaptureRing* ring,
                  JournalWriter* journal);
  bool Restore(std::string* error);
  void Process(const CapturedMessage& m);
  void OnCdr(Cdr&& cdr);
  bool FlushPending();
  bool TryCheckpoint(bool force);
  void ReportAlarms();

  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace callvault
