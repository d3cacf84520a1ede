#include "module/analytics/user_agent.h"

#include <gtest/gtest.h>

namespace callvault {
namespace {

TEST(UserAgent, ProductAndMajorOnly) {
  const std::pair<const char*, const char*> cases[] = {
      {"Asterisk PBX 18.2.1", "Asterisk/18"},
      {"FreeSWITCH-mod_sofia/1.10.7-release~64bit", "FreeSWITCH/1"},
      {"Linphone/4.4.0 (belle-sip/4.4.0)", "Linphone/4"},
      {"Grandstream GXP2160 1.0.11.3", "Grandstream/1"},
      {"Yealink SIP-T46S 66.85.0.5", "Yealink/66"},
      {"Zoiper rv2.10.11.2", "Zoiper/2"},
      {"MicroSIP/3.21.3 (alice.smith)", "MicroSIP/3"},
      {"PolycomVVX-VVX_411-UA/5.9.0.9373", "Polycom/5"},
      {"Cisco-SIPGateway/IOS-15.x", "Cisco/15"},
      {"kamailio (5.6.2 (x86_64/linux))", "Kamailio"},  // version only inside a comment
      {"sipp", "SIPp"},
      {"asterisk 123456", "Asterisk"},  // a serial, not a version
      {"Brian's softphone 1.0", "other"},
      {"MyCorp Phone of +919876543210", "other"},
      {"", ""},
  };
  for (const auto& [in, out] : cases) EXPECT_EQ(ReduceUserAgent(in), out) << in;
}

}  // namespace
}  // namespace callvault
