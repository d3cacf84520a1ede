// ParseSipMessage against real SIP text through the real sofia-sip parser.
#include "sip/parse/sip_message.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace callvault {
namespace {

// Headers (each ending in CRLF) + Content-Length + blank line + body.
std::string WithBody(const std::string& head, const std::string& body) {
  return head + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

const char kOfferSdp[] =
    "v=0\r\n"
    "o=alice 2890844526 2890844526 IN IP4 192.0.2.10\r\n"
    "s=-\r\n"
    "c=IN IP4 192.0.2.10\r\n"
    "t=0 0\r\n"
    "m=audio 49170 RTP/AVP 0 8 18 101\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-15\r\n"
    "m=video 0 RTP/AVP 96\r\n"
    "a=rtpmap:96 H264/90000\r\n";

std::string FullInvite() {
  return WithBody(
      "INVITE sip:+4930123456@gw.example.net;user=phone SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport\r\n"
      "Max-Forwards: 70\r\n"
      "To: \"Bob\" <sip:+4930999999@example.net>\r\n"
      "From: \"Alice\" <sip:+4989111111@pbx.example.com>;tag=1928301774\r\n"
      "Call-ID: a84b4c76e66710@pc33.example.com\r\n"
      "CSeq: 314159 INVITE\r\n"
      "Contact: <sip:alice@192.0.2.10:5060>\r\n"
      "P-Asserted-Identity: \"Alice\" <sip:+4989222222@pbx.example.com;user=phone>\r\n"
      "P-Asserted-Identity: <tel:+4989222222>\r\n"
      "Diversion: <sip:+4930555555@example.net>;reason=unconditional;counter=1,\r\n"
      " \"Forwarder, Inc\" <sip:+4930666666@example.net>;reason=user-busy\r\n"
      "Diversion: <tel:+4930777777>;reason=no-answer\r\n"
      "User-Agent: ExamplePBX/4.2\r\n"
      "Content-Type: application/sdp\r\n",
      kOfferSdp);
}

TEST(ParseSipMessage, InviteWithSdpPaiDiversion) {
  SipMessage m;
  std::string err;
  ASSERT_TRUE(ParseSipMessage(FullInvite(), &m, &err)) << err;
  EXPECT_TRUE(m.is_request);
  EXPECT_EQ(m.method, "INVITE");
  EXPECT_EQ(m.status, 0);
  EXPECT_EQ(m.call_id, "a84b4c76e66710@pc33.example.com");
  EXPECT_EQ(m.from_tag, "1928301774");
  EXPECT_EQ(m.to_tag, "");
  EXPECT_EQ(m.cseq, 314159u);
  EXPECT_EQ(m.cseq_method, "INVITE");
  EXPECT_EQ(m.via_branch, "z9hG4bK776asdhds");
  EXPECT_EQ(m.ruri_user, "+4930123456");
  EXPECT_EQ(m.ruri_host, "gw.example.net");
  EXPECT_EQ(m.from_user, "+4989111111");
  EXPECT_EQ(m.from_host, "pbx.example.com");
  EXPECT_EQ(m.to_user, "+4930999999");
  EXPECT_EQ(m.pai_user, "+4989222222");
  EXPECT_EQ(m.diversion_user, "+4930555555,+4930666666,+4930777777");
  EXPECT_EQ(m.user_agent, "ExamplePBX/4.2");
  EXPECT_EQ(m.reason, "");
  EXPECT_EQ(m.q850_cause, 0);
  EXPECT_TRUE(m.has_sdp);
  // Static 0/8/18 without rtpmap, dynamic 101 by rtpmap; the declined video
  // stream (port 0) contributes nothing.
  EXPECT_EQ(m.codecs, (std::vector<std::string>{"PCMU", "PCMA", "G729", "telephone-event"}));
}

TEST(ParseSipMessage, CompactHeadersAndIpv6) {
  const std::string raw =
      "BYE sip:bob@[2001:db8::20]:5062 SIP/2.0\r\n"
      "v: SIP/2.0/UDP [2001:db8::10]:5060;branch=z9hG4bKv6xyz\r\n"
      "v: SIP/2.0/UDP [2001:db8::11]:5060;branch=z9hG4bKolder\r\n"
      "f: <sip:alice@[2001:db8::10]>;tag=ftag6\r\n"
      "t: <sip:bob@example.net>;tag=ttag6\r\n"
      "i: v6call@[2001:db8::10]\r\n"
      "CSeq: 7 BYE\r\n"
      "k: timer\r\n"
      "Reason: Q.850;cause=16;text=\"Normal call clearing\"\r\n"
      "l: 0\r\n"
      "\r\n";
  SipMessage m;
  std::string err;
  ASSERT_TRUE(ParseSipMessage(raw, &m, &err)) << err;
  EXPECT_EQ(m.method, "BYE");
  EXPECT_EQ(m.via_branch, "z9hG4bKv6xyz");  // the top Via only
  EXPECT_EQ(m.ruri_user, "bob");
  EXPECT_EQ(m.ruri_host, "[2001:db8::20]");
  EXPECT_EQ(m.from_host, "[2001:db8::10]");
  EXPECT_EQ(m.from_tag, "ftag6");
  EXPECT_EQ(m.to_tag, "ttag6");
  EXPECT_EQ(m.call_id, "v6call@[2001:db8::10]");
  EXPECT_EQ(m.cseq, 7u);
  EXPECT_EQ(m.reason, "Q.850;cause=16;text=\"Normal call clearing\"");
  EXPECT_EQ(m.q850_cause, 16);
  EXPECT_FALSE(m.has_sdp);
  EXPECT_TRUE(m.codecs.empty());
}

TEST(ParseSipMessage, ResponseWithSdpAndServer) {
  const std::string raw = WithBody(
      "SIP/2.0 183 Session Progress\r\n"
      "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKproxy1\r\n"
      "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\r\n"
      "From: <sip:+4989111111@pbx.example.com>;tag=1928301774\r\n"
      "To: <sip:+4930999999@example.net>;tag=as6151ad25\r\n"
      "Call-ID: a84b4c76e66710@pc33.example.com\r\n"
      "CSeq: 314159 INVITE\r\n"
      "Server: GatewayOS 9\r\n"
      "User-Agent: not-this-one\r\n"
      "c: application/sdp\r\n",
      "v=0\r\no=gw 1 1 IN IP4 198.51.100.20\r\ns=-\r\nc=IN IP4 198.51.100.20\r\nt=0 0\r\n"
      "m=audio 20000 RTP/AVP 8 101\r\na=rtpmap:101 telephone-event/8000\r\n");
  SipMessage m;
  std::string err;
  ASSERT_TRUE(ParseSipMessage(raw, &m, &err)) << err;
  EXPECT_FALSE(m.is_request);
  EXPECT_EQ(m.status, 183);
  EXPECT_EQ(m.method, "INVITE");
  EXPECT_EQ(m.cseq_method, "INVITE");
  EXPECT_EQ(m.to_tag, "as6151ad25");
  EXPECT_EQ(m.via_branch, "z9hG4bKproxy1");
  EXPECT_EQ(m.user_agent, "GatewayOS 9");  // Server wins on responses
  EXPECT_EQ(m.ruri_user, "");
  EXPECT_TRUE(m.has_sdp);
  EXPECT_EQ(m.codecs, (std::vector<std::string>{"PCMA", "telephone-event"}));
}

TEST(ParseSipMessage, ResponseFallsBackToUserAgent) {
  const std::string raw =
      "SIP/2.0 486 Busy Here\r\n"
      "Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bKb\r\n"
      "From: <sip:a@example.com>;tag=f\r\nTo: <sip:b@example.net>;tag=t\r\n"
      "Call-ID: busy1\r\nCSeq: 1 INVITE\r\nUser-Agent: PhoneX\r\n"
      "Reason: SIP;cause=486;text=\"Busy\", Q.850;cause=17\r\n"
      "Content-Length: 0\r\n\r\n";
  SipMessage m;
  std::string err;
  ASSERT_TRUE(ParseSipMessage(raw, &m, &err)) << err;
  EXPECT_EQ(m.status, 486);
  EXPECT_EQ(m.user_agent, "PhoneX");
  EXPECT_EQ(m.reason, "SIP;cause=486;text=\"Busy\", Q.850;cause=17");
  EXPECT_EQ(m.q850_cause, 17);
}

TEST(ParseSipMessage, Q850CauseOutOfRangeIsIgnored) {
  const std::string raw =
      "CANCEL sip:b@example.net SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKc\r\n"
      "From: <sip:a@example.com>;tag=f\r\nTo: <sip:b@example.net>\r\n"
      "Call-ID: c1\r\nCSeq: 1 CANCEL\r\nReason: Q.850;cause=900\r\n\r\n";
  SipMessage m;
  std::string err;
  ASSERT_TRUE(ParseSipMessage(raw, &m, &err)) << err;
  EXPECT_EQ(m.method, "CANCEL");
  EXPECT_EQ(m.reason, "Q.850;cause=900");
  EXPECT_EQ(m.q850_cause, 0);
}

TEST(ParseSipMessage, TelUris) {
  const std::string raw =
      "INVITE tel:+4930123456;phone-context=example.net SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKtel\r\n"
      "From: <tel:+4989111111>;tag=tf\r\nTo: <tel:+4930123456>\r\n"
      "Call-ID: tel1\r\nCSeq: 1 INVITE\r\n"
      "P-Asserted-Identity: <tel:+4989000000>\r\n\r\n";
  SipMessage m;
  std::string err;
  ASSERT_TRUE(ParseSipMessage(raw, &m, &err)) << err;
  EXPECT_EQ(m.ruri_user, "+4930123456");
  EXPECT_EQ(m.ruri_host, "");
  EXPECT_EQ(m.from_user, "+4989111111");
  EXPECT_EQ(m.to_user, "+4930123456");
  EXPECT_EQ(m.pai_user, "+4989000000");
}

std::string Invite200(const std::string& sdp) {
  return WithBody(
      "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKs\r\n"
      "From: <sip:a@example.com>;tag=f\r\nTo: <sip:b@example.net>;tag=t\r\n"
      "Call-ID: sdp1\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\n",
      sdp);
}

TEST(ParseSipMessage, SdpProfilesAndNonRtpStreams) {
  const std::string sdp =
      "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
      "m=audio 4000 RTP/AVPF 111 0 9\r\na=rtpmap:111 opus/48000/2\r\n"
      "m=audio 4002 UDP/TLS/RTP/SAVPF 8 3 120\r\n"
      "m=image 5000 udptl t38\r\n";
  SipMessage m;
  std::string err;
  ASSERT_TRUE(ParseSipMessage(Invite200(sdp), &m, &err)) << err;
  EXPECT_TRUE(m.has_sdp);
  // 120 is dynamic without rtpmap: unnamed, so skipped.
  EXPECT_EQ(m.codecs, (std::vector<std::string>{"opus", "PCMU", "G722", "PCMA", "GSM", "t38"}));
}

TEST(ParseSipMessage, BodyThatIsNotSdp) {
  const std::string raw = WithBody(
      "INFO sip:b@example.net SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKi\r\n"
      "From: <sip:a@example.com>;tag=f\r\nTo: <sip:b@example.net>;tag=t\r\n"
      "Call-ID: info1\r\nCSeq: 2 INFO\r\nContent-Type: application/dtmf-relay\r\n",
      "Signal=5\r\nDuration=160\r\n");
  SipMessage m;
  std::string err;
  ASSERT_TRUE(ParseSipMessage(raw, &m, &err)) << err;
  EXPECT_FALSE(m.has_sdp);
  EXPECT_TRUE(m.codecs.empty());
}

TEST(ParseSipMessage, SdpWithoutContentTypeAndBrokenSdp) {
  const std::string head =
      "ACK sip:b@example.net SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKa\r\n"
      "From: <sip:a@example.com>;tag=f\r\nTo: <sip:b@example.net>;tag=t\r\n"
      "Call-ID: ack1\r\nCSeq: 1 ACK\r\n";
  SipMessage m;
  std::string err;
  ASSERT_TRUE(ParseSipMessage(WithBody(head, "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"
                                             "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4 RTP/AVP 18\r\n"),
                              &m, &err))
      << err;
  EXPECT_TRUE(m.has_sdp);
  EXPECT_EQ(m.codecs, (std::vector<std::string>{"G729"}));

  ASSERT_TRUE(ParseSipMessage(Invite200("this is not sdp\r\n"), &m, &err)) << err;
  EXPECT_FALSE(m.has_sdp);  // a broken body does not lose the message
  EXPECT_TRUE(m.codecs.empty());
  EXPECT_EQ(m.status, 200);
}

// Every identifier that appears in the malformed inputs below.
const std::vector<std::string> kIdentifiers = {
    "+4930123456", "4930123456", "alice", "bob", "example", "192.0.2", "2001:db8",
    "secret-call-id", "1928301774", "z9hG4bK"};

void ExpectRejectedWithoutIdentifiers(const std::string& raw, const std::string& expect_in_error) {
  SipMessage m;
  m.call_id = "stale";
  std::string err;
  EXPECT_FALSE(ParseSipMessage(raw, &m, &err));
  EXPECT_NE(err.find(expect_in_error), std::string::npos) << err;
  EXPECT_EQ(err.rfind("SIP message: ", 0), 0u) << err;
  for (const std::string& id : kIdentifiers) {
    EXPECT_EQ(err.find(id), std::string::npos) << "error leaks '" << id << "': " << err;
  }
  EXPECT_EQ(m.call_id, "");  // no partial result survives
}

const char kStart[] = "INVITE sip:+4930123456@192.0.2.20 SIP/2.0\r\n";
const char kVia[] = "Via: SIP/2.0/UDP [2001:db8::10];branch=z9hG4bKbad\r\n";
const char kFrom[] = "From: <sip:alice@example.com>;tag=1928301774\r\n";
const char kTo[] = "To: <sip:bob@example.net>\r\n";
const char kCallId[] = "Call-ID: secret-call-id\r\n";
const char kCseq[] = "CSeq: 1 INVITE\r\n";

TEST(ParseSipMessage, MissingMandatoryHeaders) {
  const std::string end = "Content-Length: 0\r\n\r\n";
  ExpectRejectedWithoutIdentifiers(std::string(kStart) + kVia + kFrom + kTo + kCseq + end, "Call-ID");
  ExpectRejectedWithoutIdentifiers(std::string(kStart) + kVia + kFrom + kTo + kCallId + end, "CSeq");
  ExpectRejectedWithoutIdentifiers(std::string(kStart) + kVia + kTo + kCallId + kCseq + end, "From");
  ExpectRejectedWithoutIdentifiers(std::string(kStart) + kVia + kFrom + kCallId + kCseq + end, "To");
  ExpectRejectedWithoutIdentifiers(
      std::string(kStart) + kVia + kFrom + kTo + kCallId + "CSeq: one INVITE\r\n" + end, "CSeq");
}

TEST(ParseSipMessage, GarbageAndTruncation) {
  ExpectRejectedWithoutIdentifiers("", "empty");
  ExpectRejectedWithoutIdentifiers("hello alice at 192.0.2.1\r\n\r\n", "malformed");
  ExpectRejectedWithoutIdentifiers(std::string("\x01\x02\xff\xfe 2001:db8::1", 17), "malformed");
  ExpectRejectedWithoutIdentifiers("INVITE sip:+4930123456@192.0.2.20 SIP/2.0\r\n", "");
  // Body shorter than its Content-Length: the datagram was cut.
  const std::string full = FullInvite();
  ExpectRejectedWithoutIdentifiers(full.substr(0, full.size() - 20), "truncated");
  // Cut inside the headers.
  ExpectRejectedWithoutIdentifiers(full.substr(0, 120), "");
  ExpectRejectedWithoutIdentifiers(
      "SIP/2.0 999 Odd\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\n" + std::string(kFrom) + kTo +
          kCallId + kCseq + "\r\n",
      "");
}

TEST(ParseSipMessage, EveryFieldIsCapped) {
  const std::string big(600, 'x');
  const std::string user = "+49" + std::string(300, '1');
  std::string diversion = "Diversion: ";
  for (int i = 0; i < 40; ++i) {
    diversion += (i ? ", " : "") + std::string("<sip:+49") + std::to_string(1000000 + i) + "@d.example>";
  }
  std::string sdp = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP";
  for (int pt = 96; pt < 126; ++pt) sdp += " " + std::to_string(pt);
  sdp += "\r\n";
  for (int pt = 96; pt < 126; ++pt) {
    sdp += "a=rtpmap:" + std::to_string(pt) + " " + (pt == 96 ? big : "codec" + std::to_string(pt)) + "/8000\r\n";
  }
  const std::string raw = WithBody(
      "INVITE sip:" + user + "@h" + big + ".example SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK" + big + "\r\n"
      "From: <sip:" + user + "@f" + big + ".example>;tag=" + big + "\r\n"
      "To: <sip:" + user + "@example.net>;tag=" + big + "\r\n"
      "Call-ID: " + big + "\r\n"
      "CSeq: 1 INVITE\r\n"
      "P-Asserted-Identity: <sip:" + user + "@example.com>\r\n" +
      diversion + "\r\n"
      "User-Agent: " + big + "\r\n"
      "Reason: Q.850;cause=16;text=\"" + big + "\"\r\n"
      "Content-Type: application/sdp\r\n",
      sdp);
  SipMessage m;
  std::string err;
  ASSERT_TRUE(ParseSipMessage(raw, &m, &err)) << err;
  for (const std::string* s :
       {&m.call_id, &m.from_tag, &m.to_tag, &m.via_branch, &m.ruri_user, &m.ruri_host, &m.from_user,
        &m.from_host, &m.to_user, &m.pai_user, &m.user_agent, &m.reason}) {
    EXPECT_EQ(s->size(), kMaxFieldBytes);
  }
  // Diversion keeps whole numbers only: 11 of 10 bytes each plus commas.
  EXPECT_EQ(m.diversion_user.size(), 120u);
  EXPECT_EQ(m.call_id, big.substr(0, kMaxFieldBytes));
  EXPECT_EQ(m.ruri_user, user.substr(0, kMaxFieldBytes));
  EXPECT_EQ(m.reason.rfind("Q.850;cause=16;text=\"xxx", 0), 0u);
  EXPECT_EQ(m.q850_cause, 16);
  EXPECT_EQ(m.diversion_user.substr(0, 21), "+491000000,+491000001");
  ASSERT_TRUE(m.has_sdp);
  EXPECT_EQ(m.codecs.size(), 16u);
  EXPECT_EQ(m.codecs[0], big.substr(0, kMaxFieldBytes));
  EXPECT_EQ(m.codecs[1], "codec97");
}

TEST(ParseSipMessage, ExtensionMethodIsCapped) {
  const std::string method(300, 'X');
  const std::string raw = "" + method + " sip:b@example.net SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKm\r\n"
      "From: <sip:a@example.com>;tag=f\r\nTo: <sip:b@example.net>\r\n"
      "Call-ID: m1\r\nCSeq: 1 " + method + "\r\n\r\n";
  SipMessage m;
  std::string err;
  ASSERT_TRUE(ParseSipMessage(raw, &m, &err)) << err;
  EXPECT_EQ(m.method, method.substr(0, kMaxFieldBytes));
  EXPECT_EQ(m.cseq_method, method.substr(0, kMaxFieldBytes));
}

TEST(ParseSipMessage, DiversionCapKeepsWholeEntries) {
  std::string raw =
      "INVITE sip:b@example.net SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKd\r\n"
      "From: <sip:a@example.com>;tag=f\r\nTo: <sip:b@example.net>\r\n"
      "Call-ID: div1\r\nCSeq: 1 INVITE\r\nDiversion: ";
  for (int i = 0; i < 40; ++i) raw += (i ? "," : "") + std::string("<tel:+4930") + std::to_string(100000 + i) + ">";
  raw += "\r\n\r\n";
  SipMessage m;
  std::string err;
  ASSERT_TRUE(ParseSipMessage(raw, &m, &err)) << err;
  // Each entry is 11 bytes; 10 entries + 9 commas = 119 <= 128 < 131.
  EXPECT_EQ(m.diversion_user.size(), 119u);
  EXPECT_EQ(m.diversion_user.substr(m.diversion_user.size() - 11), "+4930100009");
}

TEST(ParseSipMessage, NonUtf8AndControlCharactersAreNeutralised) {
  const std::string raw =
      "OPTIONS sip:b@example.net SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKo\r\n"
      "From: <sip:a@example.com>;tag=f\r\nTo: <sip:b@example.net>\r\n"
      "Call-ID: utf1\r\nCSeq: 1 OPTIONS\r\n"
      "User-Agent: Caf\xc3\xa9 \xff\xfe\x01phone\r\n\r\n";
  SipMessage m;
  std::string err;
  ASSERT_TRUE(ParseSipMessage(raw, &m, &err)) << err;
  EXPECT_EQ(m.user_agent, "Caf\xc3\xa9 ???phone");
}

TEST(ParseSipMessage, ResultIsResetBetweenCalls) {
  SipMessage m;
  std::string err;
  ASSERT_TRUE(ParseSipMessage(FullInvite(), &m, &err)) << err;
  const std::string bye =
      "BYE sip:b@example.net SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKr\r\n"
      "From: <sip:a@example.com>;tag=f\r\nTo: <sip:b@example.net>;tag=t\r\n"
      "Call-ID: r1\r\nCSeq: 2 BYE\r\n\r\n";
  ASSERT_TRUE(ParseSipMessage(bye, &m, &err)) << err;
  EXPECT_EQ(m.pai_user, "");
  EXPECT_EQ(m.diversion_user, "");
  EXPECT_FALSE(m.has_sdp);
  EXPECT_TRUE(m.codecs.empty());
}

}  // namespace
}  // namespace callvault
