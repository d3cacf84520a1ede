// The call tracker's whole state, shared by the state machine
// (call_tracker.cpp) and the snapshot codec (tracker_snapshot.cpp).
// Internal to cv_tracker.
//
// Invariants:
//  - Every entry of `calls` has exactly one entry in `deadlines`, at its
//    deadline_ms: an open call's invite timeout (before answer) or max
//    duration (after), a closed call's end of lingering.
//  - deadlines holds pointers to the keys and values of `calls` (node-based
//    map: elements never move), ordered by (time, key) so expiry order is
//    deterministic.
//  - open_calls == number of entries whose `open` is set.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "module/cdr/cdr.h"
#include "module/tracker/call_tracker.h"

namespace callvault {

// Signatures of the messages one call has already processed, so a
// retransmission (same message, same direction) is recognised without
// keeping messages.  Bounded: the oldest signature is forgotten first, which
// is harmless because every event handler is idempotent.
struct SeenEvents {
  static constexpr size_t kSize = 16;
  std::array<uint64_t, kSize> sig{};  // 0 = empty slot; signatures are never 0
  uint8_t next = 0;

  bool Contains(uint64_t s) const {
    for (uint64_t v : sig) {
      if (v == s) return true;
    }
    return false;
  }
  void Add(uint64_t s) {
    sig[next] = s;
    next = static_cast<uint8_t>((next + 1) % kSize);
  }
};

// What an open call knows beyond its CDR-in-progress.
struct OpenCall {
  Cdr cdr;  // filled as messages arrive; derived fields computed at close
  bool have_rx_invite = false;  // the INVITE as received from the caller side
  bool have_tx_invite = false;  // at least one forwarded copy
  bool answer_from_2xx = false;  // codecs_answered came from a 2xx, not an 18x
  int64_t cancel_time_ms = 0;    // caller gave up (CANCEL, or BYE on an early dialog)
  std::array<uint32_t, 2> reinvite_cseq{};  // highest re-INVITE CSeq counted: caller, callee
  // Final failure statuses received from downstream: a final response sent to
  // the caller with one of these was relayed, otherwise the proxy made it.
  std::array<uint16_t, 4> rx_finals{};
  uint16_t rx_reason_status = 0;  // status whose Reason rx_reason is
  int rx_q850 = 0;
  std::string rx_reason;
};

struct CallState {
  uint32_t invite_cseq = 0;
  int64_t deadline_ms = 0;
  SeenEvents seen;
  std::unique_ptr<OpenCall> open;  // null once closed: a lingering tombstone
};

struct DeadlineEntry {
  int64_t at;
  const std::string* key;
  CallState* call;  // the map value of *key; not part of the order
  bool operator<(const DeadlineEntry& o) const {
    return at != o.at ? at < o.at : *key < *o.key;
  }
};

struct TrackerState {
  // Remembers INVITEs refused for capacity so their other copy,
  // retransmissions and responses are neither counted again nor orphans.
  static constexpr size_t kRefusedMemory = 4096;

  using CallMap = std::unordered_map<std::string, CallState>;
  CallMap calls;  // key: Call-ID, '\x1f', From tag of the initial INVITE
  std::set<DeadlineEntry> deadlines;
  std::deque<uint64_t> refused_order;  // oldest first
  std::unordered_set<uint64_t> refused;
  uint64_t open_calls = 0;
  TrackerStats stats;  // active_calls / lingering_calls derived on read

  TrackerState() = default;
  TrackerState(const TrackerState&) = delete;
  TrackerState& operator=(const TrackerState&) = delete;

  void SetDeadline(CallMap::iterator it, int64_t at) {
    deadlines.erase(DeadlineEntry{it->second.deadline_ms, &it->first, nullptr});
    it->second.deadline_ms = at;
    deadlines.insert(DeadlineEntry{at, &it->first, &it->second});
  }
  void Erase(CallMap::iterator it) {
    deadlines.erase(DeadlineEntry{it->second.deadline_ms, &it->first, nullptr});
    if (it->second.open) --open_calls;
    calls.erase(it);
  }
  void Refuse(uint64_t key_hash) {
    if (!refused.insert(key_hash).second) return;
    refused_order.push_back(key_hash);
    if (refused_order.size() > kRefusedMemory) {
      refused.erase(refused_order.front());
      refused_order.pop_front();
    }
  }
};

std::string EncodeSnapshot(const TrackerState& st);
bool DecodeSnapshot(std::string_view snapshot, TrackerState* st, std::string* error);

}  // namespace callvault
