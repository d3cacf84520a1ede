// Trunk routing: which trunk a request came in on and which trunk (next hop)
// it leaves on.  Built once from the config; lookups allocate nothing and
// are safe to call on the SIP thread for every request.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sip/proxy/proxy_config.h"

namespace callvault::proxy {

struct Trunk {
  std::string name;
  std::vector<Cidr> ingress_cidrs;
  bool has_next_hop = false;
  SipEndpoint next_hop;
  const Trunk* default_egress = nullptr;
};

struct RouteDecision {
  enum class Outcome {
    kRouted,      // egress set; forward to egress->next_hop
    kNoIngress,   // source is on no trunk: 503
    kUnroutable,  // no prefix matches and no default egress: 404
  };
  Outcome outcome = Outcome::kUnroutable;
  const Trunk* ingress = nullptr;
  const Trunk* egress = nullptr;
};

class Router {
 public:
  explicit Router(const ProxyConfig& config);
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Routes an initial (out-of-dialog) request from `source` whose
  // Request-URI user part is `ruri_user` (may be empty).
  RouteDecision Route(const IpAddress& source, std::string_view ruri_user) const;

  // The trunk whose ingress CIDRs hold `source` (longest prefix; first
  // configured wins a tie), or nullptr.
  const Trunk* IngressTrunk(const IpAddress& source) const;

  // The trunk a peer belongs to, for in-dialog traffic: the trunk whose
  // next hop is exactly address:port, else IngressTrunk(address).
  const Trunk* PeerTrunk(const IpAddress& address, uint16_t port) const;

  // The egress trunk whose next hop is at `address` (any port: a far end
  // over TCP connects from an ephemeral port), or nullptr.  Its in-dialog
  // requests (BYE, re-INVITE from the callee) are admitted.
  const Trunk* EgressPeer(const IpAddress& address) const;

  const std::vector<Trunk>& trunks() const { return trunks_; }

 private:
  struct Prefix {
    std::string prefix;
    const Trunk* egress;
  };
  std::vector<Trunk> trunks_;    // never resized after construction: pointers stay valid
  std::vector<Prefix> prefixes_; // sorted longest first
};

}  // namespace callvault::proxy
