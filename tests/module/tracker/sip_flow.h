// Builds the SIP text of one call as a proxy between a caller
// (192.0.2.10) and a callee gateway (198.51.100.20) sees it, in both copies:
// as RECEIVED (before the proxy touches it) and as SENT (after it added or
// removed its Via), and feeds it to a CallTracker through the real parser.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "module/cdr/cdr_json.h"
#include "module/tracker/call_tracker.h"
#include "sip/parse/sip_message.h"

namespace callvault::testing {

inline constexpr char kNode[] = "node-test-1";
inline constexpr int64_t kT0 = 1795813384123;  // 2026-11-27T21:03:04.123Z
inline constexpr uint32_t kGeneration = 0x5eed0001;

inline cv_addr V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
  cv_addr x{};
  x.family = 4;
  x.port = port;
  x.addr[0] = a;
  x.addr[1] = b;
  x.addr[2] = c;
  x.addr[3] = d;
  return x;
}

inline cv_addr V6(std::initializer_list<uint8_t> bytes, uint16_t port) {
  cv_addr x{};
  x.family = 6;
  x.port = port;
  size_t i = 0;
  for (uint8_t b : bytes) x.addr[i++] = b;
  return x;
}

inline const cv_addr kCaller = V4(192, 0, 2, 10, 5060);
inline const cv_addr kProxy = V4(192, 0, 2, 1, 5060);
inline const cv_addr kCallee = V4(198, 51, 100, 20, 5060);
inline const cv_addr kCallee2 = V4(198, 51, 100, 30, 5080);

inline std::string Sdp(const std::string& ip, const std::string& fmts, const std::string& attrs) {
  return "v=0\r\no=- 1 1 IN IP4 " + ip + "\r\ns=-\r\nc=IN IP4 " + ip + "\r\nt=0 0\r\nm=audio 40000 RTP/AVP " +
         fmts + "\r\n" + attrs;
}
inline const std::string kOffer = Sdp("192.0.2.10", "0 8 101", "a=rtpmap:101 telephone-event/8000\r\n");
inline const std::string kAnswerPcma = Sdp("198.51.100.20", "8 101", "a=rtpmap:101 telephone-event/8000\r\n");
inline const std::string kAnswerG729 = Sdp("198.51.100.20", "18", "");

inline const char* Phrase(int status) {
  switch (status) {
    case 100: return "Trying";
    case 180: return "Ringing";
    case 183: return "Session Progress";
    case 200: return "OK";
    case 404: return "Not Found";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 486: return "Busy Here";
    case 487: return "Request Terminated";
    case 503: return "Service Unavailable";
    default: return "Whatever";
  }
}

// One call between the caller and the callee.  `tx` names a transaction so
// its branches are distinct ("1" for the INVITE, "2" for a BYE, ...).
struct Flow {
  std::string name;  // token: used in Call-ID and branches
  std::string caller_tag = "ctag";
  std::string callee_tag = "etag";
  std::string call_id() const { return name + "@pc33.example.com"; }

  std::string CallerVia(const std::string& tx) const {
    return "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK" + name + "c" + tx + ";rport\r\n";
  }
  std::string CalleeVia(const std::string& tx) const {
    return "Via: SIP/2.0/UDP 198.51.100.20:5060;branch=z9hG4bK" + name + "e" + tx + "\r\n";
  }
  std::string ProxyVia(const std::string& tx) const {
    return "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK" + name + "p" + tx + "\r\n";
  }
  std::string CallerAddr(bool tag) const {
    return "<sip:+4989111111@pbx.example.com>" + (tag ? ";tag=" + caller_tag : std::string());
  }
  std::string CalleeAddr(bool tag) const {
    return "<sip:030123456@proxy.example.net>" + (tag ? ";tag=" + callee_tag : std::string());
  }
  static std::string Finish(std::string head, const std::string& body) {
    if (!body.empty()) head += "Content-Type: application/sdp\r\n";
    return head + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }

  // A request.  from_caller: who sends it; forwarded: the SENT copy (proxy
  // Via on top, Request-URI routed to the next hop).
  std::string Request(const std::string& method, bool from_caller, bool forwarded, const std::string& tx,
                      uint32_t cseq, bool in_dialog, const std::string& extra = "",
                      const std::string& body = "") const {
    std::string ruri;
    if (!from_caller) {
      ruri = "sip:+4989111111@192.0.2.10:5060";
    } else if (in_dialog || forwarded) {
      ruri = "sip:+4930123456@198.51.100.20:5060";
    } else {
      ruri = "sip:+4930123456@proxy.example.net;user=phone";
    }
    std::string h = method + " " + ruri + " SIP/2.0\r\n";
    if (forwarded) h += ProxyVia(tx);
    h += from_caller ? CallerVia(tx) : CalleeVia(tx);
    h += "Max-Forwards: 70\r\n";
    h += "From: " + (from_caller ? CallerAddr(true) : CalleeAddr(true)) + "\r\n";
    h += "To: " + (from_caller ? CalleeAddr(in_dialog) : CallerAddr(true)) + "\r\n";
    h += "Call-ID: " + call_id() + "\r\nCSeq: " + std::to_string(cseq) + " " + method + "\r\n";
    h += extra;
    return Finish(h, body);
  }

  std::string Invite(bool forwarded, const std::string& tx = "1", uint32_t cseq = 1) const {
    return Request("INVITE", true, forwarded, tx, cseq, false,
                   "Contact: <sip:+4989111111@192.0.2.10:5060>\r\n"
                   "P-Asserted-Identity: <sip:+4989222222@pbx.example.com;user=phone>\r\n"
                   "Diversion: <sip:+4930555555@example.net>;reason=unconditional\r\n"
                   "User-Agent: CallerPhone/1.0\r\n",
                   kOffer);
  }

  // A response to a transaction opened by the caller (txn_by_caller) or the
  // callee.  forwarded: the SENT copy (the responder's hop Via removed).
  std::string Response(int status, const std::string& method, uint32_t cseq, bool txn_by_caller,
                       bool forwarded, const std::string& tx, bool to_tag = true,
                       const std::string& extra = "", const std::string& body = "") const {
    std::string h = "SIP/2.0 " + std::to_string(status) + " " + Phrase(status) + "\r\n";
    if (!forwarded) h += ProxyVia(tx);
    h += txn_by_caller ? CallerVia(tx) : CalleeVia(tx);
    h += "From: " + (txn_by_caller ? CallerAddr(true) : CalleeAddr(true)) + "\r\n";
    h += "To: " + (txn_by_caller ? CalleeAddr(to_tag) : CallerAddr(true)) + "\r\n";
    h += "Call-ID: " + call_id() + "\r\nCSeq: " + std::to_string(cseq) + " " + method + "\r\n";
    h += extra;
    return Finish(h, body);
  }
  std::string InviteResponse(int status, bool forwarded, const std::string& extra = "",
                             const std::string& body = "", const std::string& tx = "1",
                             uint32_t cseq = 1) const {
    return Response(status, "INVITE", cseq, true, forwarded, tx, status > 100,
                    "Server: GatewayOS 9\r\n" + extra, body);
  }
};

// One message as the capture ring would have handed it over.
struct Captured {
  std::string raw;
  CaptureInfo info;
};

class Harness {
 public:
  static TrackerOptions Options() {
    TrackerOptions o;
    o.node_id = kNode;
    o.max_call_duration_ms = 3600 * 1000;
    o.invite_timeout_ms = 120 * 1000;
    o.linger_ms = 32 * 1000;
    o.max_active_calls = 1000;
    return o;
  }

  explicit Harness(TrackerOptions o = Options())
      : tracker(std::move(o), [this](Cdr&& c) { cdrs.push_back(std::move(c)); }) {}

  void Feed(const std::string& raw, cv_direction dir, cv_addr src, cv_addr dst, int64_t t_ms,
            std::string_view ingress = {}, std::string_view egress = {}, uint16_t flags = 0) {
    CaptureInfo info;
    info.seq = next_seq++;
    info.generation = kGeneration;
    info.direction = dir;
    info.src = src;
    info.dst = dst;
    info.wall_ns = t_ms * 1000000;
    info.mono_ns = t_ms * 1000000;
    info.ingress_trunk = ingress;
    info.egress_trunk = egress;
    info.flags = flags;
    script.push_back({raw, info});
    Replay(script.back());
  }
  void Replay(const Captured& c) {
    SipMessage m;
    std::string err;
    ASSERT_TRUE(ParseSipMessage(c.raw, &m, &err)) << err << "\n" << c.raw;
    tracker.OnMessage(c.info, m);
  }

  // Caller -> proxy -> callee: RECEIVED at t, SENT (forwarded) at t + 1.
  void Up(const std::string& rx, const std::string& tx, int64_t t, uint16_t flags = 0) {
    Feed(rx, CV_DIR_RECEIVED, kCaller, kProxy, t, "carrier-in", {}, flags);
    Feed(tx, CV_DIR_SENT, kProxy, kCallee, t + 1, {}, "carrier-out", flags);
  }
  // Callee -> proxy -> caller.
  void Down(const std::string& rx, const std::string& tx, int64_t t) {
    Feed(rx, CV_DIR_RECEIVED, kCallee, kProxy, t);
    Feed(tx, CV_DIR_SENT, kProxy, kCaller, t + 1);
  }
  // Generated by the proxy towards the caller.
  void ProxyToCaller(const std::string& tx, int64_t t) { Feed(tx, CV_DIR_SENT, kProxy, kCaller, t); }

  // The standard start: INVITE up, 100 Trying from the proxy, 180 down.
  void Setup(const Flow& f, int64_t t0, int64_t ring_after = 1000) {
    Up(f.Invite(false), f.Invite(true), t0);
    ProxyToCaller(f.InviteResponse(100, true), t0 + 2);
    Feed(f.InviteResponse(100, false), CV_DIR_RECEIVED, kCallee, kProxy, t0 + 5);
    if (ring_after > 0) Down(f.InviteResponse(180, false), f.InviteResponse(180, true), t0 + ring_after);
  }
  void Answer(const Flow& f, int64_t t, const std::string& sdp = kAnswerPcma) {
    Down(f.InviteResponse(200, false, "", sdp), f.InviteResponse(200, true, "", sdp), t);
    Up(f.Request("ACK", true, false, "a", 1, true), f.Request("ACK", true, true, "a", 1, true), t + 10);
  }
  void CallerBye(const Flow& f, int64_t t, uint32_t cseq = 2, const std::string& extra = "") {
    Up(f.Request("BYE", true, false, "b", cseq, true, extra), f.Request("BYE", true, true, "b", cseq, true, extra), t);
    Down(f.Response(200, "BYE", cseq, true, false, "b"), f.Response(200, "BYE", cseq, true, true, "b"), t + 20);
  }
  void CalleeBye(const Flow& f, int64_t t, uint32_t cseq = 1, const std::string& extra = "") {
    Feed(f.Request("BYE", false, false, "b", cseq, true, extra), CV_DIR_RECEIVED, kCallee, kProxy, t);
    Feed(f.Request("BYE", false, true, "b", cseq, true, extra), CV_DIR_SENT, kProxy, kCaller, t + 1);
    Feed(f.Response(200, "BYE", cseq, false, false, "b"), CV_DIR_RECEIVED, kCaller, kProxy, t + 20);
    Feed(f.Response(200, "BYE", cseq, false, true, "b"), CV_DIR_SENT, kProxy, kCallee, t + 21);
  }
  // A final failure relayed from the callee, and the caller's ACK for it.
  void FailDown(const Flow& f, int status, int64_t t, const std::string& extra = "") {
    Down(f.InviteResponse(status, false, extra), f.InviteResponse(status, true, extra), t);
    Up(f.Request("ACK", true, false, "1", 1, true), f.Request("ACK", true, true, "1", 1, true), t + 10);
  }

  CaptureInfo FirstInfo() const { return script.front().info; }

  CallTracker tracker;
  std::vector<Cdr> cdrs;
  std::vector<Captured> script;
  uint64_t next_seq = 1000;
};

}  // namespace callvault::testing
