// The proxy's own listening addresses: what it puts in Record-Route, how it
// recognises its own Route and Via entries, and which local address the
// hook reports for a message.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "include/callvault/module.h"
#include "sip/proxy/proxy_config.h"

namespace callvault::proxy {

struct LocalEndpoint {
  IpAddress address;
  uint16_t port = 0;
  uint8_t transport = CV_TRANSPORT_UDP;  // cv_transport
  cv_addr addr{};                        // address and port in ABI form
  std::string record_route;              // "<sip:HOST:PORT;lr>" (+ ";transport=tcp")
  // sofia-sip transport identifier given to this listen entry (TPTAG_IDENT).
  // Naming it when sending makes sofia-sip send from this entry: left to
  // itself it picks the first listening transport of the right protocol,
  // whatever the destination's address family.
  std::string ident;
};

class LocalEndpoints {
 public:
  // One endpoint per listen URI and transport; a URI without a transport
  // parameter listens on UDP and TCP and yields two.
  explicit LocalEndpoints(const std::vector<SipEndpoint>& listen);

  // True when address:port is one of ours (any transport).
  bool IsOwn(const IpAddress& address, uint16_t port) const;

  // Our endpoint for an address family (4/6) and transport; nullptr if we
  // do not listen there.
  const LocalEndpoint* Find(uint8_t family, uint8_t transport) const;

  const std::vector<LocalEndpoint>& all() const { return endpoints_; }

  // The identifier of listen entry `index`.
  static std::string IdentFor(size_t index) { return "cv-listen-" + std::to_string(index); }

 private:
  std::vector<LocalEndpoint> endpoints_;
};

}  // namespace callvault::proxy
