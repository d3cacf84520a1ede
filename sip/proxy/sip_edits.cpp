#include "sip/proxy/sip_edits.h"

#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_util.h>

#include <strings.h>

#include <charconv>
#include <cstring>

namespace callvault::proxy {
namespace {

std::optional<uint16_t> ParsePort(const char* text, uint16_t default_port) {
  if (text == nullptr || *text == '\0') return default_port;
  unsigned port = 0;
  const char* end = text + std::strlen(text);
  const auto [p, ec] = std::from_chars(text, end, port);
  if (ec != std::errc() || p != end || port == 0 || port > 65535) return std::nullopt;
  return static_cast<uint16_t>(port);
}

}  // namespace

std::optional<HostPort> UrlHostPort(const url_t* url) {
  if (url == nullptr || url->url_host == nullptr) return std::nullopt;
  auto address = IpAddress::Parse(url->url_host);
  if (!address) return std::nullopt;
  const uint16_t default_port = url->url_type == url_sips ? 5061 : 5060;
  auto port = ParsePort(url->url_port, default_port);
  if (!port) return std::nullopt;
  HostPort hp{*address, *port, CV_TRANSPORT_UDP};
  char transport[8];
  if (url->url_params != nullptr &&
      url_param(url->url_params, "transport", transport, sizeof transport) > 0) {
    if (strcasecmp(transport, "tcp") == 0) hp.transport = CV_TRANSPORT_TCP;
    if (strcasecmp(transport, "tls") == 0) hp.transport = CV_TRANSPORT_TLS;
  }
  return hp;
}

long MaxForwards(const sip_t* sip) {
  return sip->sip_max_forwards ? static_cast<long>(sip->sip_max_forwards->mf_count) : -1;
}

void DecrementMaxForwards(msg_t* msg, sip_t* sip) {
  if (sip_max_forwards_t* mf = sip->sip_max_forwards) {
    if (mf->mf_count > 0) --mf->mf_count;
    msg_fragment_clear(mf->mf_common);  // re-encode the new value
    return;
  }
  sip_add_make(msg, sip, sip_max_forwards_class, "70");
}

bool ViaIsOwn(const sip_via_t* via, const LocalEndpoints& local) {
  if (via == nullptr || via->v_host == nullptr) return false;
  auto address = IpAddress::Parse(via->v_host);
  if (!address) return false;
  auto port = ParsePort(via->v_port, 5060);
  return port && local.IsOwn(*address, *port);
}

bool HasOwnVia(const sip_t* sip, const LocalEndpoints& local) {
  for (const sip_via_t* v = sip->sip_via; v != nullptr; v = v->v_next) {
    if (ViaIsOwn(v, local)) return true;
  }
  return false;
}

void StripOwnRoutes(msg_t* msg, sip_t* sip, const LocalEndpoints& local) {
  while (sip->sip_route != nullptr) {
    auto hp = UrlHostPort(sip->sip_route->r_url);
    if (!hp || !local.IsOwn(hp->address, hp->port)) break;
    sip_route_remove(msg, sip);
  }
}

void InsertRecordRoute(msg_t* msg, sip_t* sip, const std::string& uri) {
  sip_record_route_t* rr = sip_record_route_make(msg_home(msg), uri.c_str());
  if (rr == nullptr) return;
  msg_header_insert(msg, reinterpret_cast<msg_pub_t*>(sip), reinterpret_cast<msg_header_t*>(rr));
}

std::string_view RequestUser(const sip_t* sip) {
  if (sip->sip_request == nullptr || sip->sip_request->rq_url->url_user == nullptr) return {};
  const std::string_view user(sip->sip_request->rq_url->url_user);
  return user.substr(0, user.find(';'));  // drop user parameters (;phone-context=...)
}

}  // namespace callvault::proxy
