// The transaction-stateful proxy core on sofia-sip NTA.
//
// Everything runs on the su_root thread passed to Start(): nta callbacks,
// message edits and sends, hook calls and latency samples.  Per request:
//   - Max-Forwards 0 -> 483, own Via present -> 482;
//   - admission: a source inside a trunk's ingress CIDRs may send any
//     request; the host of an egress trunk's next hop (any port) only
//     in-dialog requests and requests for the proxy itself; anything else
//     -> 403 (an ACK is dropped), never forwarded;
//   - OPTIONS for the proxy itself (no user part, our address) -> 200,
//     any other request for it -> 404;
//   - out-of-dialog: ingress trunk by source address, egress trunk by
//     Request-URI user prefix or the ingress trunk's default egress, sent to
//     the egress trunk's next hop (no route -> 404);
//   - Route entries naming us are stripped; in dialog, or with a Route set
//     beyond us, the request follows the remaining Route set or the
//     Request-URI (a request addressed to the proxy itself gets 404);
//   - initial INVITEs are record-routed (lr), a second entry is added when
//     the two sides use different address families or transports;
//   - ACK for 2xx is forwarded statelessly, CANCEL cancels the client
//     transaction, responses are relayed upstream, client transaction
//     timeout -> 408, transport failure -> 503;
//   - a response outside a live transaction is relayed only when it is a
//     2xx of an INVITE transaction that relayed a 2xx less than 64*T1 ago
//     (RFC 6026 Accepted), our branch on top and the original sender's Via
//     below; every other stray is dropped (no reflection);
//   - messages over limits.max_message_bytes: sofia-sip answers 413 to a
//     request and drops a response;
//   - a TCP connection whose first request finds limits.max_tcp_connections
//     other open connections that carried requests is closed unanswered
//     (sofia-sip has no accept hook: a connection is counted from its first
//     request).
// Every message received from the network and every message sent is handed
// to the MessageTap.  Exceptions (sofia-sip sends them itself, outside any
// callback, so their bytes are not available): the 200 answering a CANCEL,
// 100 Trying from downstream (hop-by-hop, absorbed), retransmissions, and
// the ACK sofia-sip generates for a non-2xx final response.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "sip/proxy/latency_histogram.h"
#include "sip/proxy/message_tap.h"
#include "sip/proxy/proxy_config.h"
#include "sip/proxy/router.h"

struct su_root_s;

namespace callvault::proxy {

struct ProxyCounters {
  uint64_t requests_received = 0;
  uint64_t responses_received = 0;
  uint64_t requests_forwarded = 0;
  uint64_t acks_forwarded = 0;
  uint64_t responses_relayed = 0;
  uint64_t stray_responses_forwarded = 0;  // late 2xx of an Accepted INVITE transaction
  uint64_t stray_responses_dropped = 0;    // matching no client transaction: never relayed
  uint64_t replied_403 = 0;                // request from a source not admitted
  uint64_t acks_refused = 0;               // ACK from a source not admitted: dropped
  uint64_t dropped = 0;  // ACKs and responses that could not be forwarded
  // Counted by sofia-sip, which answers or drops these itself: requests
  // over limits.max_message_bytes (413) or malformed (400), responses
  // malformed or too large (dropped).
  uint64_t bad_requests = 0;
  uint64_t bad_responses = 0;
  uint64_t tcp_connections_refused = 0;  // beyond limits.max_tcp_connections: closed
  uint64_t replied_200_options = 0;  // OPTIONS addressed to the proxy itself
  uint64_t replied_404 = 0;
  uint64_t replied_481 = 0;
  uint64_t replied_482 = 0;
  uint64_t replied_483 = 0;
  uint64_t replied_503 = 0;
  uint64_t timeouts_408 = 0;        // client transaction timed out
  uint64_t transport_failures = 0;  // next hop unreachable
  uint64_t cancels_forwarded = 0;
};

class SipProxy {
 public:
  // All references must outlive the proxy.
  SipProxy(const ProxyConfig& config, const Router& router, MessageTap& tap,
           LatencyHistogram& latency);
  ~SipProxy();
  SipProxy(const SipProxy&) = delete;
  SipProxy& operator=(const SipProxy&) = delete;

  // Creates the agent on `root` and binds every listen address.  On failure
  // returns false with *error naming the listen entry by index.
  bool Start(su_root_s* root, std::string* error);

  // Destroys the agent and all transactions.  On the root thread.
  void Stop();

  const ProxyCounters& counters() const;

  // "proxy_counters requests_received=.. ..." (counts only).
  std::string FormatCounters() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace callvault::proxy
