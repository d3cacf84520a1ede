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
            "/cfg/proxy.yaml: colour: unknown key");
  EXPECT_EQ(ErrorOf("listen: [\"sip:127.0.0.1\"]\ntrunks: [{name: a, nexthop: x}]\n"),
            "/cfg/proxy.yaml: trunks[0].nexthop: unknown key");
  EXPECT_EQ(ErrorOf("listen: [\"sip:127.0.0.1\"]\ntrunks: [{name: a}]\nmodule: {enable: true}\n"),
            "/cfg/proxy.yaml: module.enable: unknown key");
  EXPECT_EQ(
      ErrorOf("listen: [\"sip:127.0.0.1\"]\ntrunks: [{name: a}]\ntimers: {t2_ms: 1}\n"),
      "/cfg/proxy.yaml: timers.t2_ms: unknown key");
}

TEST(ProxyConfig, WrongTypesAreRefused) {
  EXPECT_EQ(ErrorOf("listen: \"sip:127.0.0.1\"\ntrunks: [{name: a}]\n"),
            "/cfg/proxy.yaml: listen: must be a list");
  EXPECT_EQ(ErrorOf("listen: [\"sip:127.0.0.1\"]\ntrunks: [{name: a}]\nrecord_route: maybe\n"),
            "/cfg/proxy.yaml: record_route: must be true or false");
  EXPECT_EQ(ErrorOf("listen: [\"sip:127.0.0.1\"]\ntrunks: [{name: [a]}]\n"),
            "/cfg/proxy.yaml: trunks[0].name: must be a string");
  EXPECT_EQ(ErrorOf("listen: [\"sip:127.0.0.1\"]\ntrunks: [{name: a}]\ntimers: {t1_ms: -5}\n"),
            "/cfg/proxy.yaml: timers.t1_ms: must be a positive integer");
  EXPECT_EQ(ErrorOf("listen: [\"sip:127.0.0.1\"]\ntrunks: {name: a}\n"),
            "/cfg/proxy.yaml: trunks: must be a list");
}

TEST(ProxyConfig, EndpointsMustBeNumericSipUris) {
  EXPECT_EQ(ErrorOf("listen: [\"sip:proxy.example.com:5060\"]\ntrunks: [{name: a}]\n"),
            "/cfg/proxy.yaml: listen[0]: host must be a numeric IPv4 address or a bracketed "
            "IPv6 address");
  EXPECT_EQ(ErrorOf("listen: [\"sips:127.0.0.1\"]\ntrunks: [{name: a}]\n"),
            "/cfg/proxy.yaml: listen[0]: must be a sip: URI");
  EXPECT_EQ(ErrorOf("listen: [\"sip:0.0.0.0:5060\"]\ntrunks: [{name: a}]\n"),
            "/cfg/proxy.yaml: listen[0]: host must be a specific address, not the unspecified "
            "address");
  EXPECT_EQ(ErrorOf("listen: [\"sip:127.0.0.1:70000\"]\ntrunks: [{name: a}]\n"),
            "/cfg/proxy.yaml: listen[0]: port must be 1..65535");
  EXPECT_EQ(ErrorOf("listen: [\"sip:127.0.0.1;transport=sctp\"]\ntrunks: [{name: a}]\n"),
            "/cfg/proxy.yaml: listen[0]: transport must be udp or tcp");
  EXPECT_EQ(ErrorOf("listen: [\"sip:127.0.0.1\"]\n"
                    "trunks: [{name: a, next_hop: \"sip:carrier.example:5060\"}]\n"),
            "/cfg/proxy.yaml: trunks[0].next_hop: host must be a numeric IPv4 address or a "
            "bracketed IPv6 address");
}

TEST(ProxyConfig, TrunkReferencesMustResolve) {
  EXPECT_EQ(ErrorOf("listen: [\"sip:127.0.0.1\"]\ntrunks: [{name: a, default_egress: b}]\n"),
            "/cfg/proxy.yaml: trunks[0].default_egress: names no configured trunk");
  EXPECT_EQ(ErrorOf("listen: [\"sip:127.0.0.1\"]\n"
                    "trunks: [{name: a, default_egress: b}, {name: b}]\n"),
            "/cfg/proxy.yaml: trunks[0].default_egress: names a trunk without next_hop");
  EXPECT_EQ(ErrorOf("listen: [\"sip:127.0.0.1\"]\ntrunks: [{name: a}]\n"
                    "routes: [{prefix: \"+1\", egress: z}]\n"),
            "/cfg/proxy.yaml: routes[0].egress: names no configured trunk");
  EXPECT_EQ(ErrorOf("listen: [\"sip:127.0.0.1\"]\ntrunks: [{name: a}, {name: a}]\n"),
            "/cfg/proxy.yaml: trunks[1].name: duplicate trunk name");
  EXPECT_EQ(ErrorOf("listen: [\"sip:127.0.0.1\"]\n"
                    "trunks: [{name: this-trunk-name-is-much-too-long-for-meta}]\n"),
            "/cfg/proxy.yaml: trunks[0].name: must be 1..31 characters of A-Z a-z 0-9 . _ -");
}

TEST(ProxyConfig, CidrErrorsDoNotQuoteTheValue) {
  const std::string e =
      ErrorOf("listen: [\"sip:127.0.0.1\"]\ntrunks: [{name: a, ingress_cidrs: [\"10.9.8.7/8\"]}]\n");
  EXPECT_EQ(e, "/cfg/proxy.yaml: trunks[0].ingress_cidrs[0]: address has bits set beyond the "
               "prefix length");
  EXPECT_EQ(e.find("10.9.8.7"), std::string::npos);
  EXPECT_EQ(ErrorOf("listen: [\"sip:127.0.0.1\"]\ntrunks: [{name: a, ingress_cidrs: [\"10/8\"]}]\n"),
            "/cfg/proxy.yaml: trunks[0].ingress_cidrs[0]: not a numeric IPv4 or IPv6 address");
}

TEST(ProxyConfig, ModuleNeedsPathAndConfigWhenEnabled) {
  EXPECT_EQ(ErrorOf("listen: [\"sip:127.0.0.1\"]\ntrunks: [{name: a}]\n"
                    "module: {enabled: true, config: c.yaml}\n"),
            "/cfg/proxy.yaml: module.path: required when module.enabled is true");
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
