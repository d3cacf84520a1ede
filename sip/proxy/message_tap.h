// Hands every SIP message the proxy receives or sends to the callvault hook
// with its wire bytes and metadata.
//
// Received messages: the proxy's agent parses with MSG_FLG_EXTRACT_COPY, so
// sofia-sip parses copies of the header text and leaves the receive buffer
// untouched; every fragment keeps a pointer to its original bytes.  For a
// datagram (one UDP packet in one buffer) the wire bytes are the span from
// the start line to the end of the body, even where nta has since edited a
// header (it adds received=/rport= to the top Via before the proxy sees the
// request): the edited header's original text still sits in the gap.  For
// stream transports a message may straddle receive buffers, so the span is
// used only when every fragment is contiguous; otherwise the message is
// rebuilt from the original fragments with the edited headers re-encoded
// (counted as "reencoded").  nta always adds rport= to the top Via of a
// request received over TCP, so TCP requests take that path: their bytes
// differ from the wire only in that Via parameter.
//
// Sent messages: read after sofia-sip encoded and sent them, so msg_iovec()
// returns exactly the fragments written to the socket.
//
// With no module loaded every call returns at once: the proxy's latency
// without the module excludes all of this work, which is what the
// with/without comparison measures.
#pragma once

#include <cstdint>
#include <vector>

#include "include/callvault/module.h"
#include "sip/proxy/module_host.h"

struct msg_s;

namespace callvault::proxy {

struct TapCounters {
  uint64_t hook_calls = 0;
  uint64_t hook_dropped_full = 0;
  uint64_t hook_dropped_too_large = 0;
  uint64_t hook_errors = 0;         // any other return code
  uint64_t bytes_unavailable = 0;   // message had no encoding to report
  uint64_t reencoded = 0;           // received message partly re-encoded
};

// Who the message belongs to, from the proxy's point of view.
struct TapContext {
  uint8_t transport = CV_TRANSPORT_UDP;  // cv_transport
  cv_addr local{};                      // our address on that transport
  const char* ingress_trunk = nullptr;
  const char* egress_trunk = nullptr;
};

class MessageTap {
 public:
  // `module` may be null: the tap is then inactive.  Not owned.
  explicit MessageTap(const ModuleHost* module);

  bool active() const { return module_ != nullptr; }

  // A message received from the network, called while sofia-sip is still
  // delivering it and before the proxy edits it.  `datagram` is true when
  // it arrived as one datagram.
  void Received(msg_s* msg, bool datagram, const TapContext& ctx);

  // A message sofia-sip has encoded and sent.  The peer is the message's
  // destination address.
  void Sent(msg_s* msg, const TapContext& ctx);

  const TapCounters& counters() const { return counters_; }

  // Converts a sockaddr (AF_INET / AF_INET6) to the ABI's address form.
  static cv_addr ToCvAddr(const void* sockaddr);

 private:
  bool ReceivedBytes(msg_s* msg, bool datagram, const char** data, size_t* len);
  void Deliver(uint8_t direction, const cv_addr& src, const cv_addr& dst, const TapContext& ctx,
               const void* bytes, size_t len);

  const ModuleHost* module_;
  std::vector<char> scratch_;  // reused for every gathered message; grows, never shrinks
  TapCounters counters_;
};

}  // namespace callvault::proxy
