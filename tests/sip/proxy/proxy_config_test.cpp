#include "sip/proxy/proxy_config.h"

#include <gtest/gtest.h>

#include <string>

namespace callvault::proxy {
namespace {

const char* kValid = R"(
listen:
  - "sip:127.0.0.1:5060;transport=udp"
  - "sip:[::1]:5062;transport=tcp"
module:
  enabled: true
  path: lib/libcallvault.so
  config: /etc/callvault/callvault.yaml
trunks:
  - name: pstn-in
    ingress_cidrs: ["10.1.0.0/16", "2001:db8::/32"]
    default_egress: carrier-b
  - name: carrier-b
    next_hop: "sip:192.0.2.10:5080"
routes:
  - {prefix: "+91", egress: carrier-b}
record_route: false
timers: {t1_ms: 250, t1x64_ms: 4000, timer_c_ms: 9000}
)";

// Returns the error text, or "" if the config was accepted.
std::string ErrorOf(const std::string& yaml) {
  try {
    ParseProxyConfig(yaml, "/cfg/proxy.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(ProxyConfig, ParsesEveryKey) {
  const ProxyConfig c = ParseProxyConfig(kValid, "/cfg/proxy.yaml");
  ASSERT_EQ(c.listen.size(), 2u);
  EXPECT_EQ(c.listen[0].port, 5060);
  EXPECT_EQ(c.listen[0].transport, "udp");
  EXPECT_EQ(c.listen[1].host, "[::1]");
  EXPECT_EQ(c.listen[1].address.family, 6);
  EXPECT_EQ(c.listen[1].transport, "tcp");
  EXPECT_TRUE(c.module.enabled);
  EXPECT_EQ(c.module.path, "/cfg/lib/libcallvault.so");  // relative to the config file
  EXPECT_EQ(c.module.config, "/etc/callvault/callvault.yaml");
  ASSERT_EQ(c.trunks.size(), 2u);
  EXPECT_EQ(c.trunks[0].ingress_cidrs.size(), 2u);
  EXPECT_EQ(c.trunks[0].default_egress, "carrier-b");
  ASSERT_TRUE(c.trunks[1].next_hop.has_value());
  EXPECT_EQ(c.trunks[1].next_hop->port, 5080);
  ASSERT_EQ(c.routes.size(), 1u);
  EXPECT_EQ(c.routes[0].prefix, "+91");
  EXPECT_FALSE(c.record_route);
  EXPECT_EQ(c.timers.t1_ms, 250u);
  EXPECT_EQ(c.timers.t1x64_ms, 4000u);
  EXPECT_EQ(c.timers.timer_c_ms, 9000u);
}

TEST(ProxyConfig, DefaultsWhenOptionalKeysAreAbsent) {
  const ProxyConfig c = ParseProxyConfig(R"(
listen: ["sip:127.0.0.1"]
trunks: [{name: a, next_hop: "sip:127.0.0.1:5080"}]
)",
                                         "p.yaml");
  EXPECT_EQ(c.listen[0].port, 5060);
  EXPECT_EQ(c.listen[0].transport, "");
  EXPECT_FALSE(c.module.enabled);
  EXPECT_TRUE(c.record_route);
  EXPECT_TRUE(c.routes.empty());
  EXPECT_EQ(c.timers.t1x64_ms, 0u);
}

TEST(ProxyConfig, UnknownKeysNameTheirPath) {
  EXPECT_EQ(ErrorOf("listen: [\"sip:127.0.0.1\"]\ntrunks: [{name: a}]\ncolour: red\n"),
            "/cfg/proxy.yaml: colour (line 3): unknown key");
  EXPECT_EQ(ErrorOf("listen: [\"sip:127.0.0.1\"]\ntrunks: [{name: a, nexthop: x}]\n"),
            "/cfg/proxy.yaml: trunks[0].nexthop (line 2): unknown key");
  EXPECT_EQ(ErrorOf("listen: [\"sip:127.0.0.1\"]\ntrunks: [{name: a}]\nmodule: {enable: true}\n"),
            "/cfg/proxy.yaml: module.enable (line 3): unknown key");
  EXPECT_EQ(
      ErrorOf("listen: [\"sip:127.0.0.1\"]\ntrunks: [{name: a}]\ntimers: {t2_ms: 1}\n"),
      "/cfg/proxy.yaml: timers.t2_ms (line 3): unknown key");
}

TEST(ProxyConfig, WrongTypesAreRefused) {
  EXPECT_EQ(ErrorOf("listen: \"sip:127.0.0.1\"\ntrunks: [{name: a}]\n"),
            "/cfg/proxy.yaml: listen (line 1): must be a list");
  EXPECT_EQ(ErrorOf("listen: [\"sip:127.0.0.1\"]\ntrunks: [{name: a}]\nrecord_route: maybe\n"),
            "/cfg/proxy.yaml: record_route (line 3): must be true or false");
  EXPECT_EQ(ErrorOf("listen: [\"sip:127.0.0.1\"]\ntrunks: [{name: [a]}]\n"),
            "/cfg/proxy.yaml: trunks[0].name (line 2): must be a string");
  EXPECT_EQ(ErrorOf("listen: [\"sip:127.0.0.1\"]\ntrunks: [{name: a}]\ntimers: {t1_ms: -5}\n"),
            "/cfg/proxy.yaml: timers.t1_ms (line 3): must be a positive integer");
  EXPECT_EQ(ErrorOf("listen: [\"sip:127.0.0.1\"]\ntrunks: {name: a}\n"),
            "/cfg/proxy.yaml: trunks (line 2): must be a list");
}

TEST(ProxyConfig, EndpointsMustBeNumericSipUris) {
  EXPECT_EQ(ErrorOf("listen: [\"sip:proxy.example.com:5060\"]\ntrunks: [{name: a}]\n"),
            "/cfg/proxy.yaml: listen[0] (line 1): host must be a numeric IPv4 address or a bracketed "
            "IPv6 address");
  EXPECT_EQ(ErrorOf("listen: [\"sips:127.0.0.1\"]\ntrunks: [{name: a}]\n"),
            "/cfg/proxy.yaml: listen[0] (line 1): must be a sip: URI");
  EXPECT_EQ(ErrorOf("listen: [\"sip:0.0.0.0:5060\"]\ntrunks: [{name: a}]\n"),
            "/cfg/proxy.yaml: listen[0] (line 1): host must be a specific address, not the unspecified "
            "address");
  EXPECT_EQ(ErrorOf("listen: [\"sip:127.0.0.1:70000\"]\ntrunks: [{name: a}]\n"),
            "/cfg/proxy.yaml: listen[0] (line 1): port must be 1..65535");
  EXPECT_EQ(ErrorOf("listen: [\"sip:127.0.0.1;transport=sctp\"]\ntrunks: [{name: a}]\n"),
            "/cfg/proxy.yaml: listen[0] (line 1): transport must be udp or tcp");
  EXPECT_EQ(ErrorOf("listen: [\"sip:127.0.0.1\"]\n"
                    "trunks: [{name: a, next_hop: \"sip:carrier.example:5060\"}]\n"),
            "/cfg/proxy.yaml: trunks[0].next_hop (line 2): host must be a numeric IPv4 address or a "
            "bracketed IPv6 address");
}

TEST(ProxyConfig, TrunkReferencesMustResolve) {
  EXPECT_EQ(ErrorOf("listen: [\"sip:127.0.0.1\"]\ntrunks: [{name: a, default_egress: b}]\n"),
            "/cfg/proxy.yaml: trunks[0].default_egress (line 2): names no configured trunk");
  EXPECT_EQ(ErrorOf("listen: [\"sip:127.0.0.1\"]\n"
                    "trunks: [{name: a, default_egress: b}, {name: b}]\n"),
            "/cfg/proxy.yaml: trunks[0].default_egress (line 2): names a trunk without next_hop");
  EXPECT_EQ(ErrorOf("listen: [\"sip:127.0.0.1\"]\ntrunks: [{name: a}]\n"
                    "routes: [{prefix: \"+1\", egress: z}]\n"),
            "/cfg/proxy.yaml: routes[0].egress (line 3): names no configured trunk");
  EXPECT_EQ(ErrorOf("listen: [\"sip:127.0.0.1\"]\ntrunks: [{name: a}, {name: a}]\n"),
            "/cfg/proxy.yaml: trunks[1].name (line 2): duplicate trunk name");
  EXPECT_EQ(ErrorOf("listen: [\"sip:127.0.0.1\"]\n"
                    "trunks: [{name: this-trunk-name-is-much-too-long-for-meta}]\n"),
            "/cfg/proxy.yaml: trunks[0].name (line 2): must be 1..31 characters of A-Z a-z 0-9 . _ -");
}

TEST(ProxyConfig, CidrErrorsDoNotQuoteTheValue) {
  const std::string e =
      ErrorOf("listen: [\"sip:127.0.0.1\"]\ntrunks: [{name: a, ingress_cidrs: [\"10.9.8.7/8\"]}]\n");
  EXPECT_EQ(e, "/cfg/proxy.yaml: trunks[0].ingress_cidrs[0] (line 2): address has bits set beyond the "
               "prefix length");
  EXPECT_EQ(e.find("10.9.8.7"), std::string::npos);
  EXPECT_EQ(ErrorOf("listen: [\"sip:127.0.0.1\"]\ntrunks: [{name: a, ingress_cidrs: [\"10/8\"]}]\n"),
            "/cfg/proxy.yaml: trunks[0].ingress_cidrs[0] (line 2): not a numeric IPv4 or IPv6 address");
}

TEST(ProxyConfig, ModuleNeedsPathAndConfigWhenEnabled) {
  EXPECT_EQ(ErrorOf("listen: [\"sip:127.0.0.1\"]\ntrunks: [{name: a}]\n"
                    "module: {enabled: true, config: c.yaml}\n"),
            "/cfg/proxy.yaml: module.path (line 3): required when module.enabled is true");
}

// Errors point at the offending line, as the module's config errors do; a
// missing key points at the mapping that lacks it.
TEST(ProxyConfig, ErrorsNameTheLine) {
  EXPECT_EQ(ErrorOf("listen:\n  - \"sip:127.0.0.1\"\n"
                    "trunks:\n"
                    "  - name: a\n"
                    "    next_hop: \"sip:127.0.0.1:5080\"\n"
                    "  - name: b\n"
                    "    default_egress: nowhere\n"),
            "/cfg/proxy.yaml: trunks[1].default_egress (line 7): names no configured trunk");
  EXPECT_EQ(ErrorOf("listen: [\"sip:127.0.0.1\"]\ntrunks:\n  - next_hop: \"sip:127.0.0.1\"\n"),
            "/cfg/proxy.yaml: trunks[0].name (line 3): required");
}

TEST(ProxyConfig, LimitsHaveSaneDefaultsAndBounds) {
  const ProxyConfig d = ParseProxyConfig("listen: [\"sip:127.0.0.1\"]\ntrunks: [{name: a}]\n", "p");
  EXPECT_GE(d.limits.max_message_bytes, 12u * 1024) << "a 12 KB INVITE or 200 must pass";
  EXPECT_GT(d.limits.max_tcp_connections, 0u);
  const ProxyConfig c = ParseProxyConfig(
      "listen: [\"sip:127.0.0.1\"]\ntrunks: [{name: a}]\n"
      "limits: {max_message_bytes: 8192, max_tcp_connections: 3}\n",
      "p");
  EXPECT_EQ(c.limits.max_message_bytes, 8192u);
  EXPECT_EQ(c.limits.max_tcp_connections, 3u);
  EXPECT_EQ(ErrorOf("listen: [\"sip:127.0.0.1\"]\ntrunks: [{name: a}]\n"
                    "limits: {max_message_bytes: 100}\n"),
            "/cfg/proxy.yaml: limits.max_message_bytes (line 3): must be 4096..1048576");
  EXPECT_EQ(ErrorOf("listen: [\"sip:127.0.0.1\"]\ntrunks: [{name: a}]\n"
                    "limits: {max_tcp_connections: 0}\n"),
            "/cfg/proxy.yaml: limits.max_tcp_connections (line 3): must be a positive integer");
  EXPECT_EQ(ErrorOf("listen: [\"sip:127.0.0.1\"]\ntrunks: [{name: a}]\n"
                    "limits: {max_udp: 1}\n"),
            "/cfg/proxy.yaml: limits.max_udp (line 3): unknown key");
}

TEST(ProxyConfig, SyntaxErrorsNamePosition) {
  const std::string e = ErrorOf("listen: [\"sip:127.0.0.1\"\ntrunks: [\n");
  EXPECT_EQ(e.rfind("/cfg/proxy.yaml: line ", 0), 0u) << e;
}

TEST(ProxyConfig, ShippedExampleIsValid) {
  const ProxyConfig c = LoadProxyConfig(CV_PROXY_EXAMPLE_CONFIG);
  ASSERT_EQ(c.listen.size(), 1u);
  EXPECT_EQ(c.listen[0].port, 5060);
  EXPECT_EQ(c.listen[0].transport, "udp");
  EXPECT_FALSE(c.module.enabled);
  ASSERT_EQ(c.trunks.size(), 2u);
  EXPECT_EQ(c.trunks[0].name, "pstn-in");
  EXPECT_EQ(c.trunks[0].default_egress, "carrier-b");
  EXPECT_EQ(c.trunks[1].name, "carrier-b");
  ASSERT_TRUE(c.trunks[1].next_hop.has_value());
  EXPECT_EQ(c.trunks[1].next_hop->port, 5080);
  EXPECT_TRUE(c.record_route);
}

TEST(ProxyConfig, MissingFileIsReported) {
  try {
    LoadProxyConfig("/nonexistent/dir/proxy.yaml");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "/nonexistent/dir/proxy.yaml: (file): cannot be opened");
  }
}

}  // namespace
}  // namespace callvault::proxy
