// Media codec names from an SDP body, via sofia-sip's SDP parser.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <sofia-sip/su_alloc.h>

namespace callvault {

inline constexpr size_t kMaxCodecs = 16;

// Encoding names of every accepted (port != 0) media stream, in offer order,
// without duplicates (compared case-insensitively), at most kMaxCodecs, each
// capped at cap bytes.  For RTP streams of any profile (RTP/AVP, RTP/SAVP,
// RTP/AVPF, UDP/TLS/RTP/SAVPF) each payload type is named by its rtpmap, or
// for static payload types without one by RFC 3551 (0 PCMU, 8 PCMA, 18 G729,
// ...); a dynamic type without rtpmap names nothing.  Other streams (e.g. T.38
// over "udptl") list their format tokens.  Returns false when the body is not
// parseable SDP.
bool SdpCodecs(su_home_t* home, std::string_view body, size_t cap, std::vector<std::string>* out);

}  // namespace callvault
