#include "module/cdr/cdr_json.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace callvault {
namespace {

using nlohmann::json;

TEST(CdrEnums, NamesRoundTrip) {
  const std::pair<Disposition, const char*> dispositions[] = {
      {Disposition::kAnswered, "answered"}, {Disposition::kBusy, "busy"},
      {Disposition::kNoAnswer, "no-answer"}, {Disposition::kCancelled, "cancelled"},
      {Disposition::kFailed, "failed"}};
  for (auto [d, name] : dispositions) {
    EXPECT_EQ(ToString(d), name);
    Disposition back = Disposition::kAnswered;
    ASSERT_TRUE(ParseDisposition(name, &back));
    EXPECT_EQ(back, d);
  }
  const std::pair<ReleasedBy, const char*> released[] = {
      {ReleasedBy::kNone, "none"}, {ReleasedBy::kCaller, "caller"}, {ReleasedBy::kCallee, "callee"},
      {ReleasedBy::kProxy, "proxy"}, {ReleasedBy::kTimeout, "timeout"}};
  for (auto [r, name] : released) {
    EXPECT_EQ(ToString(r), name);
    ReleasedBy back = ReleasedBy::kTimeout;
    ASSERT_TRUE(ParseReleasedBy(name, &back));
    EXPECT_EQ(back, r);
  }
  Disposition d;
  ReleasedBy r;
  EXPECT_FALSE(ParseDisposition("Answered", &d));
  EXPECT_FALSE(ParseDisposition("", &d));
  EXPECT_FALSE(ParseReleasedBy("network", &r));
}

TEST(IsoTime, FormatsAndParsesUtcMilliseconds) {
  EXPECT_EQ(FormatIsoMs(1795813384123), "2026-11-27T21:03:04.123Z");
  EXPECT_EQ(FormatIsoMs(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatIsoMs(1835481599999), "2028-02-29T23:59:59.999Z");
  EXPECT_EQ(FormatIsoMs(951868800001), "2000-03-01T00:00:00.001Z");
  int64_t ms = 0;
  ASSERT_TRUE(ParseIsoMs("2026-11-27T21:03:04.123Z", &ms));
  EXPECT_EQ(ms, 1795813384123);
  ASSERT_TRUE(ParseIsoMs("2028-02-29T23:59:59.999Z", &ms));
  EXPECT_EQ(ms, 1835481599999);
  for (const char* bad : {"2027-02-29T00:00:00.000Z", "2026-13-01T00:00:00.000Z",
                          "2026-11-27T24:00:00.000Z", "2026-11-27T21:03:04Z",
                          "2026-11-27 21:03:04.123Z", "2026-11-27T21:03:04.123+01:00",
                          "2026-11-27T21:03:04.1a3Z", ""}) {
    EXPECT_FALSE(ParseIsoMs(bad, &ms)) << bad;
  }
}

Cdr FullCdr() {
  Cdr c;
  c.record_id = "019ac6f1-a0c3-8abc-8000-000500000007";
  c.node_id = "node-a";
  c.call_id = "a84b4c76e66710@pc33.example.com";
  c.ingress_trunk = "carrier-in";
  c.egress_trunk = "carrier-out";
  c.caller = "+4989111111";
  c.caller_pai = "+4989222222";
  c.callee = "+4930123456";
  c.callee_to = "+4930999999";
  c.diversion = "+4930555555,+4930666666";
  c.caller_host = "pbx.example.com";
  c.callee_host = "[2001:db8::20]";
  c.src_addr = "192.0.2.10:5060";
  c.dst_addr = "[2001:db8::20]:5062";
  c.caller_ua = "ExamplePBX/4.2";
  c.callee_ua = "GatewayOS 9";
  c.invite_time_ms = 1795813384123;
  c.ring_time_ms = 1795813385000;
  c.answer_time_ms = 1795813390001;
  c.end_time_ms = 1795813450500;
  c.post_dial_delay_ms = 877;
  c.duration_ms = 60499;
  c.billable_seconds = 61;
  c.final_status = 200;
  c.reason = "Q.850;cause=16;text=\"Normal call clearing\"";
  c.q850_cause = 16;
  c.released_by = ReleasedBy::kCallee;
  c.disposition = Disposition::kAnswered;
  c.codecs_offered = "PCMU,PCMA,telephone-event";
  c.codecs_answered = "PCMA,telephone-event";
  c.flags = kCdrFlagReinvite | kCdrFlagHostLi;
  return c;
}

TEST(CdrJson, WritesEveryFieldUnderItsName) {
  const json j = json::parse(CdrToJson(FullCdr()));
  EXPECT_EQ(j.size(), 31u);  // one key per Cdr member
  EXPECT_EQ(j.at("record_id"), "019ac6f1-a0c3-8abc-8000-000500000007");
  EXPECT_EQ(j.at("caller_pai"), "+4989222222");
  EXPECT_EQ(j.at("invite_time"), "2026-11-27T21:03:04.123Z");
  EXPECT_EQ(j.at("ring_time"), "2026-11-27T21:03:05.000Z");
  EXPECT_EQ(j.at("answer_time"), "2026-11-27T21:03:10.001Z");
  EXPECT_EQ(j.at("end_time"), "2026-11-27T21:04:10.500Z");
  EXPECT_EQ(j.at("post_dial_delay_ms"), 877);
  EXPECT_EQ(j.at("duration_ms"), 60499);
  EXPECT_EQ(j.at("billable_seconds"), 61);
  EXPECT_EQ(j.at("final_status"), 200);
  EXPECT_EQ(j.at("q850_cause"), 16);
  EXPECT_EQ(j.at("released_by"), "callee");
  EXPECT_EQ(j.at("disposition"), "answered");
  EXPECT_EQ(j.at("flags"), json::array({"reinvite", "host-li"}));
  EXPECT_FALSE(j.contains("invite_time_ms"));
}

TEST(CdrJson, UnreachedTimesAreNull) {
  Cdr c;
  c.invite_time_ms = 1795813384123;
  c.end_time_ms = 1795813564123;
  c.flags = kCdrFlagMaxDuration | kCdrFlagNoFinalResponse;
  const json j = json::parse(CdrToJson(c));
  EXPECT_TRUE(j.at("ring_time").is_null());
  EXPECT_TRUE(j.at("answer_time").is_null());
  EXPECT_EQ(j.at("end_time"), "2026-11-27T21:06:04.123Z");
  EXPECT_EQ(j.at("flags"), json::array({"max-duration", "no-final-response"}));
  Cdr back;
  std::string err;
  ASSERT_TRUE(CdrFromJson(CdrToJson(c), &back, &err)) << err;
  EXPECT_EQ(back.ring_time_ms, 0);
  EXPECT_EQ(back.answer_time_ms, 0);
  EXPECT_EQ(back.flags, c.flags);
}

TEST(CdrJson, RoundTripsExactly) {
  const Cdr c = FullCdr();
  Cdr back;
  std::string err;
  ASSERT_TRUE(CdrFromJson(CdrToJson(c), &back, &err)) << err;
  EXPECT_EQ(CdrToJson(back), CdrToJson(c));
  EXPECT_EQ(back.record_id, c.record_id);
  EXPECT_EQ(back.callee_host, c.callee_host);
  EXPECT_EQ(back.invite_time_ms, c.invite_time_ms);
  EXPECT_EQ(back.end_time_ms, c.end_time_ms);
  EXPECT_EQ(back.billable_seconds, c.billable_seconds);
  EXPECT_EQ(back.released_by, ReleasedBy::kCallee);
  EXPECT_EQ(back.disposition, Disposition::kAnswered);
  EXPECT_EQ(back.flags, c.flags);
  EXPECT_EQ(back.q850_cause, 16);
}

TEST(CdrJson, InvalidUtf8NeverThrows) {
  Cdr c;
  c.caller_ua = "bad \xff\xfe bytes";
  std::string text;
  ASSERT_NO_THROW(text = CdrToJson(c));
  EXPECT_NE(text.find("bad \xef\xbf\xbd\xef\xbf\xbd bytes"), std::string::npos);  // U+FFFD
}

void ExpectError(const std::string& text, const std::string& mention) {
  Cdr c;
  c.caller = "unchanged";
  std::string err;
  EXPECT_FALSE(CdrFromJson(text, &c, &err)) << text;
  EXPECT_NE(err.find(mention), std::string::npos) << err;
  EXPECT_EQ(c.caller, "unchanged");
}

TEST(CdrJson, RejectsMalformedInputNamingTheKey) {
  ExpectError("{not json", "not valid JSON");
  ExpectError("[1,2]", "not an object");
  ExpectError(R"({"caller": 5})", "'caller'");
  ExpectError(R"({"invite_time": "2027-02-29T00:00:00.000Z"})", "'invite_time'");
  ExpectError(R"({"answer_time": 12345})", "'answer_time'");
  ExpectError(R"({"duration_ms": "10"})", "'duration_ms'");
  ExpectError(R"({"final_status": 1.5})", "'final_status'");
  ExpectError(R"({"disposition": "ok"})", "'disposition'");
  ExpectError(R"({"released_by": null})", "'released_by'");
  ExpectError(R"({"flags": ["reinvite", "bogus"]})", "element 1");
  ExpectError(R"({"flags": "reinvite"})", "'flags'");
}

TEST(CdrJson, MissingKeysKeepDefaults) {
  Cdr c;
  std::string err;
  ASSERT_TRUE(CdrFromJson(R"({"record_id": "x", "unknown_future_key": 1})", &c, &err)) << err;
  EXPECT_EQ(c.record_id, "x");
  EXPECT_EQ(c.invite_time_ms, 0);
  EXPECT_EQ(c.disposition, Disposition::kFailed);
  EXPECT_EQ(c.released_by, ReleasedBy::kNone);
}

}  // namespace
}  // namespace callvault
