#include "module/pipeline/capture_consumer.h"

#include <chrono>
#include <deque>
#include <thread>

#include "module/cdr/cdr_json.h"
#include "module/pipeline/checkpoint.h"
#include "module/util/log.h"
#include "sip/parse/sip_message.h"

namespace callvault {
namespace {

using Clock = std::chrono::steady_clock;

int64_t WallNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Logs at most once per period so a flood of bad input cannot flood the log.
class RateLimit {
 public:
  explicit RateLimit(std::chrono::seconds period) : period_(period) {}
  bool Allow() {
    auto now = Clock::now();
    if (now - last_ < period_) return false;
    last_ = now;
    return true;
  }

 private:
  std::chrono::seconds period_;
  Clock::time_point last_{};
};

}  // namespace

struct CaptureConsumer::State {
  State(const Config& c, const Keyring& k, CaptureRing* r, JournalWriter* j, CallTracker::CdrSink sink)
      : cfg(c),
        keyring(k),
        ring(r),
        journal(j),
        tracker(TrackerOptions{c.node_id, c.tracker.max_call_duration_s * 1000,
                               c.tracker.invite_timeout_s * 1000, c.tracker.linger_s * 1000,
                               c.tracker.max_active_calls},
                std::move(sink)),
        checkpoint_path(c.capture.state_dir + "/checkpoint") {}

  Config cfg;
  const Keyring& keyring;
  CaptureRing* ring;
  JournalWriter* journal;
  CallTracker tracker;
  std::string checkpoint_path;

  uint64_t pos = 0;  // next ring position to read
  std::deque<std::string> pending;  // CDR JSON not yet accepted by the journal
  bool dirty = false;               // appended since the last Sync

  bool replaying = false;
  uint64_t replay_until = 0;
  std::unordered_set<std::string> replay_ids;  // journaled by the previous process

  Clock::time_point last_sync = Clock::now();
  Clock::time_point last_checkpoint = Clock::now();
  Clock::time_point last_tick = Clock::now();
  Clock::time_point last_alarm_check = Clock::now();
  uint64_t last_dropped = 0;
  std::function<std::optional<JournalPosition>()> journal_floor;

  RateLimit parse_log{std::chrono::seconds(10)};
  RateLimit journal_log{std::chrono::seconds(10)};
  RateLimit drop_log{std::chrono::seconds(10)};
  RateLimit disk_log{std::chrono::seconds(60)};

  Counter messages, parse_errors, torn, cdrs_journaled, replay_suppressed, journal_refused,
      checkpoints, checkpoint_errors, sync_errors;
  Counter active_calls, lingering_calls, calls_started, retransmissions, reinvites, orphans,
      rejected_capacity, pending_gauge, journal_bytes, journal_over_alarm;
};

CaptureConsumer::CaptureConsumer(const Config& cfg, const Keyring& keyring, CaptureRing* ring,
                                 JournalWriter* journal)
    : s_(std::make_unique<State>(cfg, keyring, ring, journal,
                                 [this](Cdr&& cdr) { OnCdr(std::move(cdr)); })) {}

CaptureConsumer::~CaptureConsumer() = default;

std::unique_ptr<CaptureConsumer> CaptureConsumer::Create(const Config& cfg, const Keyring& keyring,
                                                         CaptureRing* ring, JournalWriter* journal,
                                                         std::string* error) {
  std::unique_ptr<CaptureConsumer> c(new CaptureConsumer(cfg, keyring, ring, journal));
  if (!c->Restore(error)) return nullptr;
  return c;
}

bool CaptureConsumer::Restore(std::string* error) {
  State& s = *s_;
  Checkpoint cp;
  bool found = false;
  if (!ReadCheckpoint(s.checkpoint_path, s.cfg.node_id, s.keyring, &cp, &found, error)) {
    return false;
  }
  JournalPosition scan_from{};
  s.pos = s.ring->release_pos();
  if (found) {
    if (!s.tracker.Restore(cp.tracker_snapshot, error)) {
      *error = "checkpoint " + s.checkpoint_path + ": " + *error;
      return false;
    }
    // A checkpoint from an older ring generation (the shared memory was lost,
    // e.g. by a reboot) still carries the calls in progress; only its ring
    // position is meaningless.
    if (cp.ring_generation == s.ring->generation() && cp.ring_pos > s.pos) {
      s.pos = cp.ring_pos;
      s.ring->ReleaseUpTo(cp.ring_pos);
    }
    scan_from = cp.journal_end;
  }

  s.replay_until = s.ring->enqueue_pos();
  if (s.replay_until > s.pos) {
    // The previous process may have journaled CDRs from messages after its
    // last checkpoint; remember their ids so the replay does not write them twice.
    auto reader = JournalReader::Open(s.cfg.journal.dir, s.keyring, error);
    if (!reader || !reader->Seek(scan_from, error)) return false;
    JournalRecord rec;
    std::string err;
    for (;;) {
      auto st = reader->Next(&rec, &err);
      if (st == JournalReader::Status::kEnd) break;
      if (st == JournalReader::Status::kCorrupt) {
        Log()->error("journal: {} (skipped while collecting replay ids)", err);
        reader->Skip();
        continue;
      }
      Cdr cdr;
      if (rec.type == RecordType::kCdr && CdrFromJson(rec.payload, &cdr, &err)) {
        s.replay_ids.insert(cdr.record_id);
      }
    }
    s.replaying = true;
    Log()->info("capture: resuming {} unconsumed messages; {} CDRs already journaled",
                s.replay_until - s.pos, s.replay_ids.size());
  }
  return true;
}

void CaptureConsumer::OnCdr(Cdr&& cdr) {
  State& s = *s_;
  if (s.replaying && s.replay_ids.erase(cdr.record_id)) {
    s.replay_suppressed.Add();
    return;
  }
  s.pending.push_back(CdrToJson(cdr));
}

bool CaptureConsumer::FlushPending() {
  State& s = *s_;
  while (!s.pending.empty()) {
    JournalPosition at;
    std::string err;
    if (!s.journal->Append(RecordType::kCdr, s.pending.front(), &at, &err)) {
      s.journal_refused.Add();
      if (s.journal_log.Allow()) {
        Log()->error("journal refused a CDR, consumption paused until it accepts: {}", err);
      }
      s.pending_gauge.Set(s.pending.size());
      return false;
    }
    s.pending.pop_front();
    s.cdrs_journaled.Add();
    s.dirty = true;
  }
  s.pending_gauge.Set(0);
  return true;
}

void CaptureConsumer::Process(const CapturedMessage& m) {
  State& s = *s_;
  s.messages.Add();
  if (m.info.flags & CaptureRing::kTornFlag) {
    s.torn.Add();
    return;
  }
  SipMessage msg;
  std::string err;
  if (!ParseSipMessage(m.bytes, &msg, &err)) {
    s.parse_errors.Add();
    if (s.parse_log.Allow()) Log()->warn("unparseable SIP message counted and skipped: {}", err);
    return;
  }
  s.tracker.OnMessage(m.info, msg);
}

bool CaptureConsumer::TryCheckpoint(bool force) {
  State& s = *s_;
  s.last_checkpoint = Clock::now();
  // A checkpoint claims every CDR of the messages below pos is durable: not
  // true while some wait for the journal.
  if (!s.pending.empty()) return false;
  if (!force && s.pos == s.ring->release_pos() && !s.dirty) return true;
  std::string err;
  if (!s.journal->Sync(&err)) {
    s.sync_errors.Add();
    Log()->error("journal sync failed: {}", err);
    return false;
  }
  s.dirty = false;
  s.last_sync = Clock::now();
  Checkpoint cp{s.ring->generation(), s.pos, s.journal->end(), s.tracker.Serialize()};
  if (!WriteCheckpoint(s.checkpoint_path, s.cfg.node_id, s.keyring, cp, &err)) {
    s.checkpoint_errors.Add();
    Log()->error("{}", err);
    return false;
  }
  s.checkpoints.Add();
  s.ring->ReleaseUpTo(s.pos);
  return true;
}

void CaptureConsumer::ReportAlarms() {
  State& s = *s_;
  const uint64_t dropped = s.ring->dropped_full() + s.ring->dropped_too_large();
  if (dropped != s.last_dropped && s.drop_log.Allow()) {
    Log()->error("capture ring dropped {} messages so far ({} full, {} oversized)", dropped,
                 s.ring->dropped_full(), s.ring->dropped_too_large());
    s.last_dropped = dropped;
  }
  if (s.journal->over_alarm() && s.disk_log.Allow()) {
    Log()->warn("journal uses {} bytes, above {}% of its bound {}", s.journal->bytes_on_disk(),
                s.cfg.journal.alarm_percent, s.cfg.journal.max_bytes);
  }
  // Published for stats(), which runs on other threads than the journal's.
  s.journal_bytes.Set(s.journal->bytes_on_disk());
  s.journal_over_alarm.Set(s.journal->over_alarm() ? 1 : 0);
  const TrackerStats t = s.tracker.stats();
  s.active_calls.Set(t.active_calls);
  s.lingering_calls.Set(t.lingering_calls);
  s.calls_started.Set(t.calls_started);
  s.retransmissions.Set(t.retransmissions);
  s.reinvites.Set(t.reinvites);
  s.orphans.Set(t.orphans);
  s.rejected_capacity.Set(t.rejected_capacity);
}

void CaptureConsumer::SetJournalFloor(std::function<std::optional<JournalPosition>()> floor) {
  s_->journal_floor = std::move(floor);
}

void CaptureConsumer::Run(std::stop_token stop) {
  State& s = *s_;
  const auto group_commit = std::chrono::milliseconds(s.cfg.journal.group_commit_ms);
  const auto checkpoint_every = std::chrono::milliseconds(s.cfg.capture.checkpoint_interval_ms);
  while (!stop.stop_requested()) {
    bool progressed = false;
    if (FlushPending()) {
      CapturedMessage m;
      for (int n = 0; n < 1024 && s.ring->Peek(s.pos, &m); ++n) {
        Process(m);
        ++s.pos;
        progressed = true;
        if (!FlushPending()) break;
      }
    }
    if (s.replaying && s.pos >= s.replay_until) {
      s.replaying = false;
      s.replay_ids.clear();
    }
    const auto now = Clock::now();
    // While replaying a backlog, wall-clock time is ahead of the messages:
    // ticking now would time out calls whose later messages are still queued.
    // The tracker applies deadlines from message times meanwhile.
    if (!s.replaying && now - s.last_tick >= std::chrono::milliseconds(100)) {
      s.last_tick = now;
      s.tracker.Tick(WallNowMs());
      FlushPending();
    }
    if (s.dirty && now - s.last_sync >= group_commit) {
      std::string err;
      if (s.journal->Sync(&err)) {
        s.dirty = false;
      } else {
        s.sync_errors.Add();
        if (s.journal_log.Allow()) Log()->error("journal sync failed: {}", err);
      }
      s.last_sync = now;
    }
    if (now - s.last_checkpoint >= checkpoint_every) TryCheckpoint(false);
    if (now - s.last_alarm_check >= std::chrono::seconds(1)) {
      s.last_alarm_check = now;
      ReportAlarms();
      if (s.journal_floor) {
        if (auto floor = s.journal_floor()) s.journal->DropSegmentsBefore(floor->segment);
      }
    }
    if (!progressed) std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  // Drain what has arrived, so a clean close leaves the ring empty.
  CapturedMessage m;
  while (FlushPending() && s.ring->Peek(s.pos, &m)) {
    Process(m);
    ++s.pos;
  }
  FlushPending();
  TryCheckpoint(true);
  ReportAlarms();
}

void CaptureConsumer::Stats(const StatFn& fn) const {
  const State& s = *s_;
  fn("capture.accepted", s.ring->enqueue_pos());
  fn("capture.dropped_full", s.ring->dropped_full());
  fn("capture.dropped_too_large", s.ring->dropped_too_large());
  fn("capture.consumed", s.messages.Get());
  fn("capture.torn", s.torn.Get());
  fn("parse.errors", s.parse_errors.Get());
  fn("tracker.calls_started", s.calls_started.Get());
  fn("tracker.active_calls", s.active_calls.Get());
  fn("tracker.lingering_calls", s.lingering_calls.Get());
  fn("tracker.retransmissions", s.retransmissions.Get());
  fn("tracker.reinvites", s.reinvites.Get());
  fn("tracker.orphans", s.orphans.Get());
  fn("tracker.rejected_capacity", s.rejected_capacity.Get());
  fn("journal.cdrs_written", s.cdrs_journaled.Get());
  fn("journal.refused", s.journal_refused.Get());
  fn("journal.pending", s.pending_gauge.Get());
  fn("journal.sync_errors", s.sync_errors.Get());
  fn("journal.bytes", s.journal_bytes.Get());
  fn("journal.over_alarm", s.journal_over_alarm.Get());
  fn("checkpoint.writes", s.checkpoints.Get());
  fn("checkpoint.errors", s.checkpoint_errors.Get());
  fn("replay.suppressed", s.replay_suppressed.Get());
}

}  // namespace callvault
