// The reference proxy's YAML configuration: where it listens, which trunks
// exist, how calls are routed between them and which callvault module it
// loads.  config/proxy.yaml is the commented example.
//
// Loading validates everything up front (unknown keys, wrong types, dangling
// trunk references, non-numeric next hops) and fails with
//   "<file>: <key path> (line N): <what is wrong>"
// so a bad config never reaches the SIP thread.  Error texts never quote the
// offending value: it may be an address.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "sip/proxy/net_address.h"

namespace callvault::proxy {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "sip:HOST[:PORT][;transport=udp|tcp]" with a numeric HOST.  Numeric hosts
// keep DNS (and its blocking or asynchronous completion) off the SIP thread:
// every forward is sent before nta_outgoing_mcreate() returns.
struct SipEndpoint {
  std::string uri;        // as written, handed to sofia-sip
  std::string host;       // as written in the URI ("127.0.0.1", "[::1]")
  IpAddress address;
  uint16_t port = 5060;
  std::string transport;  // "udp", "tcp", or "" (sofia-sip: both)
};

struct ModuleSettings {
  bool enabled = false;
  std::string path;    // libcallvault.so; relative paths are relative to the config file
  std::string config;  // the module's own YAML; same rule
};

struct TrunkConfig {
  std::string name;                 // 1..31 of [A-Za-z0-9._-], fits cv_msg_meta
  std::vector<Cidr> ingress_cidrs;  // sources whose requests enter on this trunk
  std::optional<SipEndpoint> next_hop;  // required for a trunk used as egress
  std::string default_egress;       // empty = none
};

struct RouteConfig {
  std::string prefix;  // matched against the Request-URI user, longest wins
  std::string egress;  // trunk name
};

// 0 keeps sofia-sip's default.
struct TimerSettings {
  unsigned t1_ms = 0;       // SIP T1 (retransmission base)
  unsigned t1x64_ms = 0;    // transaction timeout (timers B, F, H)
  unsigned timer_c_ms = 0;  // proxy INVITE timer C
};

// What the network may cost the proxy.  The size limit is sofia-sip's
// (NTATAG_MAXSIZE): a larger request is answered 413, a larger response
// dropped.  The default admits large WebRTC/video INVITEs and 200s (12 KB
// and more) with room to spare.
struct Limits {
  static constexpr unsigned kMinMessageBytes = 4096;
  static constexpr unsigned kMaxMessageBytes = 1024 * 1024;
  unsigned max_message_bytes = 65536;
  // TCP connections served at once (counted from their first request, see
  // sip_proxy.h); one beyond is closed.
  unsigned max_tcp_connections = 256;
};

struct ProxyConfig {
  std::string source;  // file name used in error messages
  std::vector<SipEndpoint> listen;
  ModuleSettings module;
  std::vector<TrunkConfig> trunks;
  std::vector<RouteConfig> routes;
  bool record_route = true;
  TimerSettings timers;
  Limits limits;
};

// Reads and validates the file.  Throws ConfigError.
ProxyConfig LoadProxyConfig(const std::string& path);

// Validates YAML text; `source` names it in errors and anchors relative
// module paths (its directory).  Throws ConfigError.
ProxyConfig ParseProxyConfig(const std::string& yaml_text, const std::string& source);

// Parses one SIP endpoint URI; on failure returns nullopt and sets *why.
std::optional<SipEndpoint> ParseSipEndpoint(const std::string& uri, std::string* why);

}  // namespace callvault::proxy
