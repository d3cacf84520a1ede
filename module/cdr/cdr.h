// One call detail record: everything callvault knows about one call attempt
// (one initial INVITE transaction), whatever its outcome.
//
// Invariants:
//  - record_id is fixed when the INVITE is first seen and derived only from
//    what the capture ring stored (node, ring generation, ring sequence,
//    INVITE wall time), so replaying the ring after a crash yields the same id.
//  - Times are wall-clock milliseconds since the Unix epoch; 0 means "never".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace callvault {

enum class Disposition : uint8_t {
  kAnswered,
  kBusy,       // 486, 600
  kNoAnswer,   // 408/480 or no final response before the invite timeout
  kCancelled,  // caller CANCEL / 487
  kFailed,     // any other 4xx/5xx/6xx
};

enum class ReleasedBy : uint8_t {
  kNone,     // not released yet (open record)
  kCaller,   // BYE or CANCEL from the calling side
  kCallee,   // BYE from the called side, or a final failure from it
  kProxy,    // a final response the proxy generated itself
  kTimeout,  // closed by the tracker: no final response, or max duration
};

// Bits of Cdr::flags.
inline constexpr uint32_t kCdrFlagMaxDuration = 1u << 0;    // BYE never seen
inline constexpr uint32_t kCdrFlagNoFinalResponse = 1u << 1;  // INVITE timed out
inline constexpr uint32_t kCdrFlagReinvite = 1u << 2;       // saw re-INVITE(s)
inline constexpr uint32_t kCdrFlagHostLi = 1u << 3;         // host set CV_FLAG_LI

struct Cdr {
  std::string record_id;  // UUID text, see invariants
  std::string node_id;
  std::string call_id;
  std::string ingress_trunk;
  std::string egress_trunk;
  std::string caller;       // From user part
  std::string caller_pai;   // P-Asserted-Identity user part, if present
  std::string callee;       // Request-URI user part of the initial INVITE
  std::string callee_to;    // To user part
  std::string diversion;    // Diversion user part(s), comma separated
  std::string caller_host;  // host part of the From URI
  std::string callee_host;  // host part of the Request-URI
  std::string src_addr;     // "ip:port" the INVITE came from
  std::string dst_addr;     // "ip:port" the INVITE was forwarded to
  std::string caller_ua;    // User-Agent of the INVITE
  std::string callee_ua;    // Server/User-Agent of the callee's responses
  int64_t invite_time_ms = 0;
  int64_t ring_time_ms = 0;    // first 18x
  int64_t answer_time_ms = 0;  // 2xx to the INVITE
  int64_t end_time_ms = 0;
  int64_t post_dial_delay_ms = 0;  // first 18x (or final) minus INVITE
  int64_t duration_ms = 0;         // answer to end; 0 when not answered
  int64_t billable_seconds = 0;    // duration rounded up to whole seconds
  int final_status = 0;            // final response to the INVITE; 0 if none
  std::string reason;              // Reason header (e.g. "Q.850;cause=16")
  int q850_cause = 0;
  ReleasedBy released_by = ReleasedBy::kNone;
  Disposition disposition = Disposition::kFailed;
  std::string codecs_offered;   // comma separated encoding names
  std::string codecs_answered;
  uint32_t flags = 0;
};

std::string_view ToString(Disposition d);
std::string_view ToString(ReleasedBy r);
bool ParseDisposition(std::string_view s, Disposition* out);
bool ParseReleasedBy(std::string_view s, ReleasedBy* out);

}  // namespace callvault
