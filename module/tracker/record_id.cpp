#include <arpa/inet.h>

#include <cstdio>

#include "module/tracker/call_tracker.h"
#include "module/tracker/capture_text.h"

namespace callvault {

uint64_t Fnv1a64(std::string_view data, uint64_t seed) {
  uint64_t h = seed;
  for (unsigned char c : data) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string FormatAddress(const cv_addr& a) {
  char text[INET6_ADDRSTRLEN] = {};
  if (a.family == 4) {
    if (!inet_ntop(AF_INET, a.addr, text, sizeof(text))) return {};
    return std::string(text) + ":" + std::to_string(a.port);
  }
  if (a.family == 6) {
    if (!inet_ntop(AF_INET6, a.addr, text, sizeof(text))) return {};
    return "[" + std::string(text) + "]:" + std::to_string(a.port);
  }
  return {};
}

// Layout (RFC 9562 version 8, big-endian bit order):
//   48 bits  INVITE wall-clock ms (time-ordered, like UUIDv7)
//    4 bits  version = 8
//   12 bits  node id hash (FNV-1a), separates nodes without coordination
//    2 bits  variant = 10
//   32 bits  ring generation (random per ring instance)
//   30 bits  low bits of the ring sequence number
// Two INVITEs of one ring differ in seq; the same seq after 2^30 messages is
// also a different millisecond.  Everything comes from the capture record,
// so a replay reproduces the id.
std::string CallTracker::MakeRecordId(std::string_view node_id, const CaptureInfo& invite) {
  const uint64_t ms = invite.wall_ns > 0 ? static_cast<uint64_t>(invite.wall_ns) / 1000000 : 0;
  const uint64_t hi = ((ms & 0xFFFFFFFFFFFFULL) << 16) | (0x8ULL << 12) | (Fnv1a64(node_id) & 0xFFF);
  const uint64_t lo = (0x2ULL << 62) | (static_cast<uint64_t>(invite.generation) << 30) |
                      (invite.seq & 0x3FFFFFFFULL);
  char buf[37];
  std::snprintf(buf, sizeof(buf), "%08llx-%04llx-%04llx-%04llx-%012llx",
                static_cast<unsigned long long>(hi >> 32),
                static_cast<unsigned long long>((hi >> 16) & 0xFFFF),
                static_cast<unsigned long long>(hi & 0xFFFF),
                static_cast<unsigned long long>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFULL));
  return buf;
}

}  // namespace callvault
