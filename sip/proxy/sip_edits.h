// The few reads and edits a proxy makes to a SIP request (RFC 3261 16.3 and
// 16.6): Max-Forwards, loop check against its own Via, Route stripping and
// Record-Route insertion.  Edits go through sofia-sip's header API, so
// untouched headers keep their original text on the wire.
#pragma once

#include <sofia-sip/sip.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sip/proxy/local_endpoints.h"
#include "sip/proxy/net_address.h"

namespace callvault::proxy {

struct HostPort {
  IpAddress address;
  uint16_t port = 5060;
  uint8_t transport = CV_TRANSPORT_UDP;  // from ;transport= (tcp, tls), else UDP
};

// Numeric host, port and transport of a URL (default port 5060, 5061 for
// sips); nullopt when the host is a name.
std::optional<HostPort> UrlHostPort(const url_t* url);

// The Max-Forwards value, or -1 when the header is absent.
long MaxForwards(const sip_t* sip);

// Decrements Max-Forwards, or adds "Max-Forwards: 70" when absent.  (Like
// every edit here it only fails when sofia-sip cannot allocate, and then
// leaves the message as it was.)
void DecrementMaxForwards(msg_t* msg, sip_t* sip);

// True when `via` names one of our endpoints.
bool ViaIsOwn(const sip_via_t* via, const LocalEndpoints& local);

// True when any Via names one of our endpoints: the request has already
// passed through this proxy.
bool HasOwnVia(const sip_t* sip, const LocalEndpoints& local);

// Removes every leading Route entry that names us.
void StripOwnRoutes(msg_t* msg, sip_t* sip, const LocalEndpoints& local);

// Prepends a Record-Route with `uri` ("<sip:...;lr>").
void InsertRecordRoute(msg_t* msg, sip_t* sip, const std::string& uri);

// The Request-URI user part without parameters ("" when absent).
std::string_view RequestUser(const sip_t* sip);

}  // namespace callvault::proxy
