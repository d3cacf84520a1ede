// Store pieces that need no database: number normalisation, blind indexes,
// the record codec's sealing and its tamper detection, conninfo handling,
// error redaction, the embedded migrations and the I/O watchdog.
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "module/cdr/cdr_json.h"
#include "module/config/config.h"
#include "module/crypto/keyring.h"
#include "module/store/blind_index.h"
#include "module/store/cdr_summary.h"
#include "module/store/copy_binary.h"
#include "module/store/data_keys.h"
#include "module/store/io_watchdog.h"
#include "module/store/migrations.h"
#include "module/store/pg_conn.h"
#include "module/store/record_codec.h"

namespace callvault {
namespace {

TEST(NormaliseNumber, NationalAndInternationalFormsAgree) {
  const std::string want = "n:919845012345";
  EXPECT_EQ(NormaliseNumber("+919845012345", "IN"), want);
  EXPECT_EQ(NormaliseNumber("+91 98450-12345", "IN"), want);
  EXPECT_EQ(NormaliseNumber("00919845012345", "IN"), want);
  EXPECT_EQ(NormaliseNumber("09845012345", "IN"), want);
  EXPECT_EQ(NormaliseNumber("9845012345", "IN"), want);
  EXPECT_EQ(NormaliseNumber("9845012345;npdi", "IN"), want);
  // Same national digits, another region: another subscriber.
  EXPECT_EQ(NormaliseNumber("030 1234567", "DE"), "n:49301234567");
  EXPECT_NE(NormaliseNumber("0301234567", "DE"), NormaliseNumber("0301234567", "IN"));
  // The international prefix is the region's: 011 in the US.
  EXPECT_EQ(NormaliseNumber("01149301234567", "US"), "n:49301234567");
}

TEST(NormaliseNumber, UsersAndPrivacyMarkers) {
  EXPECT_EQ(NormaliseNumber("Alice.Smith", "IN"), "u:alice.smith");
  EXPECT_EQ(NormaliseNumber("anonymous", "IN"), "");
  EXPECT_EQ(NormaliseNumber("Anonymous", "IN"), "");
  EXPECT_EQ(NormaliseNumber("", "IN"), "");
  EXPECT_EQ(NormaliseNumber("  ", "IN"), "");
}

TEST(BlindIndexer, KeyedAndStable) {
  Keyring k1 = Keyring::Generate(), k2 = Keyring::Generate();
  std::string err;
  auto b1 = BlindIndexer::Create(k1, &err);
  auto b2 = BlindIndexer::Create(k2, &err);
  ASSERT_TRUE(b1 && b2) << err;
  const std::string a = b1->Index("+919845012345", "IN");
  EXPECT_EQ(a.size(), kBlindIndexBytes);
  EXPECT_EQ(a, b1->Index("09845012345", "IN"));
  EXPECT_NE(a, b2->Index("+919845012345", "IN"));  // another key, another index
  EXPECT_EQ(b1->Index("anonymous", "IN"), "");
  const auto s = b1->SearchIndexes("0301234567", {"IN", "DE", "IN"});
  EXPECT_EQ(s.size(), 2u);
  EXPECT_EQ(b1->SearchIndexes("+49301234567", {"IN", "DE"}).size(), 1u);

  Keyring empty = Keyring::Generate();
  ASSERT_TRUE(empty.RemoveSecret(kBlindIndexSecret));
  EXPECT_EQ(BlindIndexer::Create(empty, &err), nullptr);
  EXPECT_NE(err.find("blind-index"), std::string::npos);
}

TEST(BlindIndexer, EqualsTheKeyringHmac) {
  Keyring k = Keyring::Generate();
  std::string err;
  auto b = BlindIndexer::Create(k, &err);
  ASSERT_TRUE(b) << err;
  EXPECT_EQ(b->Index("+919845012345", "IN"),
            HmacSha256(*k.secret(kBlindIndexSecret), "n:919845012345"));
  EXPECT_EQ(b->Index("Bob", "IN"), HmacSha256(*k.secret(kBlindIndexSecret), "u:bob"));
  // Cached answers are the same answers.
  EXPECT_EQ(b->Index("Bob", "IN"), HmacSha256(*k.secret(kBlindIndexSecret), "u:bob"));
}

TEST(CdrSummary, AgreesWithTheFullParserOnAwkwardStrings) {
  Cdr c;
  c.record_id = "6f9619ff-8b86-4011-b42d-00c04fc964ff";
  c.node_id = "n\"ode\\1\t";
  c.ingress_trunk = "tr\u00fcnk-\xe2\x82\xac-\xf0\x9f\x93\x9e";  // non-ASCII, 4-byte UTF-8
  c.caller = "+91 (984) 501-2345";
  c.caller_pai = "\x01ctl";
  c.callee = "alice/bob";
  c.caller_ua = "{\"not\": [\"nested\"]}";
  c.invite_time_ms = 1795803784123;
  c.end_time_ms = 0;
  c.flags = kCdrFlagReinvite | kCdrFlagMaxDuration;
  const std::string json = CdrToJson(c);
  Cdr full;
  std::string err;
  ASSERT_TRUE(CdrFromJson(json, &full, &err)) << err;
  CdrSummary s;
  ASSERT_TRUE(SummariseCdrJson(json, &s, &err)) << err;
  EXPECT_EQ(s.record_id, full.record_id);
  EXPECT_EQ(s.node_id, full.node_id);
  EXPECT_EQ(s.ingress_trunk, full.ingress_trunk);
  EXPECT_EQ(s.caller, full.caller);
  EXPECT_EQ(s.caller_pai, full.caller_pai);
  EXPECT_EQ(s.callee, full.callee);
  EXPECT_EQ(s.invite_day, "2026-11-27");
  EXPECT_EQ(s.end_day, "");
  // \u escapes, surrogate pairs and nesting written by other encoders.
  ASSERT_TRUE(SummariseCdrJson(R"( {"caller":"\u0041\ud83d\udcde","x":{"a":[1,-2.5e3,true,null]},
      "callee" : "b"} )", &s, &err)) << err;
  EXPECT_EQ(s.caller, "A\xf0\x9f\x93\x9e");
  EXPECT_EQ(s.callee, "b");
  ASSERT_TRUE(SummariseCdrJson(R"({"\u0063allee":"escaped key","caller_pai":"p"})", &s, &err));
  EXPECT_EQ(s.callee, "escaped key");
  EXPECT_EQ(s.caller_pai, "p");
  for (const char* bad : {"", "[]", "{", "{\"a\":}", "{\"a\":1,}", "{\"a\":\"\\q\"}",
                          "{\"a\":\"\\ud800\"}", "{\"a\":1} x", "{\"a\":01}", "{\"a\":\"\x01\"}"}) {
    EXPECT_FALSE(SummariseCdrJson(bad, &s, &err)) << bad;
    EXPECT_NE(err.find("invalid JSON object at byte"), std::string::npos);
  }
}

TEST(RecordCopyEncoder, BinaryLayout) {
  RecordRow r;
  r.record_id = "00000000-0000-4000-8000-000000000001";
  r.node_id = "n";
  r.trunk = "t";
  r.call_day = "2000-01-02";
  r.retention_class = "cdr";
  r.legal_basis = "lb";
  r.retain_until = "2000-01-03";
  r.key_id = "00000000-0000-4000-8000-0000000000ff";
  r.payload = std::string("\0\x01", 2);
  RecordCopyEncoder enc;
  ASSERT_TRUE(enc.Add(r));
  RecordRow bad = r;
  bad.key_id = "nope";
  EXPECT_FALSE(enc.Add(bad));
  EXPECT_EQ(enc.rows(), 1u);
  const std::string data = enc.Finish();
  EXPECT_EQ(data.substr(0, 11), std::string("PGCOPY\n\xff\r\n\0", 11));
  // header 19, field count 2, uuid 4+16, n 4+1, t 4+1, date 4+4 (= 1 day
  // after 2000-01-01), cdr 4+3, lb 4+2, date 4+4, uuid 4+16, NULL 4, NULL 4,
  // payload 4+2, trailer 2.
  EXPECT_EQ(data.size(), 19u + 2 + 20 + 5 + 5 + 8 + 7 + 6 + 8 + 20 + 4 + 4 + 6 + 2);
  EXPECT_EQ(data.substr(19 + 2 + 20 + 5 + 5, 8), std::string("\0\0\0\x04\0\0\0\x01", 8));
  EXPECT_EQ(data.substr(data.size() - 2), "\xff\xff");
}

TEST(Days, FormatAndParse) {
  EXPECT_EQ(FormatDay(0), "1970-01-01");
  EXPECT_EQ(FormatDay(20784), "2026-11-27");
  int64_t d = 0;
  ASSERT_TRUE(ParseDay("2028-02-29", &d));
  EXPECT_EQ(FormatDay(d), "2028-02-29");
  EXPECT_FALSE(ParseDay("2027-02-29", &d));
  EXPECT_FALSE(ParseDay("2027-1-01", &d));
  std::string u;
  EXPECT_TRUE(CanonicalUuid("0A1B2C3D-0000-4000-8000-00000000000F", &u));
  EXPECT_EQ(u, "0a1b2c3d-0000-4000-8000-00000000000f");
  EXPECT_FALSE(CanonicalUuid("0a1b2c3d-0000-4000-8000-00000000000", &u));
  EXPECT_FALSE(CanonicalUuid("0a1b2c3d_0000-4000-8000-00000000000f", &u));
}

class CodecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    keyring_ = Keyring::Generate();
    cfg_.node_id = "node-1";
    TrunkConfig t;
    t.name = "carrier-a";
    t.retention.days = 1000;
    cfg_.trunks.push_back(t);
    std::string err;
    bi_ = BlindIndexer::Create(keyring_, &err);
    ASSERT_TRUE(bi_) << err;
    key_.key_id = RandomUuid();
    key_.trunk = "carrier-a";
    key_.period = "2026-11";
    key_.aead = Aead::Create(SecretBytes::Random(Aead::kKeyBytes));
    cdr_.record_id = "6F9619FF-8B86-4011-B42D-00C04FC964FF";
    cdr_.ingress_trunk = "carrier-a";
    cdr_.caller = "09845012345";
    cdr_.caller_pai = "+919845099999";
    cdr_.callee = "+919812300000";
    cdr_.invite_time_ms = 1795813384123;  // 2026-11-27T21:03:04.123Z
    cdr_.end_time_ms = cdr_.invite_time_ms + 5000;
  }

  Keyring keyring_;
  Config cfg_;
  std::unique_ptr<BlindIndexer> bi_;
  DataKey key_;
  Cdr cdr_;
};

TEST_F(CodecTest, DescribeDerivesRetentionAndIndexes) {
  RecordCodec codec(cfg_, *bi_);
  RecordRow row;
  std::string err;
  ASSERT_TRUE(codec.Describe(SummariseCdr(cdr_), &row, &err)) << err;
  EXPECT_EQ(row.record_id, "6f9619ff-8b86-4011-b42d-00c04fc964ff");
  EXPECT_EQ(row.node_id, "node-1");
  EXPECT_EQ(row.trunk, "carrier-a");
  EXPECT_EQ(row.call_day, "2026-11-27");
  EXPECT_EQ(row.retain_until, FormatDay(20784 + 1000));
  EXPECT_EQ(row.retention_class, "cdr");
  EXPECT_EQ(row.period(), "2026-11");
  // The asserted identity, not the From user, is the caller.
  EXPECT_EQ(row.caller_bi, bi_->Index("+919845099999", "IN"));
  EXPECT_EQ(row.callee_bi, bi_->Index("09812300000", "IN"));

  Cdr unknown = cdr_;
  unknown.ingress_trunk = "";
  unknown.egress_trunk = "elsewhere";
  ASSERT_TRUE(codec.Describe(SummariseCdr(unknown), &row, &err));
  EXPECT_EQ(row.trunk, "elsewhere");
  EXPECT_EQ(row.retain_until, FormatDay(20784 + kStatutoryCdrMinDays));

  Cdr bad = cdr_;
  bad.record_id = "42";
  EXPECT_FALSE(codec.Describe(SummariseCdr(bad), &row, &err));
  bad = cdr_;
  bad.invite_time_ms = 0;
  bad.end_time_ms = 0;
  EXPECT_FALSE(codec.Describe(SummariseCdr(bad), &row, &err));
  EXPECT_NE(err.find("out of range"), std::string::npos);
}

TEST_F(CodecTest, SealOpenAndTamperDetection) {
  RecordCodec codec(cfg_, *bi_);
  RecordRow row;
  std::string err;
  ASSERT_TRUE(codec.Describe(SummariseCdr(cdr_), &row, &err)) << err;
  ASSERT_TRUE(RecordCodec::Seal(CdrToJson(cdr_), &key_, &row, &err)) << err;
  EXPECT_EQ(row.key_id, key_.key_id);
  EXPECT_EQ(row.payload.find("9845099999"), std::string::npos);
  Cdr out;
  ASSERT_TRUE(RecordCodec::Open(row, key_, &out, &err)) << err;
  EXPECT_EQ(out.caller_pai, cdr_.caller_pai);
  EXPECT_EQ(out.invite_time_ms, cdr_.invite_time_ms);

  const std::string want =
      "record 6f9619ff-8b86-4011-b42d-00c04fc964ff: payload authentication failed "
      "(retention metadata or payload altered)";
  RecordRow t = row;
  t.payload[t.payload.size() / 2] ^= 1;
  EXPECT_FALSE(RecordCodec::Open(t, key_, &out, &err));
  EXPECT_EQ(err, want);
  for (std::string RecordRow::*field :
       {&RecordRow::retain_until, &RecordRow::call_day, &RecordRow::trunk,
        &RecordRow::retention_class, &RecordRow::legal_basis}) {
    t = row;
    (t.*field)[0] = (t.*field)[0] == '2' ? '3' : '2';
    EXPECT_FALSE(RecordCodec::Open(t, key_, &out, &err));
    EXPECT_EQ(err, want);
  }
  t = row;
  t.record_id = "6f9619ff-8b86-4011-b42d-00c04fc96500";  // payload moved to another row
  EXPECT_FALSE(RecordCodec::Open(t, key_, &out, &err));
  // hold_state is not bound: holds are placed on stored records.
  t = row;
  t.hold_state = 1;
  EXPECT_TRUE(RecordCodec::Open(t, key_, &out, &err)) << err;
}

TEST(PgConn, BuildConnInfoAddsTimeoutsKeepsCallerChoices) {
  DbConnectOptions o;
  o.statement_timeout_ms = 1500;
  std::string out, err;
  ASSERT_TRUE(BuildConnInfo("host=db.example user=w connect_timeout=9", o, &out, &err)) << err;
  EXPECT_NE(out.find("connect_timeout='9'"), std::string::npos) << out;
  EXPECT_NE(out.find("keepalives_idle='10'"), std::string::npos) << out;
  EXPECT_NE(out.find("options='-c statement_timeout=1500'"), std::string::npos) << out;
  EXPECT_NE(out.find("host='db.example'"), std::string::npos) << out;
  ASSERT_TRUE(BuildConnInfo("postgresql://w@db.example:6543/cv?sslmode=verify-full", o, &out, &err));
  EXPECT_NE(out.find("port='6543'"), std::string::npos) << out;
  EXPECT_NE(out.find("sslmode='verify-full'"), std::string::npos) << out;
  EXPECT_FALSE(BuildConnInfo("host=x password=s3cret bogus", o, &out, &err));
  EXPECT_EQ(err.find("s3cret"), std::string::npos) << err;
}

TEST(PgConn, RedactDropsAddressesAndDetails) {
  EXPECT_EQ(RedactDbError("connection to server at \"10.1.2.3\", port 5432 failed: timeout\n"),
            "connection to server at \"<addr>\", port 5432 failed: timeout");
  EXPECT_EQ(RedactDbError("server at \"::1\" and fe80::1:2 down"),
            "server at \"<addr>\" and <addr> down");
  EXPECT_EQ(RedactDbError("ERROR:  new row violates check constraint \"c\"\nDETAIL:  Failing row "
                          "contains (+919845012345).\n"),
            "ERROR:  new row violates check constraint \"c\"");
  EXPECT_TRUE(IsRowRefusal("23514"));
  EXPECT_TRUE(IsRowRefusal("22P02"));
  EXPECT_TRUE(IsRowRefusal("P0001"));
  EXPECT_FALSE(IsRowRefusal("42501"));  // privileges: the database's problem
  EXPECT_FALSE(IsRowRefusal("57014"));  // statement timeout
  EXPECT_FALSE(IsRowRefusal(""));
}

TEST(Migrations, EmbeddedConsecutiveAndNonEmpty) {
  const auto& all = EmbeddedMigrations();
  ASSERT_GE(all.size(), 2u);
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].version, static_cast<int>(i + 1));
    EXPECT_FALSE(all[i].name.empty());
    EXPECT_NE(all[i].sql.find(';'), std::string_view::npos);
  }
  EXPECT_NE(all[1].sql.find("PARTITION BY RANGE (call_day)"), std::string_view::npos);
}

TEST(IoWatchdog, ShutsDownABlockedSocketAfterTheDeadline) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  IoWatchdog w;
  const auto t0 = std::chrono::steady_clock::now();
  w.Arm(sv[0], std::chrono::milliseconds(200));
  char c;
  // Nobody writes to sv[1]: only the watchdog can end this read.
  const ssize_t n = ::recv(sv[0], &c, 1, 0);
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_TRUE(w.Disarm());
  EXPECT_EQ(n, 0);
  EXPECT_GE(waited, std::chrono::milliseconds(190));
  EXPECT_LT(waited, std::chrono::milliseconds(2000));

  ::close(sv[0]);
  ::close(sv[1]);

  // Disarmed in time: nothing happens to the socket.
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  w.Arm(sv[0], std::chrono::milliseconds(100));
  EXPECT_FALSE(w.Disarm());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(w.fired());
  EXPECT_EQ(::send(sv[1], "x", 1, MSG_NOSIGNAL), 1);
  EXPECT_EQ(::recv(sv[0], &c, 1, 0), 1);
  ::close(sv[0]);
  ::close(sv[1]);
}

}  // namespace
}  // namespace callvault
