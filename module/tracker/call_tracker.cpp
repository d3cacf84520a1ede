// The call state machine.  See call_tracker.h for the contract and
// tracker_state.h for the state's invariants.
//
// Which copy decides what (the host reports each message as RECEIVED from the
// network and again as SENT when it forwards it):
//  - Times (ring, answer, BYE, CANCEL) are those of the first copy seen.
//  - The INVITE's caller-side facts (From, R-URI, source, ingress) come from
//    the RECEIVED copy; the destination and egress from the SENT copies, the
//    last forwarded copy winning (serial failover: the last destination tried
//    is the one whose outcome the CDR reports).
//  - A final failure closes the call only when SENT to the caller: a failure
//    received from one downstream may still be followed by a retry elsewhere.
//    If its status was never RECEIVED the proxy generated it.
//  - 18x and 2xx act on the first copy: neither can be undone by a retry.
#include <algorithm>
#include <utility>

#include "module/tracker/call_tracker.h"
#include "module/tracker/capture_text.h"
#include "module/tracker/tracker_state.h"
#include "sip/parse/field_text.h"

namespace callvault {
namespace {

constexpr char kKeySep = '\x1f';  // never in a capped field (control chars become '?')

int64_t WallMs(const CaptureInfo& info) { return info.wall_ns > 0 ? info.wall_ns / 1000000 : 0; }

bool IsDirection(const CaptureInfo& info, cv_direction d) { return info.direction == d; }

std::string Trunk(std::string_view t) { return CapField(t, CV_TRUNK_MAX - 1); }

// Hash of everything that distinguishes one message from another within a
// call.  Via branch separates the hops (a forwarded request carries the
// proxy's branch on top, a forwarded response the caller's), direction
// separates RECEIVED from SENT, so only a true retransmission matches.
uint64_t EventSignature(const CaptureInfo& info, const SipMessage& m) {
  const char head[3] = {static_cast<char>(info.direction), m.is_request ? 'Q' : 'R', kKeySep};
  uint64_t h = Fnv1a64(std::string_view(head, sizeof(head)));
  const uint32_t numbers[2] = {static_cast<uint32_t>(m.status), m.cseq};
  h = Fnv1a64(std::string_view(reinterpret_cast<const char*>(numbers), sizeof(numbers)), h);
  // Every field ends with the separator, which no capped field contains, so
  // different splits of the same characters hash differently.
  for (const std::string* s : {&m.method, &m.cseq_method, &m.from_tag, &m.to_tag, &m.via_branch}) {
    h = Fnv1a64(*s, h);
    h = Fnv1a64(std::string_view(&kKeySep, 1), h);
  }
  return h == 0 ? 1 : h;
}

// Methods that belong to INVITE dialogs: only these are orphans when no call
// matches.  Everything else (REGISTER, OPTIONS, SUBSCRIBE, ...) is simply not
// call traffic.
bool IsInviteDialogMethod(std::string_view m) {
  for (std::string_view x : {"INVITE", "ACK", "BYE", "CANCEL", "PRACK", "UPDATE", "INFO"}) {
    if (m == x) return true;
  }
  return false;
}

Disposition FailureDisposition(int status) {
  switch (status) {
    case 486:
    case 600: return Disposition::kBusy;
    case 408:
    case 480: return Disposition::kNoAnswer;
    case 487: return Disposition::kCancelled;
    default: return Disposition::kFailed;
  }
}

std::string Codecs(const std::vector<std::string>& codecs) {
  return JoinCapped(codecs, ',', kMaxFieldBytes);
}

struct Closing {
  int64_t end_ms = 0;
  int64_t final_ms = 0;  // when the final response was seen; 0 if none
  Disposition disposition = Disposition::kFailed;
  ReleasedBy released_by = ReleasedBy::kNone;
  uint32_t flags = 0;
};

}  // namespace

struct CallTracker::Impl {
  TrackerOptions opts;
  CdrSink sink;
  std::unique_ptr<TrackerState> st = std::make_unique<TrackerState>();
  std::string key;  // reused lookup buffer

  Impl(TrackerOptions o, CdrSink s) : opts(std::move(o)), sink(std::move(s)) {
    opts.node_id = CapField(opts.node_id, kMaxFieldBytes);
  }

  const std::string& Key(const std::string& call_id, const std::string& tag) {
    key.assign(call_id);
    key += kKeySep;
    key += tag;
    return key;
  }

  void OnMessage(const CaptureInfo& info, const SipMessage& msg) {
    const int64_t t = WallMs(info);
    // Deadlines that passed before this message act first, so the outcome
    // depends on the messages, not on when Tick happened to run.
    Expire(t);
    if (msg.is_request && msg.method == "INVITE" && msg.to_tag.empty()) {
      OnInitialInvite(info, msg, t);
    } else {
      OnDialogMessage(info, msg, t);
    }
  }

  void OnInitialInvite(const CaptureInfo& info, const SipMessage& msg, int64_t t) {
    auto it = st->calls.find(Key(msg.call_id, msg.from_tag));
    if (it != st->calls.end()) {
      CallState& c = it->second;
      // A higher CSeq after the attempt closed is the caller's next attempt
      // in the same dialog (typically after a 401/407 challenge): a new CDR.
      if (!c.open && msg.cseq > c.invite_cseq) {
        st->Erase(it);
      } else {
        if (msg.cseq != c.invite_cseq) return;  // stale attempt: nothing to learn
        if (!Fresh(c, info, msg)) return;
        if (c.open) ApplyInviteCopy(*c.open, info, msg);
        return;
      }
    }
    const uint64_t key_hash = Fnv1a64(key);
    if (st->refused.count(key_hash)) return;
    if (st->open_calls >= opts.max_active_calls) {
      st->Refuse(key_hash);
      ++st->stats.rejected_capacity;
      return;
    }
    it = st->calls.emplace(key, CallState{}).first;
    CallState& c = it->second;
    c.invite_cseq = msg.cseq;
    c.seen.Add(EventSignature(info, msg));
    c.open = std::make_unique<OpenCall>();
    Cdr& cdr = c.open->cdr;
    cdr.record_id = MakeRecordId(opts.node_id, info);
    cdr.node_id = opts.node_id;
    cdr.call_id = msg.call_id;
    cdr.invite_time_ms = t;
    ++st->open_calls;
    ++st->stats.calls_started;
    st->SetDeadline(it, t + opts.invite_timeout_ms);
    ApplyInviteCopy(*c.open, info, msg);
  }

  // False (and counted) when this exact message was already processed.
  bool Fresh(CallState& c, const CaptureInfo& info, const SipMessage& msg) {
    const uint64_t sig = EventSignature(info, msg);
    if (c.seen.Contains(sig)) {
      ++st->stats.retransmissions;
      return false;
    }
    c.seen.Add(sig);
    return true;
  }

  static void FillFromInvite(Cdr& cdr, const SipMessage& msg) {
    cdr.caller = msg.from_user;
    cdr.caller_host = msg.from_host;
    cdr.caller_pai = msg.pai_user;
    cdr.callee = msg.ruri_user;
    cdr.callee_host = msg.ruri_host;
    cdr.callee_to = msg.to_user;
    cdr.diversion = msg.diversion_user;
    cdr.caller_ua = msg.user_agent;
    cdr.codecs_offered = Codecs(msg.codecs);
  }

  void ApplyInviteCopy(OpenCall& o, const CaptureInfo& info, const SipMessage& msg) {
    Cdr& cdr = o.cdr;
    NoteMeta(cdr, info);
    if (IsDirection(info, CV_DIR_RECEIVED)) {
      if (o.have_rx_invite) return;
      o.have_rx_invite = true;
      FillFromInvite(cdr, msg);
      cdr.src_addr = FormatAddress(info.src);
      if (!info.ingress_trunk.empty()) cdr.ingress_trunk = Trunk(info.ingress_trunk);
      return;
    }
    // A host that reports only what it sends still gets the caller's facts.
    if (!o.have_rx_invite && !o.have_tx_invite) {
      FillFromInvite(cdr, msg);
      cdr.src_addr = FormatAddress(info.src);
    }
    o.have_tx_invite = true;
    cdr.dst_addr = FormatAddress(info.dst);
    if (!info.egress_trunk.empty()) cdr.egress_trunk = Trunk(info.egress_trunk);
  }

  // Facts any message of the call may carry.
  static void NoteMeta(Cdr& cdr, const CaptureInfo& info) {
    if (info.flags & CV_FLAG_LI) cdr.flags |= kCdrFlagHostLi;
    if (cdr.ingress_trunk.empty() && !info.ingress_trunk.empty()) {
      cdr.ingress_trunk = Trunk(info.ingress_trunk);
    }
    if (cdr.egress_trunk.empty() && !info.egress_trunk.empty()) {
      cdr.egress_trunk = Trunk(info.egress_trunk);
    }
  }

  void OnDialogMessage(const CaptureInfo& info, const SipMessage& msg, int64_t t) {
    // Messages of the caller's transactions carry the caller's tag in From;
    // those of the callee's (a BYE from the callee, its responses) in To.
    bool from_caller = true;
    auto it = st->calls.find(Key(msg.call_id, msg.from_tag));
    if (it == st->calls.end() && !msg.to_tag.empty()) {
      from_caller = false;
      it = st->calls.find(Key(msg.call_id, msg.to_tag));
    }
    if (it == st->calls.end()) {
      if (!IsInviteDialogMethod(msg.method)) return;
      if (st->refused.count(Fnv1a64(Key(msg.call_id, msg.from_tag))) ||
          (!msg.to_tag.empty() && st->refused.count(Fnv1a64(Key(msg.call_id, msg.to_tag))))) {
        return;
      }
      ++st->stats.orphans;
      return;
    }
    CallState& c = it->second;
    if (!Fresh(c, info, msg) || !c.open) return;  // closed calls absorb late messages
    OpenCall& o = *c.open;
    NoteMeta(o.cdr, info);
    if (!msg.is_request) {
      if (from_caller && msg.cseq_method == "INVITE" && msg.cseq == c.invite_cseq) {
        OnInviteResponse(it, info, msg, t);
      }
      return;  // responses to BYE, CANCEL, re-INVITEs, ... change nothing
    }
    if (msg.method == "INVITE") {
      // Both copies of a re-INVITE carry the same CSeq from the same side;
      // CSeq only grows per side, so counting on growth counts each once.
      o.cdr.flags |= kCdrFlagReinvite;
      uint32_t& last = o.reinvite_cseq[from_caller ? 0 : 1];
      if (msg.cseq > last) {
        last = msg.cseq;
        ++st->stats.reinvites;
      }
    } else if (msg.method == "BYE") {
      OnBye(it, msg, t, from_caller);
    } else if (msg.method == "CANCEL" && from_caller) {
      NoteCancel(o, msg, t);
    }
  }

  static void NoteCancel(OpenCall& o, const SipMessage& msg, int64_t t) {
    if (o.cdr.answer_time_ms != 0 || o.cancel_time_ms != 0) return;
    o.cancel_time_ms = t;
    if (!msg.reason.empty()) {
      o.cdr.reason = msg.reason;
      o.cdr.q850_cause = msg.q850_cause;
    }
  }

  void OnBye(TrackerState::CallMap::iterator it, const SipMessage& msg, int64_t t, bool from_caller) {
    OpenCall& o = *it->second.open;
    if (o.cdr.answer_time_ms == 0) {
      // A BYE on an early dialog: the caller giving up, the INVITE still ends
      // with its own final response (487).  The callee may not send one.
      if (from_caller) NoteCancel(o, msg, t);
      return;
    }
    o.cdr.reason = msg.reason;
    o.cdr.q850_cause = msg.q850_cause;
    Close(it, t, Closing{t, o.cdr.answer_time_ms, Disposition::kAnswered,
                         from_caller ? ReleasedBy::kCaller : ReleasedBy::kCallee, 0});
  }

  void OnInviteResponse(TrackerState::CallMap::iterator it, const CaptureInfo& info,
                        const SipMessage& msg, int64_t t) {
    OpenCall& o = *it->second.open;
    Cdr& cdr = o.cdr;
    const int status = msg.status;
    if (status < 101) return;  // 100 Trying is hop-by-hop, says nothing about the callee
    const bool received = IsDirection(info, CV_DIR_RECEIVED);
    if (received && cdr.callee_ua.empty()) cdr.callee_ua = msg.user_agent;
    if (status < 200) {
      if (cdr.ring_time_ms == 0) cdr.ring_time_ms = t;
      if (msg.has_sdp && !o.answer_from_2xx && cdr.codecs_answered.empty()) {
        cdr.codecs_answered = Codecs(msg.codecs);
      }
      return;
    }
    if (status < 300) {
      if (msg.has_sdp && !o.answer_from_2xx) {
        cdr.codecs_answered = Codecs(msg.codecs);
        o.answer_from_2xx = true;
      }
      if (cdr.answer_time_ms != 0) return;
      cdr.answer_time_ms = t;
      cdr.final_status = status;
      if (o.cancel_time_ms != 0) {  // the answer won the race with CANCEL
        o.cancel_time_ms = 0;
        cdr.reason.clear();
        cdr.q850_cause = 0;
      }
      st->SetDeadline(it, t + opts.max_call_duration_ms);
      return;
    }
    if (cdr.answer_time_ms != 0) return;  // cannot follow a 2xx in a sane dialog
    if (received) {
      NoteReceivedFailure(o, msg);
      return;
    }
    // SENT: this is the final response the caller gets.
    const bool relayed = std::find(o.rx_finals.begin(), o.rx_finals.end(), status) != o.rx_finals.end();
    Closing how{t, t, FailureDisposition(status), relayed ? ReleasedBy::kCallee : ReleasedBy::kProxy, 0};
    if (status == 487 && o.cancel_time_ms != 0) {
      how.end_ms = o.cancel_time_ms;
      how.released_by = ReleasedBy::kCaller;
    }
    // Reason: the caller's CANCEL explains a 487; otherwise the response's
    // own, or the one the downstream sent with the same status.
    if (!(status == 487 && o.cancel_time_ms != 0 && !cdr.reason.empty())) {
      if (!msg.reason.empty()) {
        cdr.reason = msg.reason;
        cdr.q850_cause = msg.q850_cause;
      } else if (o.rx_reason_status == status) {
        cdr.reason = o.rx_reason;
        cdr.q850_cause = o.rx_q850;
      } else {
        cdr.reason.clear();
        cdr.q850_cause = 0;
      }
    }
    cdr.final_status = status;
    Close(it, t, how);
  }

  static void NoteReceivedFailure(OpenCall& o, const SipMessage& msg) {
    const auto status = static_cast<uint16_t>(msg.status);
    if (std::find(o.rx_finals.begin(), o.rx_finals.end(), status) == o.rx_finals.end()) {
      // Four distinct failures per call is plenty (each is one failover
      // step); beyond that the oldest is forgotten.
      std::rotate(o.rx_finals.begin(), o.rx_finals.begin() + 1, o.rx_finals.end());
      o.rx_finals.back() = status;
    }
    if (!msg.reason.empty()) {
      o.rx_reason_status = status;
      o.rx_reason = msg.reason;
      o.rx_q850 = msg.q850_cause;
    }
  }

  void Close(TrackerState::CallMap::iterator it, int64_t now, const Closing& how) {
    CallState& c = it->second;
    Cdr cdr = std::move(c.open->cdr);
    c.open.reset();
    --st->open_calls;
    ++st->stats.cdrs_emitted;
    cdr.end_time_ms = how.end_ms;
    cdr.disposition = how.disposition;
    cdr.released_by = how.released_by;
    cdr.flags |= how.flags;
    const int64_t first_response = cdr.ring_time_ms != 0 ? cdr.ring_time_ms : how.final_ms;
    cdr.post_dial_delay_ms = first_response != 0 ? std::max<int64_t>(0, first_response - cdr.invite_time_ms) : 0;
    cdr.duration_ms = cdr.answer_time_ms != 0 ? std::max<int64_t>(0, how.end_ms - cdr.answer_time_ms) : 0;
    cdr.billable_seconds = (cdr.duration_ms + 999) / 1000;
    st->SetDeadline(it, std::max(now, how.end_ms) + opts.linger_ms);
    if (sink) sink(std::move(cdr));
  }

  void Expire(int64_t now) {
    while (!st->deadlines.empty() && st->deadlines.begin()->at <= now) {
      auto it = st->calls.find(*st->deadlines.begin()->key);
      CallState& c = it->second;
      if (!c.open) {
        st->Erase(it);  // lingering is over: forget the call
        continue;
      }
      OpenCall& o = *c.open;
      if (o.cdr.answer_time_ms != 0) {
        const int64_t end = o.cdr.answer_time_ms + opts.max_call_duration_ms;
        Close(it, now, Closing{end, o.cdr.answer_time_ms, Disposition::kAnswered,
                               ReleasedBy::kTimeout, kCdrFlagMaxDuration});
      } else if (o.cancel_time_ms != 0) {
        Close(it, now, Closing{o.cancel_time_ms, 0, Disposition::kCancelled, ReleasedBy::kCaller,
                               kCdrFlagNoFinalResponse});
      } else {
        const int64_t end = o.cdr.invite_time_ms + opts.invite_timeout_ms;
        Close(it, now, Closing{end, 0, Disposition::kNoAnswer, ReleasedBy::kTimeout,
                               kCdrFlagNoFinalResponse});
      }
    }
  }
};

CallTracker::CallTracker(TrackerOptions opts, CdrSink sink)
    : impl_(std::make_unique<Impl>(std::move(opts), std::move(sink))) {}

CallTracker::~CallTracker() = default;

void CallTracker::OnMessage(const CaptureInfo& info, const SipMessage& msg) { impl_->OnMessage(info, msg); }

void CallTracker::Tick(int64_t now_wall_ms) { impl_->Expire(now_wall_ms); }

TrackerStats CallTracker::stats() const {
  TrackerStats s = impl_->st->stats;
  s.active_calls = impl_->st->open_calls;
  s.lingering_calls = impl_->st->calls.size() - impl_->st->open_calls;
  return s;
}

std::string CallTracker::Serialize() const { return EncodeSnapshot(*impl_->st); }

bool CallTracker::Restore(std::string_view snapshot, std::string* error) {
  auto fresh = std::make_unique<TrackerState>();
  if (!DecodeSnapshot(snapshot, fresh.get(), error)) return false;
  impl_->st = std::move(fresh);
  return true;
}

}  // namespace callvault
