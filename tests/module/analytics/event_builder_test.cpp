#include "module/analytics/event_builder.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "module/analytics/epoch_key_store.h"
#include "tests/module/analytics/test_util.h"

namespace callvault {
namespace {

using testing::SampleCdr;
using testing::TempDir;

struct Fixture {
  TempDir dir;
  Keyring keyring = Keyring::Generate();
  std::unique_ptr<EpochKeyStore> store;
  Fixture() {
    std::string error;
    store = EpochKeyStore::Open(dir / "analytics-epochs", keyring, &error);
  }
  EventBuilderOptions Options() const {
    EventBuilderOptions o;
    o.trunk_regions["carrier-in"] = "GB";
    return o;
  }
};

std::string Build(EventBuilder& b, const Cdr& cdr) {
  std::string line, error;
  EXPECT_EQ(b.Build(cdr, &line, &error), EventBuilder::Result::kOk) << error;
  return line;
}

// Every raw value of the sample CDR, in the forms a leak could take.
std::vector<std::string> RawValues(const Cdr& c) {
  return {c.record_id, c.call_id, "a84b4c76e66710", "atlanta", "example", "divert",
          // numbers: whole, national, subscriber digits
          "919876543210", "9876543210", "98765", "43210", "9876543211", "43211", "2079460123",
          "02079460123", "7946", "9812345678", "4155550123", "14155550123",
          // addresses, ports, hosts
          "198.51.100.23", "198.51.100", "5060", "5061", "2001:db8:85a3", "8a2e:370:7334",
          "2001:db8:1234:5678", "::99", "gw.", "pc33",
          // UA details, reason text
          "alice", "smith", "00:11:22", "3.21", "18.2", "Normal call clearing", "Bob",
          // SIP syntax that would mean a URI slipped through
          "sip:", "tel:", "@", "phone-context", "user=phone",
          // the LI flag
          "host_li", "lawful", "intercept"};
}

TEST(EventBuilder, EmitsNothingRaw) {
  Fixture f;
  for (const char* host_mode : {"pseudonymise", "generalise", "drop"}) {
    for (const char* ip_mode : {"cryptopan", "truncate"}) {
      EventBuilderOptions o = f.Options();
      ASSERT_TRUE(ParseUriHostMode(host_mode, &o.uri_host_mode));
      ASSERT_TRUE(ParseIpMode(ip_mode, &o.ip_mode));
      EventBuilder b(o, f.store.get());
      const Cdr cdr = SampleCdr();
      const std::string line = Build(b, cdr);
      for (const auto& raw : RawValues(cdr)) {
        // Truncation keeps the /24 and /48 by design.
        if (std::string(ip_mode) == "truncate" && (raw == "198.51.100" || raw == "2001:db8:85a3")) {
          continue;
        }
        EXPECT_EQ(line.find(raw), std::string::npos)
            << "'" << raw << "' leaked with " << host_mode << "/" << ip_mode << ": " << line;
      }
    }
  }
}

TEST(EventBuilder, FieldsAndGeneralisation) {
  Fixture f;
  EventBuilder b(f.Options(), f.store.get());
  const Cdr cdr = SampleCdr();
  const auto e = nlohmann::json::parse(Build(b, cdr));
  EXPECT_EQ(e["schema_version"], 1);
  EXPECT_EQ(e["type"], "call");
  EXPECT_EQ(e["epoch"], "2026-11");
  EXPECT_EQ(e["day"], "2026-11-27");
  EXPECT_EQ(e["hour"], 21);
  EXPECT_EQ(e["node"], "node-a");
  EXPECT_EQ(e["ingress_trunk"], "carrier-in");
  EXPECT_EQ(e["egress_trunk"], "carrier-out");
  EXPECT_EQ(e["disposition"], "answered");
  EXPECT_EQ(e["final_status"], 200);
  EXPECT_EQ(e["q850_cause"], 16);
  EXPECT_EQ(e["released_by"], "caller");
  EXPECT_EQ(e["pdd_ms"], 1500);
  EXPECT_EQ(e["ring_after_ms"], 1500);
  EXPECT_EQ(e["answer_after_ms"], 6000);
  EXPECT_EQ(e["duration_ms"], 60500);
  EXPECT_EQ(e["billable_s"], 61);
  EXPECT_EQ(e["event_id"].get<std::string>().size(), 22u);

  EXPECT_EQ(e["caller"]["cc"], "91");
  EXPECT_EQ(e["caller"]["parsed"], true);
  EXPECT_FALSE(e["caller"].contains("ndc"));
  EXPECT_EQ(e["caller_pai"]["cc"], "91");
  EXPECT_NE(e["caller_pai"]["token"], e["caller"]["token"]);  // ...43211 vs ...43210
  // Callee "02079460123" on a GB trunk, To as a SIP URI: same number, same token.
  EXPECT_EQ(e["callee"]["cc"], "44");
  EXPECT_EQ(e["callee_to"]["token"], e["callee"]["token"]);
  ASSERT_EQ(e["diversion"].size(), 2u);
  EXPECT_EQ(e["diversion"][0]["cc"], "44");  // bare national digits on the GB trunk
  EXPECT_EQ(e["diversion"][1]["cc"], "1");

  EXPECT_EQ(e["ip_mode"], "cryptopan");
  EXPECT_TRUE(e.contains("src_ip"));
  EXPECT_NE(e["dst_ip"].get<std::string>().find(':'), std::string::npos);  // still IPv6
  EXPECT_EQ(e["caller_host"], nlohmann::json({{"kind", "domain"}}));
  EXPECT_EQ(e["callee_host"], nlohmann::json({{"kind", "ipv6"}}));
  EXPECT_EQ(e["caller_ua"], "MicroSIP/3");
  EXPECT_EQ(e["callee_ua"], "Asterisk/18");
  EXPECT_EQ(e["codecs_offered"], nlohmann::json({"PCMU", "PCMA", "telephone-event"}));
  EXPECT_EQ(e["codecs_answered"], nlohmann::json({"PCMU"}));
  EXPECT_EQ(e["flags"], nlohmann::json({"reinvite"}));  // the LI flag never appears
}

TEST(EventBuilder, DeterministicWithinAnEpochUnlinkableAcross) {
  Fixture f;
  EventBuilder b(f.Options(), f.store.get());
  Cdr cdr = SampleCdr();
  const std::string first = Build(b, cdr);
  EXPECT_EQ(Build(b, cdr), first);  // a replay gives the same event, same event_id

  // A fresh builder over the same store (a restart) gives the same too.
  EventBuilder restarted(f.Options(), f.store.get());
  EXPECT_EQ(Build(restarted, cdr), first);

  // The same call a month later: every pseudonym differs.
  Cdr later = cdr;
  later.invite_time_ms += 31LL * 86400000;
  const auto a = nlohmann::json::parse(first);
  const auto c = nlohmann::json::parse(Build(b, later));
  EXPECT_EQ(c["epoch"], "2026-12");
  EXPECT_NE(c["event_id"], a["event_id"]);
  EXPECT_NE(c["caller"]["token"], a["caller"]["token"]);
  EXPECT_NE(c["src_ip"], a["src_ip"]);
  EXPECT_EQ(c["caller"]["cc"], a["caller"]["cc"]);
}

TEST(EventBuilder, HostModesAndNdc) {
  Fixture f;
  EventBuilderOptions o = f.Options();
  o.uri_host_mode = UriHostMode::kPseudonymise;
  o.ip_mode = IpMode::kTruncate;
  o.keep_ndc = true;
  EventBuilder b(o, f.store.get());
  const auto e = nlohmann::json::parse(Build(b, SampleCdr()));
  EXPECT_EQ(e["caller_host"]["kind"], "domain");
  EXPECT_EQ(e["caller_host"]["token"].get<std::string>().size(), 22u);
  EXPECT_EQ(e["callee_host"]["kind"], "ipv6");
  EXPECT_EQ(e["callee_host"]["ip"], "2001:db8:85a3::");
  EXPECT_EQ(e["src_ip"], "198.51.100.0");
  EXPECT_EQ(e["dst_ip"], "2001:db8:1234::");
  EXPECT_EQ(e["callee"]["ndc"], "20");

  o.uri_host_mode = UriHostMode::kDrop;
  EventBuilder dropper(o, f.store.get());
  const auto d = nlohmann::json::parse(Build(dropper, SampleCdr()));
  EXPECT_FALSE(d.contains("caller_host"));
  EXPECT_FALSE(d.contains("callee_host"));
}

TEST(EventBuilder, RetiredEpochGivesNoEvent) {
  Fixture f;
  EventBuilder b(f.Options(), f.store.get());
  const Cdr cdr = SampleCdr();
  Build(b, cdr);
  EpochKeyStore::RetireResult r;
  std::string error;
  ASSERT_TRUE(EpochKeyStore::Retire(f.dir / "analytics-epochs", "2026-11", 0, &r, &error));
  // The builder's store notices within the refresh interval.
  std::this_thread::sleep_for(EpochKeyStore::kRefreshInterval + std::chrono::milliseconds(50));
  std::string line;
  EXPECT_EQ(b.Build(cdr, &line, &error), EventBuilder::Result::kEpochRetired);
  EXPECT_TRUE(line.empty());
}

TEST(EventBuilder, MinimalFailedCallAndBadInput) {
  Fixture f;
  EventBuilder b(f.Options(), f.store.get());
  Cdr c;
  c.record_id = "r1";
  c.invite_time_ms = testing::kInviteMs;
  c.caller = "anonymous";
  c.final_status = 486;
  c.disposition = Disposition::kBusy;
  c.released_by = ReleasedBy::kCallee;
  c.codecs_offered = "PCMU, weird codec\"name";
  const auto e = nlohmann::json::parse(Build(b, c));
  EXPECT_EQ(e["disposition"], "busy");
  EXPECT_EQ(e["caller"]["parsed"], false);
  EXPECT_FALSE(e.contains("callee"));
  EXPECT_FALSE(e.contains("src_ip"));
  EXPECT_FALSE(e.contains("answer_after_ms"));
  EXPECT_EQ(e["codecs_offered"], nlohmann::json({"PCMU", "other"}));

  Cdr no_time = c;
  no_time.invite_time_ms = 0;
  std::string line, error;
  EXPECT_EQ(b.Build(no_time, &line, &error), EventBuilder::Result::kError);
  EXPECT_TRUE(line.empty());
}

}  // namespace
}  // namespace callvault
