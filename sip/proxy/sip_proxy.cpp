#include "sip/proxy/sip_proxy.h"

#include <netinet/in.h>
#include <sofia-sip/msg.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_util.h>
#include <sofia-sip/su_tag.h>
#include <sofia-sip/tport.h>
#include <sofia-sip/tport_tag.h>
#include <spdlog/spdlog.h>
#include <strings.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "sip/proxy/local_endpoints.h"
#include "sip/proxy/sip_edits.h"

namespace callvault::proxy {
namespace {

// Owns one reference to a msg_t.
struct MsgRef {
  msg_t* msg = nullptr;
  explicit MsgRef(msg_t* m) : msg(m) {}
  ~MsgRef() {
    if (msg != nullptr) msg_destroy(msg);
  }
  MsgRef(const MsgRef&) = delete;
  MsgRef& operator=(const MsgRef&) = delete;
  msg_t* release() {
    msg_t* m = msg;
    msg = nullptr;
    return m;
  }
};

// Owns one reference to a tport_t.
struct TportRef {
  tport_t* tp;
  explicit TportRef(tport_t* t) : tp(t) {}
  ~TportRef() {
    if (tp != nullptr) tport_unref(tp);
  }
  TportRef(const TportRef&) = delete;
  TportRef& operator=(const TportRef&) = delete;
};

uint8_t TransportOf(const tport_t* tp, uint8_t fallback) {
  if (tp == nullptr) return fallback;
  const char* proto = tport_name(tp)->tpn_proto;
  if (proto == nullptr) return fallback;
  if (strcasecmp(proto, "udp") == 0) return CV_TRANSPORT_UDP;
  if (strcasecmp(proto, "tcp") == 0) return CV_TRANSPORT_TCP;
  if (strcasecmp(proto, "tls") == 0) return CV_TRANSPORT_TLS;
  if (strcasecmp(proto, "sctp") == 0) return CV_TRANSPORT_SCTP;
  if (strcasecmp(proto, "ws") == 0) return CV_TRANSPORT_WS;
  if (strcasecmp(proto, "wss") == 0) return CV_TRANSPORT_WSS;
  return fallback;
}

const char* NameOf(const Trunk* t) { return t != nullptr ? t->name.c_str() : nullptr; }

// What decides where a response along a Via goes (RFC 3261 18.2.2, RFC 3581)
// and which transaction it answers.
struct ViaKey {
  std::string host, port, branch, received, rport;

  static ViaKey Of(const sip_via_t* v) {
    auto text = [](const char* s) { return s != nullptr ? std::string(s) : std::string(); };
    return ViaKey{text(v->v_host), text(v->v_port), text(v->v_branch), text(v->v_received),
                  text(v->v_rport)};
  }
  bool operator==(const ViaKey&) const = default;
};

// nta calls the proxy from C code, which an exception must not cross.  The
// only one the handlers can raise is std::bad_alloc; the message is then
// dropped (or answered with `on_error` where nta answers for us).
template <typename Handler>
int Guarded(int on_error, Handler&& handler) noexcept {
  try {
    return handler();
  } catch (...) {
    spdlog::error("message dropped: out of memory in a SIP callback");
    return on_error;
  }
}

}  // namespace

class SipProxy::Impl {
 public:
  Impl(const ProxyConfig& config, const Router& router, MessageTap& tap,
       LatencyHistogram& latency)
      : config_(config), router_(router), tap_(tap), latency_(latency), local_(config.listen) {}

  ~Impl() { Stop(); }

  bool Start(su_root_t* root, std::string* error);
  void Stop();
  // Copies sofia-sip's own refusal counts (413, malformed) into counters_.
  void SnapshotAgentCounters();

  ProxyCounters counters_;

 private:
  // One proxied request: the server transaction facing the sender and the
  // client transaction facing the next hop.  Lives until the final response
  // has been relayed (or the agent is destroyed).
  struct Transaction {
    Impl* proxy = nullptr;
    nta_incoming_t* server = nullptr;
    nta_outgoing_t* client = nullptr;
    nta_outgoing_t* cancel = nullptr;
    const Trunk* ingress = nullptr;
    const Trunk* egress = nullptr;
    TapContext server_side;  // for messages exchanged with the sender
    TapContext client_side;  // for messages exchanged with the next hop
    bool cancel_unreported = false;
    // INVITE only: our branch towards the next hop and the sender's top Via,
    // kept as the Accepted record once a 2xx has been relayed.
    std::string branch;
    std::optional<ViaKey> upstream;
  };

  // An INVITE client transaction that relayed a 2xx (RFC 6026 "Accepted"):
  // further 2xx for it (retransmissions, other forks) are still relayed
  // upstream for 64*T1.  Only a response whose top Via carries our branch
  // and whose next Via is the original sender's matches.
  struct Accepted {
    ViaKey upstream;
    TapContext server_side;  // how the 2xx is reported to the tap when sent
  };

  // Where a request goes, decided before the request is touched.
  struct Plan {
    enum class Kind {
      kTrunk,          // out-of-dialog, routed by trunk configuration
      kFollowRoute,    // in dialog or routed through us: Route set / Request-URI
      kForbidden,      // source not admitted: 403 (ACK: dropped)
      kUnroutable,     // 404
      kAddressedToUs,  // nothing left to forward to: 404
    };
    Kind kind = Kind::kUnroutable;
    const Trunk* ingress = nullptr;
    const Trunk* egress = nullptr;
    std::optional<HostPort> destination;  // where the request goes, when numeric
  };

  // nta callbacks (magic pointers are this Impl or a Transaction).
  static int OnStray(nta_agent_magic_t* magic, nta_agent_t*, msg_t* msg, sip_t* sip);
  static int OnRequest(nta_leg_magic_t* magic, nta_leg_t*, nta_incoming_t* irq, sip_t const*);
  static int OnServerEvent(nta_incoming_magic_t* magic, nta_incoming_t* irq, sip_t const* sip);
  static int OnResponse(nta_outgoing_magic_t* magic, nta_outgoing_t* orq, sip_t const* sip);
  static int OnCancelResponse(nta_outgoing_magic_t* magic, nta_outgoing_t* orq,
                              sip_t const* sip);

  int HandleRequest(nta_incoming_t* irq);
  Plan PlanRoute(const sip_t* sip, const msg_t* msg) const;
  int HandleAck(nta_incoming_t* irq, MsgRef& msg, const Plan& plan, uint8_t transport);
  int Forward(nta_incoming_t* irq, MsgRef& msg, const Plan& plan, const TapContext& server_side);
  int Reply(nta_incoming_t* irq, int status, const char* phrase, const TapContext& ctx);
  void HandleResponse(Transaction* t, nta_outgoing_t* orq, const sip_t* sip);
  void HandleServerEvent(Transaction* t, nta_incoming_t* irq, const sip_t* sip);
  void HandleCancelResponse(Transaction* t, nta_outgoing_t* orq, const sip_t* sip);
  void HandleStray(msg_t* msg, sip_t* sip);
  // The Accepted record a stray response belongs to, or nullptr.
  const Accepted* MatchAccepted(const sip_t* sip);
  void RememberAccepted(const Transaction& t);
  void ExpireAccepted(std::chrono::steady_clock::time_point now);
  void ReportCancel(Transaction* t);
  // False (and the connection shut down) when `tp` is a TCP connection
  // beyond limits.max_tcp_connections.
  bool AdmitConnection(tport_t* tp);
  // Releases counted connections that closed, or that carried no request
  // for kConnectionIdle (sofia-sip may then close them when idle, as it
  // does for any connection nobody references).
  void PruneConnections(std::chrono::steady_clock::time_point now);
  void Finish(Transaction* t);

  tport_t* DeliveringTport(msg_t* msg) const {
    return tport_delivered_by(nta_agent_tports(agent_), msg);
  }
  TapContext Context(msg_t* msg, const tport_t* tp, uint8_t fallback_transport,
                     const Trunk* ingress, const Trunk* egress) const;
  // Our listen entry for sending to `destination` (same family and
  // transport), or nullptr to let sofia-sip choose.
  const LocalEndpoint* SenderFor(const std::optional<HostPort>& destination) const;
  tport_t* PrimaryTport(const LocalEndpoint* endpoint) const;

  const ProxyConfig& config_;
  const Router& router_;
  MessageTap& tap_;
  LatencyHistogram& latency_;
  LocalEndpoints local_;
  nta_agent_t* agent_ = nullptr;
  nta_leg_t* default_leg_ = nullptr;
  std::unordered_set<Transaction*> live_;
  // Accepted records by our branch; accepted_order_ lists the branches in
  // expiry order (one lifetime for all, so insertion order).
  std::unordered_map<std::string, Accepted> accepted_;
  std::deque<std::pair<std::chrono::steady_clock::time_point, std::string>> accepted_order_;
  std::chrono::milliseconds accepted_lifetime_{32000};
  // TCP connections that carried a request to us, with the time of the
  // last one; each is held by one reference so that a closed one is
  // recognised (tport_is_closed) and released before sofia-sip can free it.
  std::unordered_map<tport_t*, std::chrono::steady_clock::time_point> tcp_connections_;
  std::chrono::steady_clock::time_point last_prune_{};
};

// ---------------------------------------------------------------------------
// Lifecycle

bool SipProxy::Impl::Start(su_root_t* root, std::string* error) {
  const TimerSettings& timers = config_.timers;
  // NTATAG_UA(0): proxy semantics (2xx retransmissions and 2xx ACKs reach
  // the application).  MSG_DO_EXTRACT_COPY: parse copies of header text so
  // the receive buffer keeps the wire bytes (see message_tap.h) and
  // forwarded headers keep their original text.  CANCEL_487(0): the 487
  // comes from downstream, not from nta.
  agent_ = nta_agent_create(
      root, reinterpret_cast<url_string_t const*>(-1), OnStray,
      reinterpret_cast<nta_agent_magic_t*>(this), NTATAG_UA(0),
      NTATAG_SIPFLAGS(MSG_DO_CANONIC | MSG_DO_EXTRACT_COPY), NTATAG_CANCEL_487(0),
      NTATAG_MAXSIZE(config_.limits.max_message_bytes),
      TAG_IF(timers.t1_ms != 0, NTATAG_SIP_T1(timers.t1_ms)),
      TAG_IF(timers.t1x64_ms != 0, NTATAG_SIP_T1X64(timers.t1x64_ms)),
      TAG_IF(timers.timer_c_ms != 0, NTATAG_TIMER_C(timers.timer_c_ms)), TAG_END());
  if (agent_ == nullptr) {
    *error = std::string("cannot create the SIP agent: ") + std::strerror(errno);
    return false;
  }
  // Timer M of RFC 6026 is 64*T1, as sofia-sip derives it.
  accepted_lifetime_ = std::chrono::milliseconds(
      timers.t1x64_ms != 0 ? timers.t1x64_ms : 64u * (timers.t1_ms != 0 ? timers.t1_ms : 500u));
  for (size_t i = 0; i < config_.listen.size(); ++i) {
    const std::string& uri = config_.listen[i].uri;
    const std::string ident = LocalEndpoints::IdentFor(i);
    if (nta_agent_add_tport(agent_, URL_STRING_MAKE(uri.c_str()), TPTAG_IDENT(ident.c_str()),
                            TAG_END()) < 0) {
      *error = "listen[" + std::to_string(i) + "]: cannot bind: " + std::strerror(errno);
      return false;
    }
  }
  default_leg_ = nta_leg_tcreate(agent_, OnRequest, reinterpret_cast<nta_leg_magic_t*>(this),
                                 NTATAG_NO_DIALOG(1), TAG_END());
  if (default_leg_ == nullptr) {
    *error = "cannot create the default leg";
    return false;
  }
  return true;
}

void SipProxy::Impl::SnapshotAgentCounters() {
  if (agent_ == nullptr) return;
  usize_t bad_requests = 0, bad_responses = 0;
  nta_agent_get_stats(agent_, NTATAG_S_BAD_REQUEST_REF(bad_requests),
                      NTATAG_S_BAD_RESPONSE_REF(bad_responses), TAG_END());
  counters_.bad_requests = bad_requests;
  counters_.bad_responses = bad_responses;
}

void SipProxy::Impl::Stop() {
  SnapshotAgentCounters();
  for (const auto& [tp, last] : tcp_connections_) tport_unref(tp);
  tcp_connections_.clear();
  if (default_leg_ != nullptr) nta_leg_destroy(default_leg_), default_leg_ = nullptr;
  // Destroying the agent frees every transaction without calling back.
  if (agent_ != nullptr) nta_agent_destroy(agent_), agent_ = nullptr;
  for (Transaction* t : live_) delete t;
  live_.clear();
  accepted_.clear();
  accepted_order_.clear();
}

const LocalEndpoint* SipProxy::Impl::SenderFor(
    const std::optional<HostPort>& destination) const {
  if (!destination) return nullptr;
  return local_.Find(destination->address.family, destination->transport);
}

tport_t* SipProxy::Impl::PrimaryTport(const LocalEndpoint* endpoint) const {
  if (endpoint == nullptr) return nullptr;
  const char* proto = endpoint->transport == CV_TRANSPORT_TCP ? "tcp" : "udp";
  for (tport_t* tp = tport_primaries(nta_agent_tports(agent_)); tp != nullptr;
       tp = tport_next(tp)) {
    const tp_name_t* name = tport_name(tp);
    if (name->tpn_ident != nullptr && endpoint->ident == name->tpn_ident &&
        strcasecmp(name->tpn_proto, proto) == 0) {
      return tp;
    }
  }
  return nullptr;
}

TapContext SipProxy::Impl::Context(msg_t* msg, const tport_t* tp, uint8_t fallback_transport,
                                   const Trunk* ingress, const Trunk* egress) const {
  TapContext ctx;
  ctx.transport = TransportOf(tp, fallback_transport);
  const uint8_t family = msg_addr(msg)->su_family == AF_INET6 ? 6 : 4;
  if (const LocalEndpoint* e = local_.Find(family, ctx.transport)) ctx.local = e->addr;
  ctx.ingress_trunk = NameOf(ingress);
  ctx.egress_trunk = NameOf(egress);
  return ctx;
}

// ---------------------------------------------------------------------------
// Requests

int SipProxy::Impl::OnRequest(nta_leg_magic_t* magic, nta_leg_t*, nta_incoming_t* irq,
                              sip_t const*) {
  Impl* self = reinterpret_cast<Impl*>(magic);
  return Guarded(500, [&] {
    LatencyTimer timer(self->latency_);
    return self->HandleRequest(irq);
  });
}

SipProxy::Impl::Plan SipProxy::Impl::PlanRoute(const sip_t* sip, const msg_t* msg) const {
  Plan plan;
  const su_sockaddr_t* from = msg_addr(const_cast<msg_t*>(msg));
  const auto source = IpAddress::FromSockaddr(&from->su_sa);
  const uint16_t source_port = ntohs(from->su_port);
  const bool in_dialog = sip->sip_to != nullptr && sip->sip_to->a_tag != nullptr;

  // Admission (no open relay): a source inside a trunk's ingress CIDRs may
  // send anything; the far end of an egress trunk only requests within a
  // dialog (its BYE, re-INVITE); the proxy itself is answered for either.
  // Anyone else is refused before anything is routed.
  const Trunk* ingress_source = source ? router_.IngressTrunk(*source) : nullptr;
  const Trunk* egress_peer = source ? router_.EgressPeer(*source) : nullptr;

  // Route entries naming us are consumed (stripped before forwarding); the
  // first other entry, if any, is where the request goes next.
  const sip_route_t* r = sip->sip_route;
  while (r != nullptr) {
    auto hp = UrlHostPort(r->r_url);
    if (!hp || !local_.IsOwn(hp->address, hp->port)) break;
    r = r->r_next;
  }

  // In dialog, or carrying a Route set beyond us: follow it (RFC 3261
  // 16.12), to the Request-URI once the Route set is used up.
  if (in_dialog || r != nullptr) {
    plan.ingress = source ? router_.PeerTrunk(*source, source_port) : nullptr;
    if (plan.ingress == nullptr) plan.ingress = egress_peer;  // far end, other port
    if (ingress_source == nullptr && !(in_dialog && egress_peer != nullptr)) {
      plan.kind = Plan::Kind::kForbidden;
      return plan;
    }
    const url_t* target = r != nullptr ? r->r_url : sip->sip_request->rq_url;
    auto hp = UrlHostPort(target);
    if (r == nullptr && hp && local_.IsOwn(hp->address, hp->port)) {
      plan.kind = Plan::Kind::kAddressedToUs;
      return plan;
    }
    plan.egress = hp ? router_.PeerTrunk(hp->address, hp->port) : nullptr;
    plan.destination = hp;
    plan.kind = Plan::Kind::kFollowRoute;
    return plan;
  }

  // Out of dialog with no Route left (none, or only a preloaded one naming
  // us): route by trunk.
  // An out-of-dialog request for the proxy itself (no user part, our
  // address): nothing to route.  OPTIONS pings are answered, others get 404.
  const url_t* ruri = sip->sip_request->rq_url;
  if (ruri->url_user == nullptr) {
    auto hp = UrlHostPort(ruri);
    if (hp && local_.IsOwn(hp->address, hp->port)) {
      plan.ingress = ingress_source;
      plan.kind = ingress_source != nullptr || egress_peer != nullptr
                      ? Plan::Kind::kAddressedToUs
                      : Plan::Kind::kForbidden;
      return plan;
    }
  }

  if (!source) {
    plan.kind = Plan::Kind::kForbidden;
    return plan;
  }
  const RouteDecision d = router_.Route(*source, RequestUser(sip));
  plan.ingress = d.ingress;
  plan.egress = d.egress;
  switch (d.outcome) {
    case RouteDecision::Outcome::kRouted: {
      plan.kind = Plan::Kind::kTrunk;
      const SipEndpoint& hop = d.egress->next_hop;
      plan.destination = HostPort{hop.address, hop.port,
                                  hop.transport == "tcp" ? uint8_t{CV_TRANSPORT_TCP}
                                                         : uint8_t{CV_TRANSPORT_UDP}};
      break;
    }
    case RouteDecision::Outcome::kNoIngress:
      // A new call from a source on no ingress trunk (an egress peer
      // included): refused like any other unknown source.
      plan.kind = Plan::Kind::kForbidden;
      break;
    case RouteDecision::Outcome::kUnroutable:
      plan.kind = Plan::Kind::kUnroutable;
      break;
  }
  return plan;
}

int SipProxy::Impl::HandleRequest(nta_incoming_t* irq) {
  ++counters_.requests_received;
  MsgRef msg(nta_incoming_getrequest(irq));
  sip_t* sip = sip_object(msg.msg);
  tport_t* tp = DeliveringTport(msg.msg);
  if (!AdmitConnection(tp)) {
    nta_incoming_destroy(irq);
    return 0;
  }
  const Plan plan = PlanRoute(sip, msg.msg);
  const TapContext server_side =
      Context(msg.msg, tp, CV_TRANSPORT_UDP, plan.ingress, plan.egress);
  if (tap_.active()) tap_.Received(msg.msg, tport_is_dgram(tp) != 0, server_side);

  const sip_method_t method = sip->sip_request->rq_method;
  if (method == sip_method_ack) return HandleAck(irq, msg, plan, server_side.transport);
  if (plan.kind == Plan::Kind::kForbidden) {
    ++counters_.replied_403;
    spdlog::debug("403 request from a source not admitted");
    return Reply(irq, SIP_403_FORBIDDEN, server_side);
  }
  if (method == sip_method_cancel) {
    // nta matches a CANCEL to its INVITE transaction before the leg sees
    // it; one arriving here cancels nothing we know.
    ++counters_.replied_481;
    spdlog::debug("481 CANCEL without matching transaction");
    return Reply(irq, SIP_481_NO_TRANSACTION, server_side);
  }
  if (MaxForwards(sip) == 0) {
    ++counters_.replied_483;
    spdlog::debug("483 request with Max-Forwards 0");
    return Reply(irq, SIP_483_TOO_MANY_HOPS, server_side);
  }
  if (HasOwnVia(sip, local_)) {
    ++counters_.replied_482;
    spdlog::debug("482 request already passed through this proxy");
    return Reply(irq, SIP_482_LOOP_DETECTED, server_side);
  }
  switch (plan.kind) {
    case Plan::Kind::kUnroutable:
      ++counters_.replied_404;
      spdlog::debug("404 unroutable request");
      return Reply(irq, SIP_404_NOT_FOUND, server_side);
    case Plan::Kind::kAddressedToUs:
      if (method == sip_method_options) {
        ++counters_.replied_200_options;
        return Reply(irq, SIP_200_OK, server_side);
      }
      ++counters_.replied_404;
      spdlog::debug("404 request addressed to the proxy itself");
      return Reply(irq, SIP_404_NOT_FOUND, server_side);
    case Plan::Kind::kForbidden:  // answered above
    case Plan::Kind::kTrunk:
    case Plan::Kind::kFollowRoute:
      break;
  }
  return Forward(irq, msg, plan, server_side);
}

bool SipProxy::Impl::AdmitConnection(tport_t* tp) {
  if (tp == nullptr || tport_is_dgram(tp) || !tport_is_secondary(tp)) return true;
  const auto now = std::chrono::steady_clock::now();
  const auto known = tcp_connections_.find(tp);
  if (known != tcp_connections_.end()) {
    known->second = now;
    if (now - last_prune_ >= std::chrono::seconds(1)) PruneConnections(now);
    return true;
  }
  PruneConnections(now);
  if (tcp_connections_.size() >= config_.limits.max_tcp_connections) {
    ++counters_.tcp_connections_refused;
    spdlog::debug("TCP connection closed: limits.max_tcp_connections reached");
    tport_shutdown(tp, 2);
    return false;
  }
  tcp_connections_.emplace(tport_ref(tp), now);
  return true;
}

void SipProxy::Impl::PruneConnections(std::chrono::steady_clock::time_point now) {
  // sofia-sip's own idle limit for unreferenced connections (30 min).
  constexpr auto kConnectionIdle = std::chrono::minutes(30);
  last_prune_ = now;
  for (auto it = tcp_connections_.begin(); it != tcp_connections_.end();) {
    if (tport_is_closed(it->first) || now - it->second >= kConnectionIdle) {
      tport_unref(it->first);
      it = tcp_connections_.erase(it);
    } else {
      ++it;
    }
  }
}

int SipProxy::Impl::Reply(nta_incoming_t* irq, int status, const char* phrase,
                          const TapContext& ctx) {
  nta_incoming_treply(irq, status, phrase, TAG_END());
  if (tap_.active()) {
    MsgRef response(nta_incoming_getresponse(irq));
    if (response.msg != nullptr) tap_.Sent(response.msg, ctx);
  }
  // Returning the final status makes nta destroy the server transaction
  // after the callback; the reply has already been sent, so nta sends none.
  return status;
}

int SipProxy::Impl::HandleAck(nta_incoming_t* irq, MsgRef& msg, const Plan& plan,
                              uint8_t transport) {
  sip_t* sip = sip_object(msg.msg);
  // An ACK for a 2xx starts a new transaction hop by hop and is forwarded
  // statelessly (RFC 3261 16.11).  Anything we cannot forward is dropped:
  // an ACK is never answered.
  if (plan.kind == Plan::Kind::kForbidden) {
    ++counters_.acks_refused;
    spdlog::debug("ACK dropped: source not admitted");
    nta_incoming_destroy(irq);
    return 0;
  }
  const bool forwardable = plan.kind == Plan::Kind::kFollowRoute && MaxForwards(sip) != 0 &&
                           !HasOwnVia(sip, local_);
  if (forwardable) {
    DecrementMaxForwards(msg.msg, sip);
    StripOwnRoutes(msg.msg, sip, local_);
    msg_t* sent = msg_ref_create(msg.msg);  // keeps the bytes readable after the send
    const LocalEndpoint* sender = SenderFor(plan.destination);
    if (nta_msg_tsend(agent_, msg.release(), nullptr,
                      TAG_IF(sender != nullptr, TPTAG_IDENT(sender ? sender->ident.c_str() : "")),
                      TAG_END()) == 0) {
      ++counters_.acks_forwarded;
      if (tap_.active()) {
        tap_.Sent(sent, Context(sent, nullptr, transport, plan.ingress, plan.egress));
      }
    } else {
      ++counters_.dropped;
    }
    msg_destroy(sent);
  } else {
    ++counters_.dropped;
    spdlog::debug("ACK dropped: not forwardable");
  }
  nta_incoming_destroy(irq);
  return 0;
}

int SipProxy::Impl::Forward(nta_incoming_t* irq, MsgRef& msg, const Plan& plan,
                            const TapContext& server_side) {
  sip_t* sip = sip_object(msg.msg);
  const sip_method_t method = sip->sip_request->rq_method;
  const bool in_dialog = sip->sip_to != nullptr && sip->sip_to->a_tag != nullptr;

  DecrementMaxForwards(msg.msg, sip);
  StripOwnRoutes(msg.msg, sip, local_);

  url_string_t const* route_url = nullptr;
  if (plan.kind == Plan::Kind::kTrunk) {
    route_url = URL_STRING_MAKE(plan.egress->next_hop.uri.c_str());
  }
  if (method == sip_method_invite && !in_dialog && config_.record_route) {
    // Record-Route with the address facing the sender, and, when the next
    // hop is reached over another family or transport, a second entry on
    // top for the side facing the next hop (RFC 5658).
    const LocalEndpoint* in_ep = local_.Find(server_side.local.family, server_side.transport);
    const LocalEndpoint* out_ep = SenderFor(plan.destination);
    if (in_ep != nullptr) InsertRecordRoute(msg.msg, sip, in_ep->record_route);
    if (out_ep != nullptr && out_ep != in_ep) {
      InsertRecordRoute(msg.msg, sip, out_ep->record_route);
    }
  }

  auto* t = new Transaction;
  t->proxy = this;
  t->server = irq;
  t->ingress = plan.ingress;
  t->egress = plan.egress;
  t->server_side = server_side;
  nta_incoming_bind(irq, OnServerEvent, reinterpret_cast<nta_incoming_magic_t*>(t));

  msg_t* request = msg.msg;
  const LocalEndpoint* sender = SenderFor(plan.destination);
  t->client = nta_outgoing_mcreate(
      agent_, OnResponse, reinterpret_cast<nta_outgoing_magic_t*>(t), route_url, request,
      TAG_IF(sender != nullptr, TPTAG_IDENT(sender ? sender->ident.c_str() : "")), TAG_END());
  if (t->client == nullptr) {
    nta_incoming_bind(irq, nullptr, nullptr);
    delete t;
    ++counters_.replied_503;
    spdlog::debug("503 next hop could not be used");
    return Reply(irq, SIP_503_SERVICE_UNAVAILABLE, server_side);
  }
  msg.release();  // the client transaction owns it now
  live_.insert(t);
  if (method == sip_method_invite) {
    // The sender's Via is now second, under ours.
    const sip_via_t* upstream = sip_object(request)->sip_via;
    if (upstream != nullptr) upstream = upstream->v_next;
    if (const char* branch = nta_outgoing_branch(t->client)) t->branch = branch;
    if (upstream != nullptr && upstream->v_branch != nullptr && upstream->v_host != nullptr) {
      t->upstream = ViaKey::Of(upstream);
    }
  }
  ++counters_.requests_forwarded;

  {
    TportRef out(nta_outgoing_transport(t->client));
    t->client_side = Context(request, out.tp, server_side.transport, t->ingress, t->egress);
  }
  if (tap_.active()) tap_.Sent(request, t->client_side);

  if (method == sip_method_invite) {
    nta_incoming_treply(irq, SIP_100_TRYING, TAG_END());
    if (tap_.active()) {
      MsgRef trying(nta_incoming_getresponse(irq));
      if (trying.msg != nullptr) tap_.Sent(trying.msg, server_side);
    }
  }
  return 0;
}

// ---------------------------------------------------------------------------
// CANCEL / ACK on the server transaction

int SipProxy::Impl::OnServerEvent(nta_incoming_magic_t* magic, nta_incoming_t* irq,
                                  sip_t const* sip) {
  auto* t = reinterpret_cast<Transaction*>(magic);
  return Guarded(0, [&] {
    t->proxy->HandleServerEvent(t, irq, sip);
    return 0;
  });
}

void SipProxy::Impl::HandleServerEvent(Transaction* t, nta_incoming_t* irq, const sip_t* sip) {
  if (sip == nullptr) {
    // The server transaction terminated before a final response was relayed
    // (nta timer).  Release it; the client side finishes on its own.
    nta_incoming_destroy(irq);
    t->server = nullptr;
    return;
  }
  LatencyTimer timer(latency_);
  ++counters_.requests_received;
  MsgRef request(nta_incoming_getrequest_ackcancel(irq));
  if (tap_.active() && request.msg != nullptr) {
    tap_.Received(request.msg, tport_is_dgram(DeliveringTport(request.msg)) != 0, t->server_side);
  }
  if (sip->sip_request->rq_method != sip_method_cancel) return;  // ACK of a non-2xx: absorbed
  // nta has already answered the CANCEL with 200; cancel the next hop.
  if (t->client != nullptr && t->cancel == nullptr) {
    t->cancel = nta_outgoing_tcancel(t->client, OnCancelResponse,
                                     reinterpret_cast<nta_outgoing_magic_t*>(t), TAG_END());
    if (t->cancel != nullptr) {
      ++counters_.cancels_forwarded;
      ReportCancel(t);
    }
  }
}

void SipProxy::Impl::ReportCancel(Transaction* t) {
  if (!tap_.active()) return;
  MsgRef cancel(nta_outgoing_getrequest(t->cancel));
  // The CANCEL waits inside nta until the next hop has sent a provisional
  // response; it is reported once it has actually been sent.
  t->cancel_unreported = cancel.msg == nullptr || !msg_is_prepared(cancel.msg);
  if (!t->cancel_unreported) tap_.Sent(cancel.msg, t->client_side);
}

int SipProxy::Impl::OnCancelResponse(nta_outgoing_magic_t* magic, nta_outgoing_t* orq,
                                     sip_t const* sip) {
  auto* t = reinterpret_cast<Transaction*>(magic);
  return Guarded(0, [&] {
    t->proxy->HandleCancelResponse(t, orq, sip);
    return 0;
  });
}

void SipProxy::Impl::HandleCancelResponse(Transaction* t, nta_outgoing_t* orq, const sip_t* sip) {
  const bool internal = sip == nullptr || nta_sip_is_internal(sip);
  if (!internal) {
    LatencyTimer timer(latency_);
    ++counters_.responses_received;
    if (tap_.active()) {
      MsgRef response(nta_outgoing_getresponse(orq));
      if (response.msg != nullptr) {
        tap_.Received(response.msg, tport_is_dgram(DeliveringTport(response.msg)) != 0,
                      t->client_side);
      }
    }
  }
  const int status = sip != nullptr && sip->sip_status ? sip->sip_status->st_status : 408;
  if (status >= 200) {
    nta_outgoing_destroy(orq);
    t->cancel = nullptr;
  }
}

// ---------------------------------------------------------------------------
// Responses

int SipProxy::Impl::OnResponse(nta_outgoing_magic_t* magic, nta_outgoing_t* orq,
                               sip_t const* sip) {
  auto* t = reinterpret_cast<Transaction*>(magic);
  return Guarded(0, [&] {
    t->proxy->HandleResponse(t, orq, sip);
    return 0;
  });
}

void SipProxy::Impl::HandleResponse(Transaction* t, nta_outgoing_t* orq, const sip_t* sip) {
  const bool internal = sip == nullptr || nta_sip_is_internal(sip);
  std::optional<LatencyTimer> timer;
  if (!internal) timer.emplace(latency_);

  // A CANCEL held back for a provisional response was sent just before
  // this callback.
  if (t->cancel_unreported && t->cancel != nullptr) ReportCancel(t);

  if (internal) {
    // nta's own verdict: the next hop timed out (408) or could not be
    // reached (503).  Answer upstream with the same status.
    const int status = sip != nullptr && sip->sip_status ? sip->sip_status->st_status : 408;
    const char* phrase = sip != nullptr && sip->sip_status ? sip->sip_status->st_phrase : nullptr;
    if (status == 408) {
      ++counters_.timeouts_408;
    } else {
      ++counters_.transport_failures;
    }
    spdlog::debug("{} client transaction failed inside the proxy", status);
    if (t->server != nullptr) {
      nta_incoming_treply(t->server, status, phrase, TAG_END());
      if (tap_.active()) {
        MsgRef response(nta_incoming_getresponse(t->server));
        if (response.msg != nullptr) tap_.Sent(response.msg, t->server_side);
      }
    }
    if (status >= 200) Finish(t);
    return;
  }

  ++counters_.responses_received;
  const int status = sip->sip_status->st_status;
  MsgRef response(nta_outgoing_getresponse(orq));
  if (response.msg == nullptr) return;
  if (tap_.active()) {
    tap_.Received(response.msg, tport_is_dgram(DeliveringTport(response.msg)) != 0,
                  t->client_side);
  }
  sip_t* rsip = sip_object(response.msg);
  sip_via_remove(response.msg, rsip);  // our own Via
  if (t->server != nullptr && rsip->sip_via != nullptr) {
    msg_t* keep = tap_.active() ? msg_ref_create(response.msg) : nullptr;
    if (nta_incoming_mreply(t->server, response.release()) == 0) {
      ++counters_.responses_relayed;
      if (status >= 200 && status < 300) RememberAccepted(*t);
      if (keep != nullptr) tap_.Sent(keep, t->server_side);
    } else {
      ++counters_.dropped;
    }
    if (keep != nullptr) msg_destroy(keep);
  } else {
    // The next hop answered with a Via list that ends at us: nothing to
    // relay along.  A final answer is still owed upstream.
    ++counters_.dropped;
    spdlog::debug("response dropped: no Via left to relay it");
    if (status >= 200 && t->server != nullptr) {
      nta_incoming_treply(t->server, SIP_502_BAD_GATEWAY, TAG_END());
      if (tap_.active()) {
        MsgRef reply(nta_incoming_getresponse(t->server));
        if (reply.msg != nullptr) tap_.Sent(reply.msg, t->server_side);
      }
    }
  }
  if (status >= 200) Finish(t);
}

void SipProxy::Impl::Finish(Transaction* t) {
  // After this, late 2xx for an INVITE reach OnStray and are relayed while
  // its Accepted record lives; nta keeps absorbing retransmitted requests
  // and the ACK of a non-2xx until its timers expire.
  if (t->cancel != nullptr) nta_outgoing_destroy(t->cancel);
  if (t->client != nullptr) nta_outgoing_destroy(t->client);
  if (t->server != nullptr) nta_incoming_destroy(t->server);
  live_.erase(t);
  delete t;
}

int SipProxy::Impl::OnStray(nta_agent_magic_t* magic, nta_agent_t*, msg_t* msg, sip_t* sip) {
  Impl* self = reinterpret_cast<Impl*>(magic);
  return Guarded(0, [&] {
    LatencyTimer timer(self->latency_);
    self->HandleStray(msg, sip);
    return 0;
  });
}

void SipProxy::Impl::HandleStray(msg_t* msg, sip_t* sip) {
  MsgRef owned(msg);
  if (sip == nullptr || sip->sip_status == nullptr) {
    ++counters_.dropped;
    return;
  }
  ++counters_.responses_received;
  tport_t* tp = DeliveringTport(msg);
  const su_sockaddr_t* from = msg_addr(msg);
  const auto source = IpAddress::FromSockaddr(&from->su_sa);
  const Trunk* peer = source ? router_.PeerTrunk(*source, ntohs(from->su_port)) : nullptr;
  const TapContext ctx = Context(msg, tp, CV_TRANSPORT_UDP, nullptr, peer);
  if (tap_.active()) tap_.Received(msg, tport_is_dgram(tp) != 0, ctx);

  // A response outside any live transaction is relayed only as a late 2xx
  // of an Accepted INVITE transaction; anything else (a forged response
  // that would be reflected to whoever its second Via names) is dropped.
  const Accepted* accepted = MatchAccepted(sip);
  if (accepted == nullptr) {
    ++counters_.stray_responses_dropped;
    spdlog::debug("stray response dropped: matches no client transaction");
    return;
  }
  std::optional<HostPort> next;
  if (auto address = IpAddress::Parse(accepted->upstream.host)) {
    next = HostPort{*address, 0, accepted->server_side.transport};
  }
  tport_t* sender = PrimaryTport(SenderFor(next));
  const TapContext sent_ctx = accepted->server_side;
  // nta_msg_tsend pops our Via and sends along the next one, the sender's.
  msg_t* keep = msg_ref_create(msg);
  if (nta_msg_tsend(agent_, owned.release(), nullptr, TAG_IF(sender != nullptr, NTATAG_TPORT(sender)),
                    TAG_END()) == 0) {
    ++counters_.stray_responses_forwarded;
    if (tap_.active()) tap_.Sent(keep, sent_ctx);
  } else {
    ++counters_.dropped;
  }
  msg_destroy(keep);
}

void SipProxy::Impl::RememberAccepted(const Transaction& t) {
  if (t.branch.empty() || !t.upstream) return;
  const auto now = std::chrono::steady_clock::now();
  ExpireAccepted(now);
  if (accepted_.insert_or_assign(t.branch, Accepted{*t.upstream, t.server_side}).second) {
    accepted_order_.emplace_back(now + accepted_lifetime_, t.branch);
  }
}

void SipProxy::Impl::ExpireAccepted(std::chrono::steady_clock::time_point now) {
  while (!accepted_order_.empty() && accepted_order_.front().first <= now) {
    accepted_.erase(accepted_order_.front().second);
    accepted_order_.pop_front();
  }
}

const SipProxy::Impl::Accepted* SipProxy::Impl::MatchAccepted(const sip_t* sip) {
  ExpireAccepted(std::chrono::steady_clock::now());
  const sip_via_t* ours = sip->sip_via;
  const int status = sip->sip_status->st_status;
  if (status < 200 || status >= 300 || sip->sip_cseq == nullptr ||
      sip->sip_cseq->cs_method != sip_method_invite) {
    return nullptr;
  }
  if (ours == nullptr || ours->v_branch == nullptr || !ViaIsOwn(ours, local_)) return nullptr;
  const auto it = accepted_.find(ours->v_branch);
  if (it == accepted_.end()) return nullptr;
  // The next Via must be the one the sender put there (with what we added
  // on receipt: received, rport), byte for byte where it steers the send.
  const sip_via_t* upstream = ours->v_next;
  if (upstream == nullptr || !(ViaKey::Of(upstream) == it->second.upstream)) return nullptr;
  return &it->second;
}

// ---------------------------------------------------------------------------

SipProxy::SipProxy(const ProxyConfig& config, const Router& router, MessageTap& tap,
                   LatencyHistogram& latency)
    : impl_(std::make_unique<Impl>(config, router, tap, latency)) {}

SipProxy::~SipProxy() = default;

bool SipProxy::Start(su_root_s* root, std::string* error) { return impl_->Start(root, error); }

void SipProxy::Stop() { impl_->Stop(); }

const ProxyCounters& SipProxy::counters() const { return impl_->counters_; }

std::string SipProxy::FormatCounters() const {
  impl_->SnapshotAgentCounters();
  const ProxyCounters& c = impl_->counters_;
  std::string out = "proxy_counters";
  auto add = [&out](const char* name, uint64_t v) {
    out += ' ';
    out += name;
    out += '=';
    out += std::to_string(v);
  };
  add("requests_received", c.requests_received);
  add("responses_received", c.responses_received);
  add("requests_forwarded", c.requests_forwarded);
  add("acks_forwarded", c.acks_forwarded);
  add("cancels_forwarded", c.cancels_forwarded);
  add("responses_relayed", c.responses_relayed);
  add("stray_responses_forwarded", c.stray_responses_forwarded);
  add("stray_responses_dropped", c.stray_responses_dropped);
  add("replied_403", c.replied_403);
  add("acks_refused", c.acks_refused);
  add("bad_requests", c.bad_requests);
  add("bad_responses", c.bad_responses);
  add("tcp_connections_refused", c.tcp_connections_refused);
  add("dropped", c.dropped);
  add("replied_200_options", c.replied_200_options);
  add("replied_404", c.replied_404);
  add("replied_481", c.replied_481);
  add("replied_482", c.replied_482);
  add("replied_483", c.replied_483);
  add("replied_503", c.replied_503);
  add("timeouts_408", c.timeouts_408);
  add("transport_failures", c.transport_failures);
  return out;
}

}  // namespace callvault::proxy
