#include "sip/proxy/router.h"

#include <algorithm>

namespace callvault::proxy {

Router::Router(const ProxyConfig& config) {
  trunks_.reserve(config.trunks.size());
  for (const auto& tc : config.trunks) {
    Trunk& t = trunks_.emplace_back();
    t.name = tc.name;
    t.ingress_cidrs = tc.ingress_cidrs;
    if (tc.next_hop.has_value()) {
      t.has_next_hop = true;
      t.next_hop = tc.next_hop.value();
    }
  }
  auto find = [this](const std::string& name) -> const Trunk* {
    for (const auto& t : trunks_) {
      if (t.name == name) return &t;
    }
    return nullptr;
  };
  // Config validation guarantees every reference resolves to a trunk with a
  // next hop, so no lookup below can yield nullptr.
  for (size_t i = 0; i < trunks_.size(); ++i) {
    if (!config.trunks[i].default_egress.empty()) {
      trunks_[i].default_egress = find(config.trunks[i].default_egress);
    }
  }
  for (const auto& rc : config.routes) prefixes_.push_back({rc.prefix, find(rc.egress)});
  std::stable_sort(prefixes_.begin(), prefixes_.end(), [](const Prefix& a, const Prefix& b) {
    return a.prefix.size() > b.prefix.size();
  });
}

const Trunk* Router::IngressTrunk(const IpAddress& source) const {
  const Trunk* best = nullptr;
  int best_len = -1;
  for (const auto& t : trunks_) {
    for (const auto& cidr : t.ingress_cidrs) {
      if (static_cast<int>(cidr.prefix_len) > best_len && cidr.Contains(source)) {
        best = &t;
        best_len = static_cast<int>(cidr.prefix_len);
      }
    }
  }
  return best;
}

const Trunk* Router::PeerTrunk(const IpAddress& address, uint16_t port) const {
  for (const auto& t : trunks_) {
    if (t.has_next_hop && t.next_hop.port == port && t.next_hop.address == address) return &t;
  }
  return IngressTrunk(address);
}

const Trunk* Router::EgressPeer(const IpAddress& address) const {
  for (const auto& t : trunks_) {
    if (t.has_next_hop && t.next_hop.address == address) return &t;
  }
  return nullptr;
}

RouteDecision Router::Route(const IpAddress& source, std::string_view ruri_user) const {
  RouteDecision d;
  d.ingress = IngressTrunk(source);
  if (d.ingress == nullptr) {
    d.outcome = RouteDecision::Outcome::kNoIngress;
    return d;
  }
  for (const auto& p : prefixes_) {
    if (ruri_user.substr(0, p.prefix.size()) == p.prefix) {
      d.egress = p.egress;
      break;
    }
  }
  if (d.egress == nullptr) d.egress = d.ingress->default_egress;
  d.outcome = d.egress != nullptr ? RouteDecision::Outcome::kRouted
                                  : RouteDecision::Outcome::kUnroutable;
  return d;
}

}  // namespace callvault::proxy
