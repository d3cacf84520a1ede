// The handful of facts the call tracker needs from one SIP message, parsed
// with sofia-sip's message parser on a background thread.  Strings are owned
// copies and are capped at kMaxFieldBytes so a hostile message cannot make a
// call's state grow without bound.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace callvault {

inline constexpr size_t kMaxFieldBytes = 128;

struct SipMessage {
  bool is_request = false;
  std::string method;      // request method, or the CSeq method of a response
  int status = 0;          // responses only
  std::string call_id;
  std::string from_tag;
  std::string to_tag;
  uint32_t cseq = 0;
  std::string cseq_method;
  std::string via_branch;  // branch of the top Via
  std::string ruri_user;   // requests: Request-URI user part
  std::string ruri_host;   // requests: Request-URI host part
  std::string from_user;
  std::string from_host;
  std::string to_user;
  std::string pai_user;        // P-Asserted-Identity user part
  std::string diversion_user;  // Diversion user part(s), comma separated
  std::string user_agent;      // User-Agent, or Server on responses
  std::string reason;          // Reason header value, e.g. "Q.850;cause=16;text=..."
  int q850_cause = 0;
  std::vector<std::string> codecs;  // SDP encoding names in offer/answer order
  bool has_sdp = false;
};

// Parses raw bytes.  Returns false and sets *error to a message free of any
// identifier (no number, URI, address or Call-ID) when the message is not
// usable SIP.  Call from one thread at a time (sofia-sip keeps no mutable
// global parser state, see sip_message.cpp, but that is all it promises).
bool ParseSipMessage(std::string_view raw, SipMessage* out, std::string* error);

}  // namespace callvault
