// The tracker snapshot: a compact binary encoding, because it is rewritten
// at every checkpoint and may hold max_active_calls calls (a JSON document of
// 200k calls would cost the consumer thread seconds and a gigabyte).
//
//   "CVTS" u8 version
//   6 x varint   calls_started, cdrs_emitted, retransmissions, reinvites,
//                orphans, rejected_capacity
//   varint n, n x u64      refused key hashes, oldest first
//   varint n, n x call     in deadline order (so equal state, equal bytes)
//   call: str key, varint invite CSeq, svarint deadline, 16 x u64 seen,
//         u8 seen.next, u8 open, [open call]
//   open call: the Cdr (strings, times, numbers, enums, flags) and the
//         OpenCall bookkeeping, in declaration order.
// varint = LEB128; svarint = zigzag LEB128; u64 = 8 bytes little-endian;
// str = varint length + bytes.  Everything the state machine reads is in
// here: restoring and replaying the same messages yields the same CDRs.
#include <cstring>

#include "module/tracker/tracker_state.h"

namespace callvault {
namespace {

constexpr char kMagic[4] = {'C', 'V', 'T', 'S'};
constexpr uint8_t kVersion = 1;

// A new Cdr or OpenCall member must be added to Put/Get below (and this
// check updated): the snapshot is only correct if it holds every field.
static_assert(sizeof(Cdr) == 688 && sizeof(OpenCall) == 760,
              "Cdr or OpenCall changed: update the tracker snapshot codec");

// Appends whole items, never byte by byte: the snapshot of a busy node runs
// to tens of megabytes and is written on the consumer thread.
class Writer {
 public:
  explicit Writer(size_t reserve) { out_.reserve(reserve); }
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U64(uint64_t v) {
    char b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
    out_.append(b, sizeof(b));
  }
  void U64s(const uint64_t* v, size_t n) {
    char b[8 * SeenEvents::kSize];
    while (n > 0) {
      const size_t k = n < SeenEvents::kSize ? n : SeenEvents::kSize;
      for (size_t j = 0; j < k; ++j) {
        for (int i = 0; i < 8; ++i) b[8 * j + i] = static_cast<char>(v[j] >> (8 * i));
      }
      out_.append(b, 8 * k);
      v += k;
      n -= k;
    }
  }
  void Var(uint64_t v) {
    char b[10];
    size_t n = 0;
    while (v >= 0x80) {
      b[n++] = static_cast<char>(v | 0x80);
      v >>= 7;
    }
    b[n++] = static_cast<char>(v);
    out_.append(b, n);
  }
  void SVar(int64_t v) { Var((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63)); }
  void Str(const std::string& s) {
    Var(s.size());
    out_ += s;
  }
  void Raw(const char* p, size_t n) { out_.append(p, n); }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

// Bounds-checked reads; the first failure sticks and names what was read.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  bool done() const { return in_.empty(); }
  void set_where(std::string where) { where_ = std::move(where); }
  void Fail(const char* what) {
    if (ok()) error_ = where_ + what;
  }

  uint8_t U8(const char* what) {
    if (!ok()) return 0;
    if (in_.empty()) {
      Fail(what);
      return 0;
    }
    const auto v = static_cast<uint8_t>(in_.front());
    in_.remove_prefix(1);
    return v;
  }
  uint64_t U64(const char* what) {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(U8(what)) << (8 * i);
    return v;
  }
  uint64_t Var(const char* what) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && ok(); shift += 7) {
      const uint8_t b = U8(what);
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) return v;
    }
    Fail(what);
    return 0;
  }
  int64_t SVar(const char* what) {
    const uint64_t z = Var(what);
    return static_cast<int64_t>((z >> 1) ^ (~(z & 1) + 1));
  }
  std::string Str(const char* what) {
    const uint64_t n = Var(what);
    if (!ok()) return {};
    if (n > in_.size()) {
      Fail(what);
      return {};
    }
    std::string s(in_.substr(0, n));
    in_.remove_prefix(n);
    return s;
  }
  bool Magic() {
    if (in_.size() < sizeof(kMagic) || std::memcmp(in_.data(), kMagic, sizeof(kMagic)) != 0) return false;
    in_.remove_prefix(sizeof(kMagic));
    return true;
  }

 private:
  std::string_view in_;
  std::string where_;
  std::string error_;
};

void PutCdr(Writer& w, const Cdr& c) {
  for (const std::string* s :
       {&c.record_id, &c.node_id, &c.call_id, &c.ingress_trunk, &c.egress_trunk, &c.caller,
        &c.caller_pai, &c.callee, &c.callee_to, &c.diversion, &c.caller_host, &c.callee_host,
        &c.src_addr, &c.dst_addr, &c.caller_ua, &c.callee_ua, &c.reason, &c.codecs_offered,
        &c.codecs_answered}) {
    w.Str(*s);
  }
  for (int64_t v : {c.invite_time_ms, c.ring_time_ms, c.answer_time_ms, c.end_time_ms,
                    c.post_dial_delay_ms, c.duration_ms, c.billable_seconds,
                    static_cast<int64_t>(c.final_status), static_cast<int64_t>(c.q850_cause)}) {
    w.SVar(v);
  }
  w.U8(static_cast<uint8_t>(c.released_by));
  w.U8(static_cast<uint8_t>(c.disposition));
  w.Var(c.flags);
}

void GetCdr(Reader& r, Cdr* c) {
  for (std::string* s :
       {&c->record_id, &c->node_id, &c->call_id, &c->ingress_trunk, &c->egress_trunk, &c->caller,
        &c->caller_pai, &c->callee, &c->callee_to, &c->diversion, &c->caller_host, &c->callee_host,
        &c->src_addr, &c->dst_addr, &c->caller_ua, &c->callee_ua, &c->reason, &c->codecs_offered,
        &c->codecs_answered}) {
    *s = r.Str("CDR text field truncated");
  }
  for (int64_t* v : {&c->invite_time_ms, &c->ring_time_ms, &c->answer_time_ms, &c->end_time_ms,
                     &c->post_dial_delay_ms, &c->duration_ms, &c->billable_seconds}) {
    *v = r.SVar("CDR time field truncated");
  }
  c->final_status = static_cast<int>(r.SVar("final_status truncated"));
  c->q850_cause = static_cast<int>(r.SVar("q850_cause truncated"));
  const uint8_t released = r.U8("released_by truncated");
  const uint8_t disposition = r.U8("disposition truncated");
  if (released > static_cast<uint8_t>(ReleasedBy::kTimeout)) r.Fail("released_by out of range");
  if (disposition > static_cast<uint8_t>(Disposition::kFailed)) r.Fail("disposition out of range");
  c->released_by = static_cast<ReleasedBy>(released);
  c->disposition = static_cast<Disposition>(disposition);
  c->flags = static_cast<uint32_t>(r.Var("flags truncated"));
}

void PutOpen(Writer& w, const OpenCall& o) {
  PutCdr(w, o.cdr);
  w.U8(static_cast<uint8_t>(o.have_rx_invite | (o.have_tx_invite << 1) | (o.answer_from_2xx << 2)));
  w.SVar(o.cancel_time_ms);
  for (uint32_t v : o.reinvite_cseq) w.Var(v);
  for (uint16_t v : o.rx_finals) w.Var(v);
  w.Var(o.rx_reason_status);
  w.SVar(o.rx_q850);
  w.Str(o.rx_reason);
}

void GetOpen(Reader& r, OpenCall* o) {
  GetCdr(r, &o->cdr);
  const uint8_t bits = r.U8("open call flags truncated");
  if (bits > 7) r.Fail("open call flags out of range");
  o->have_rx_invite = bits & 1;
  o->have_tx_invite = bits & 2;
  o->answer_from_2xx = bits & 4;
  o->cancel_time_ms = r.SVar("cancel time truncated");
  for (uint32_t& v : o->reinvite_cseq) v = static_cast<uint32_t>(r.Var("re-INVITE CSeq truncated"));
  for (uint16_t& v : o->rx_finals) v = static_cast<uint16_t>(r.Var("received statuses truncated"));
  o->rx_reason_status = static_cast<uint16_t>(r.Var("received status truncated"));
  o->rx_q850 = static_cast<int>(r.SVar("received cause truncated"));
  o->rx_reason = r.Str("received reason truncated");
}

}  // namespace

std::string EncodeSnapshot(const TrackerState& st) {
  // Typical open calls take ~600 bytes, lingering ones ~200.
  Writer w(64 + 8 * st.refused_order.size() + 600 * st.open_calls +
           200 * (st.calls.size() - st.open_calls));
  w.Raw(kMagic, sizeof(kMagic));
  w.U8(kVersion);
  const TrackerStats& s = st.stats;
  for (uint64_t v : {s.calls_started, s.cdrs_emitted, s.retransmissions, s.reinvites, s.orphans,
                     s.rejected_capacity}) {
    w.Var(v);
  }
  w.Var(st.refused_order.size());
  for (uint64_t h : st.refused_order) w.U64(h);
  w.Var(st.calls.size());
  for (const DeadlineEntry& d : st.deadlines) {
    const CallState& c = *d.call;
    w.Str(*d.key);
    w.Var(c.invite_cseq);
    w.SVar(c.deadline_ms);
    w.U64s(c.seen.sig.data(), c.seen.sig.size());
    w.U8(c.seen.next);
    w.U8(c.open ? 1 : 0);
    if (c.open) PutOpen(w, *c.open);
  }
  return w.Take();
}

bool DecodeSnapshot(std::string_view snapshot, TrackerState* st, std::string* error) {
  const auto fail = [&](const std::string& what) {
    *error = "tracker snapshot: " + what;
    return false;
  };
  Reader r(snapshot);
  if (!r.Magic()) return fail("not a tracker snapshot (bad magic)");
  const uint8_t version = r.U8("version missing");
  if (r.ok() && version != kVersion) {
    return fail("version " + std::to_string(version) + " is not supported (expected " +
                std::to_string(kVersion) + ")");
  }
  TrackerStats& s = st->stats;
  for (uint64_t* v : {&s.calls_started, &s.cdrs_emitted, &s.retransmissions, &s.reinvites, &s.orphans,
                      &s.rejected_capacity}) {
    *v = r.Var("counters truncated");
  }
  const uint64_t refused = r.Var("refused list truncated");
  if (refused > TrackerState::kRefusedMemory) r.Fail("refused list longer than its bound");
  for (uint64_t i = 0; r.ok() && i < refused; ++i) st->Refuse(r.U64("refused list truncated"));
  const uint64_t n = r.Var("call count truncated");
  // A call takes at least key length, CSeq, deadline, seen list, position
  // and open marker: a count beyond what fits is corruption, and must not
  // drive the reservation below.
  constexpr size_t kMinCallBytes = 1 + 1 + 1 + 8 * SeenEvents::kSize + 1 + 1;
  if (n > snapshot.size() / kMinCallBytes) r.Fail("call count larger than the snapshot");
  if (r.ok()) st->calls.reserve(n);
  for (uint64_t i = 0; r.ok() && i < n; ++i) {
    r.set_where("call " + std::to_string(i) + ": ");
    std::string key = r.Str("key truncated");
    CallState c;
    c.invite_cseq = static_cast<uint32_t>(r.Var("CSeq truncated"));
    const int64_t deadline = r.SVar("deadline truncated");
    for (uint64_t& sig : c.seen.sig) sig = r.U64("seen list truncated");
    c.seen.next = r.U8("seen position truncated");
    if (c.seen.next >= SeenEvents::kSize) r.Fail("seen position out of range");
    const uint8_t open = r.U8("open marker truncated");
    if (open > 1) r.Fail("open marker out of range");
    if (open == 1 && r.ok()) {
      c.open = std::make_unique<OpenCall>();
      GetOpen(r, c.open.get());
    }
    if (!r.ok()) break;
    auto [it, inserted] = st->calls.emplace(std::move(key), std::move(c));
    if (!inserted) {
      r.Fail("duplicate call key");
      break;
    }
    if (it->second.open) ++st->open_calls;
    st->SetDeadline(it, deadline);
  }
  r.set_where("");
  if (r.ok() && !r.done()) r.Fail("trailing bytes after the last call");
  return r.ok() || fail(r.error());
}

}  // namespace callvault
