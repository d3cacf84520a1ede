#include "sip/proxy/router.h"

#include <gtest/gtest.h>

#include "sip/proxy/net_address.h"
#include "sip/proxy/proxy_config.h"

namespace callvault::proxy {
namespace {

IpAddress Ip(const char* text) { return IpAddress::Parse(text).value(); }

TEST(Cidr, MatchesIpv4AndIpv6Prefixes) {
  std::string why;
  const Cidr v4 = Cidr::Parse("10.1.0.0/16", &why).value();
  EXPECT_TRUE(v4.Contains(Ip("10.1.200.3")));
  EXPECT_FALSE(v4.Contains(Ip("10.2.0.1")));
  EXPECT_FALSE(v4.Contains(Ip("::ffff:10.1.0.1")));  // other family never matches

  const Cidr odd = Cidr::Parse("192.168.4.0/22", &why).value();
  EXPECT_TRUE(odd.Contains(Ip("192.168.7.255")));
  EXPECT_FALSE(odd.Contains(Ip("192.168.8.0")));

  const Cidr v6 = Cidr::Parse("2001:db8:abcd::/48", &why).value();
  EXPECT_TRUE(v6.Contains(Ip("2001:db8:abcd:12::1")));
  EXPECT_FALSE(v6.Contains(Ip("2001:db8:abce::1")));

  const Cidr host = Cidr::Parse("::1", &why).value();
  EXPECT_EQ(host.prefix_len, 128u);
  EXPECT_TRUE(host.Contains(Ip("[::1]")));

  const Cidr all = Cidr::Parse("0.0.0.0/0", &why).value();
  EXPECT_TRUE(all.Contains(Ip("203.0.113.9")));
}

TEST(Cidr, RejectsMalformedPrefixes) {
  std::string why;
  EXPECT_FALSE(Cidr::Parse("10.0.0.0/33", &why));
  EXPECT_EQ(why, "prefix length exceeds the address size");
  EXPECT_FALSE(Cidr::Parse("10.0.0.0/x", &why));
  EXPECT_EQ(why, "prefix length is not a number");
  EXPECT_FALSE(Cidr::Parse("10.0.0.0/", &why));
  EXPECT_FALSE(Cidr::Parse("host.example/8", &why));
  EXPECT_FALSE(Cidr::Parse("2001:db8::1/32", &why));
  EXPECT_EQ(why, "address has bits set beyond the prefix length");
}

ProxyConfig TestConfig() {
  return ParseProxyConfig(R"(
listen: ["sip:127.0.0.1:5060"]
trunks:
  - name: pstn-in
    ingress_cidrs: ["10.0.0.0/8", "2001:db8::/32"]
    default_egress: carrier-b
  - name: pstn-special
    ingress_cidrs: ["10.20.0.0/16"]
  - name: carrier-a
    next_hop: "sip:192.0.2.1:5060"
  - name: carrier-b
    next_hop: "sip:192.0.2.2:5080"
    ingress_cidrs: ["192.0.2.0/24"]
routes:
  - {prefix: "+9", egress: carrier-b}
  - {prefix: "+91", egress: carrier-a}
  - {prefix: "0", egress: carrier-a}
)",
                          "router-test.yaml");
}

TEST(Router, LongestPrefixPicksTheEgress) {
  const ProxyConfig config = TestConfig();
  const Router router(config);
  const RouteDecision d = router.Route(Ip("10.1.2.3"), "+919876543210");
  ASSERT_EQ(d.outcome, RouteDecision::Outcome::kRouted);
  EXPECT_EQ(d.ingress->name, "pstn-in");
  EXPECT_EQ(d.egress->name, "carrier-a");  // "+91" beats "+9"
  EXPECT_EQ(router.Route(Ip("10.1.2.3"), "+971500000000").egress->name, "carrier-b");
  EXPECT_EQ(router.Route(Ip("10.1.2.3"), "0987654321").egress->name, "carrier-a");
}

TEST(Router, FallsBackToTheIngressDefaultEgress) {
  const ProxyConfig config = TestConfig();
  const Router router(config);
  const RouteDecision d = router.Route(Ip("2001:db8::7"), "4155550123");
  ASSERT_EQ(d.outcome, RouteDecision::Outcome::kRouted);
  EXPECT_EQ(d.ingress->name, "pstn-in");
  EXPECT_EQ(d.egress->name, "carrier-b");
  EXPECT_EQ(router.Route(Ip("10.1.2.3"), "").egress->name, "carrier-b");
}

TEST(Router, UnroutableAndUnknownSources) {
  const ProxyConfig config = TestConfig();
  const Router router(config);
  // Longest ingress prefix wins: 10.20/16 is pstn-special, which has no default.
  const RouteDecision special = router.Route(Ip("10.20.1.1"), "4155550123");
  EXPECT_EQ(special.outcome, RouteDecision::Outcome::kUnroutable);
  EXPECT_EQ(special.ingress->name, "pstn-special");
  EXPECT_EQ(router.Route(Ip("10.20.1.1"), "+91123").outcome, RouteDecision::Outcome::kRouted);

  const RouteDecision stranger = router.Route(Ip("198.51.100.1"), "+91123");
  EXPECT_EQ(stranger.outcome, RouteDecision::Outcome::kNoIngress);
  EXPECT_EQ(stranger.ingress, nullptr);
}

TEST(Router, PeerTrunkPrefersExactNextHop) {
  const ProxyConfig config = TestConfig();
  const Router router(config);
  EXPECT_EQ(router.PeerTrunk(Ip("192.0.2.1"), 5060)->name, "carrier-a");
  EXPECT_EQ(router.PeerTrunk(Ip("192.0.2.2"), 5080)->name, "carrier-b");
  // Same host, other port: falls back to the CIDR match.
  EXPECT_EQ(router.PeerTrunk(Ip("192.0.2.1"), 5070)->name, "carrier-b");
  EXPECT_EQ(router.PeerTrunk(Ip("10.9.9.9"), 5060)->name, "pstn-in");
  EXPECT_EQ(router.PeerTrunk(Ip("198.51.100.1"), 5060), nullptr);
}

TEST(Router, EgressPeerIsTheNextHopHostOnAnyPort) {
  const ProxyConfig config = TestConfig();
  const Router router(config);
  EXPECT_EQ(router.EgressPeer(Ip("192.0.2.1"))->name, "carrier-a");
  EXPECT_EQ(router.EgressPeer(Ip("192.0.2.2"))->name, "carrier-b");
  // An ingress-only source or a stranger is no egress peer.
  EXPECT_EQ(router.EgressPeer(Ip("10.9.9.9")), nullptr);
  EXPECT_EQ(router.EgressPeer(Ip("198.51.100.1")), nullptr);
}

}  // namespace
}  // namespace callvault::proxy
