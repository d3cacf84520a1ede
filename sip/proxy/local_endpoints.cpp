#include "sip/proxy/local_endpoints.h"

#include <cstring>

namespace callvault::proxy {

LocalEndpoints::LocalEndpoints(const std::vector<SipEndpoint>& listen) {
  for (size_t i = 0; i < listen.size(); ++i) {
    const SipEndpoint& l = listen[i];
    for (const char* proto : {"udp", "tcp"}) {
      if (!l.transport.empty() && l.transport != proto) continue;
      LocalEndpoint e;
      e.address = l.address;
      e.port = l.port;
      e.transport = std::strcmp(proto, "udp") == 0 ? CV_TRANSPORT_UDP : CV_TRANSPORT_TCP;
      e.addr.family = l.address.family;
      e.addr.port = l.port;
      std::memcpy(e.addr.addr, l.address.bytes, l.address.family == 4 ? 4 : 16);
      e.record_route = "<sip:" + l.host + ":" + std::to_string(l.port) +
                       (e.transport == CV_TRANSPORT_TCP ? ";transport=tcp" : "") + ";lr>";
      e.ident = IdentFor(i);
      endpoints_.push_back(std::move(e));
    }
  }
}

bool LocalEndpoints::IsOwn(const IpAddress& address, uint16_t port) const {
  for (const auto& e : endpoints_) {
    if (e.port == port && e.address == address) return true;
  }
  return false;
}

const LocalEndpoint* LocalEndpoints::Find(uint8_t family, uint8_t transport) const {
  for (const auto& e : endpoints_) {
    if (e.address.family == family && e.transport == transport) return &e;
  }
  return nullptr;
}

}  // namespace callvault::proxy
