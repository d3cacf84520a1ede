// CallTracker over realistic message sequences: each message goes through the
// real sofia-sip parser, and the host reports it as RECEIVED and as SENT.
#include "module/tracker/call_tracker.h"

#include <gtest/gtest.h>

#include "module/cdr/cdr_json.h"
#include "tests/module/tracker/sip_flow.h"

namespace callvault::testing {
namespace {

constexpr int64_t kRing = kT0 + 1000;
constexpr int64_t kAnswer = kT0 + 5000;

void ExpectCallerSide(const Cdr& c, const Flow& f, const CaptureInfo& first_invite) {
  EXPECT_EQ(c.record_id, CallTracker::MakeRecordId(kNode, first_invite));
  EXPECT_EQ(c.node_id, kNode);
  EXPECT_EQ(c.call_id, f.call_id());
  EXPECT_EQ(c.ingress_trunk, "carrier-in");
  EXPECT_EQ(c.caller, "+4989111111");
  EXPECT_EQ(c.caller_pai, "+4989222222");
  EXPECT_EQ(c.callee, "+4930123456");
  EXPECT_EQ(c.callee_to, "030123456");
  EXPECT_EQ(c.diversion, "+4930555555");
  EXPECT_EQ(c.caller_host, "pbx.example.com");
  EXPECT_EQ(c.callee_host, "proxy.example.net");  // R-URI as received, not as routed
  EXPECT_EQ(c.src_addr, "192.0.2.10:5060");
  EXPECT_EQ(c.caller_ua, "CallerPhone/1.0");
  EXPECT_EQ(c.codecs_offered, "PCMU,PCMA,telephone-event");
  EXPECT_EQ(c.invite_time_ms, kT0);
}

TEST(CallTracker, AnsweredThenCallerBye) {
  Harness h;
  Flow f{"ans1"};
  h.Setup(f, kT0);
  h.Answer(f, kAnswer);
  EXPECT_TRUE(h.cdrs.empty());
  EXPECT_EQ(h.tracker.stats().active_calls, 1u);
  h.CallerBye(f, kAnswer + 60001, 2, "Reason: Q.850;cause=16;text=\"Normal call clearing\"\r\n");

  ASSERT_EQ(h.cdrs.size(), 1u);
  const Cdr& c = h.cdrs[0];
  ExpectCallerSide(c, f, h.FirstInfo());
  EXPECT_EQ(c.egress_trunk, "carrier-out");
  EXPECT_EQ(c.dst_addr, "198.51.100.20:5060");
  EXPECT_EQ(c.callee_ua, "GatewayOS 9");
  EXPECT_EQ(c.ring_time_ms, kRing);
  EXPECT_EQ(c.answer_time_ms, kAnswer);
  EXPECT_EQ(c.end_time_ms, kAnswer + 60001);
  EXPECT_EQ(c.post_dial_delay_ms, 1000);
  EXPECT_EQ(c.duration_ms, 60001);
  EXPECT_EQ(c.billable_seconds, 61);  // rounded up
  EXPECT_EQ(c.final_status, 200);
  EXPECT_EQ(c.reason, "Q.850;cause=16;text=\"Normal call clearing\"");
  EXPECT_EQ(c.q850_cause, 16);
  EXPECT_EQ(c.released_by, ReleasedBy::kCaller);
  EXPECT_EQ(c.disposition, Disposition::kAnswered);
  EXPECT_EQ(c.codecs_answered, "PCMA,telephone-event");
  EXPECT_EQ(c.flags, 0u);

  TrackerStats s = h.tracker.stats();
  EXPECT_EQ(s.calls_started, 1u);
  EXPECT_EQ(s.cdrs_emitted, 1u);
  EXPECT_EQ(s.active_calls, 0u);
  EXPECT_EQ(s.lingering_calls, 1u);
  EXPECT_EQ(s.retransmissions, 0u);
  EXPECT_EQ(s.orphans, 0u);
  EXPECT_EQ(s.reinvites, 0u);

  // Lingering ends linger_ms after the BYE.
  h.tracker.Tick(kAnswer + 60001 + 32000 - 1);
  EXPECT_EQ(h.tracker.stats().lingering_calls, 1u);
  h.tracker.Tick(kAnswer + 60001 + 32000);
  EXPECT_EQ(h.tracker.stats().lingering_calls, 0u);
  EXPECT_EQ(h.cdrs.size(), 1u);
}

TEST(CallTracker, AnsweredThenCalleeBye) {
  Harness h;
  Flow f{"ans2"};
  h.Setup(f, kT0);
  h.Answer(f, kAnswer);
  h.CalleeBye(f, kAnswer + 30000, 1, "Reason: Q.850;cause=31\r\n");
  ASSERT_EQ(h.cdrs.size(), 1u);
  const Cdr& c = h.cdrs[0];
  ExpectCallerSide(c, f, h.FirstInfo());
  EXPECT_EQ(c.released_by, ReleasedBy::kCallee);
  EXPECT_EQ(c.disposition, Disposition::kAnswered);
  EXPECT_EQ(c.end_time_ms, kAnswer + 30000);
  EXPECT_EQ(c.duration_ms, 30000);
  EXPECT_EQ(c.billable_seconds, 30);
  EXPECT_EQ(c.reason, "Q.850;cause=31");
  EXPECT_EQ(c.q850_cause, 31);
  EXPECT_EQ(h.tracker.stats().orphans, 0u);
}

TEST(CallTracker, CancelThen487) {
  Harness h;
  Flow f{"can1"};
  h.Setup(f, kT0);
  const int64_t cancel = kT0 + 8000;
  const std::string reason = "Reason: SIP;cause=200;text=\"Call completed elsewhere\"\r\n";
  h.Up(f.Request("CANCEL", true, false, "1", 1, false, reason),
       f.Request("CANCEL", true, true, "1", 1, false, reason), cancel);
  h.ProxyToCaller(f.Response(200, "CANCEL", 1, true, true, "1", false), cancel + 2);
  h.Feed(f.Response(200, "CANCEL", 1, true, false, "1", false), CV_DIR_RECEIVED, kCallee, kProxy, cancel + 20);
  h.FailDown(f, 487, cancel + 25);
  ASSERT_EQ(h.cdrs.size(), 1u);
  const Cdr& c = h.cdrs[0];
  ExpectCallerSide(c, f, h.FirstInfo());
  EXPECT_EQ(c.disposition, Disposition::kCancelled);
  EXPECT_EQ(c.released_by, ReleasedBy::kCaller);
  EXPECT_EQ(c.final_status, 487);
  EXPECT_EQ(c.end_time_ms, cancel);  // when the caller hung up
  EXPECT_EQ(c.ring_time_ms, kRing);
  EXPECT_EQ(c.answer_time_ms, 0);
  EXPECT_EQ(c.post_dial_delay_ms, 1000);
  EXPECT_EQ(c.duration_ms, 0);
  EXPECT_EQ(c.billable_seconds, 0);
  EXPECT_EQ(c.reason, "SIP;cause=200;text=\"Call completed elsewhere\"");
  EXPECT_EQ(c.q850_cause, 0);
  // The ACK for the 487 (both copies) landed on the tombstone: no orphan.
  EXPECT_EQ(h.tracker.stats().orphans, 0u);
  EXPECT_EQ(h.tracker.stats().calls_started, 1u);
}

TEST(CallTracker, Busy486RelayedFromCallee) {
  Harness h;
  Flow f{"busy1"};
  h.Setup(f, kT0, /*ring_after=*/0);
  h.FailDown(f, 486, kT0 + 3000, "Reason: Q.850;cause=17\r\n");
  ASSERT_EQ(h.cdrs.size(), 1u);
  const Cdr& c = h.cdrs[0];
  ExpectCallerSide(c, f, h.FirstInfo());
  EXPECT_EQ(c.disposition, Disposition::kBusy);
  EXPECT_EQ(c.released_by, ReleasedBy::kCallee);
  EXPECT_EQ(c.final_status, 486);
  EXPECT_EQ(c.q850_cause, 17);
  EXPECT_EQ(c.reason, "Q.850;cause=17");
  EXPECT_EQ(c.callee_ua, "GatewayOS 9");
  EXPECT_EQ(c.ring_time_ms, 0);
  // No 18x: post-dial delay runs to the final response sent to the caller.
  EXPECT_EQ(c.end_time_ms, kT0 + 3001);
  EXPECT_EQ(c.post_dial_delay_ms, 3001);
  EXPECT_EQ(c.duration_ms, 0);
}

TEST(CallTracker, Failed503) {
  Harness h;
  Flow f{"fail1"};
  h.Setup(f, kT0);
  h.FailDown(f, 503, kT0 + 4000);
  ASSERT_EQ(h.cdrs.size(), 1u);
  EXPECT_EQ(h.cdrs[0].disposition, Disposition::kFailed);
  EXPECT_EQ(h.cdrs[0].released_by, ReleasedBy::kCallee);
  EXPECT_EQ(h.cdrs[0].final_status, 503);
  EXPECT_EQ(h.cdrs[0].reason, "");
  EXPECT_EQ(h.cdrs[0].post_dial_delay_ms, 1000);
}

TEST(CallTracker, ProxyGenerated404) {
  Harness h;
  Flow f{"nf1"};
  // The proxy finds no route: it answers itself and forwards nothing.
  h.Feed(f.Invite(false), CV_DIR_RECEIVED, kCaller, kProxy, kT0, "carrier-in");
  h.ProxyToCaller(f.InviteResponse(100, true), kT0 + 1);
  h.ProxyToCaller(f.InviteResponse(404, true, "Reason: Q.850;cause=1\r\n"), kT0 + 3);
  h.Feed(f.Request("ACK", true, false, "1", 1, true), CV_DIR_RECEIVED, kCaller, kProxy, kT0 + 40);
  ASSERT_EQ(h.cdrs.size(), 1u);
  const Cdr& c = h.cdrs[0];
  ExpectCallerSide(c, f, h.FirstInfo());
  EXPECT_EQ(c.disposition, Disposition::kFailed);
  EXPECT_EQ(c.released_by, ReleasedBy::kProxy);
  EXPECT_EQ(c.final_status, 404);
  EXPECT_EQ(c.q850_cause, 1);
  EXPECT_EQ(c.dst_addr, "");
  EXPECT_EQ(c.egress_trunk, "");
  EXPECT_EQ(c.callee_ua, "");  // the proxy's own responses are not the callee's
  EXPECT_EQ(c.post_dial_delay_ms, 3);
  EXPECT_EQ(h.tracker.stats().orphans, 0u);
}

TEST(CallTracker, RequestTimeout408) {
  Harness h;
  Flow relayed{"t408a"};
  h.Setup(relayed, kT0);
  h.FailDown(relayed, 408, kT0 + 30000);
  // The proxy's own timer C fired: only the SENT 408 exists.
  Flow own{"t408b"};
  h.Setup(own, kT0 + 100);
  h.ProxyToCaller(own.InviteResponse(408, true), kT0 + 40000);
  ASSERT_EQ(h.cdrs.size(), 2u);
  EXPECT_EQ(h.cdrs[0].call_id, relayed.call_id());
  EXPECT_EQ(h.cdrs[0].disposition, Disposition::kNoAnswer);
  EXPECT_EQ(h.cdrs[0].released_by, ReleasedBy::kCallee);
  EXPECT_EQ(h.cdrs[0].final_status, 408);
  EXPECT_EQ(h.cdrs[1].call_id, own.call_id());
  EXPECT_EQ(h.cdrs[1].disposition, Disposition::kNoAnswer);
  EXPECT_EQ(h.cdrs[1].released_by, ReleasedBy::kProxy);
  EXPECT_EQ(h.cdrs[1].final_status, 408);
  EXPECT_EQ(h.cdrs[1].end_time_ms, kT0 + 40000);
}

TEST(CallTracker, NoFinalResponseTimesOut) {
  Harness h;
  Flow f{"nofin"};
  h.Setup(f, kT0);
  h.tracker.Tick(kT0 + 120000 - 1);
  EXPECT_TRUE(h.cdrs.empty());
  h.tracker.Tick(kT0 + 120000);
  ASSERT_EQ(h.cdrs.size(), 1u);
  const Cdr& c = h.cdrs[0];
  ExpectCallerSide(c, f, h.FirstInfo());
  EXPECT_EQ(c.disposition, Disposition::kNoAnswer);
  EXPECT_EQ(c.released_by, ReleasedBy::kTimeout);
  EXPECT_EQ(c.flags, kCdrFlagNoFinalResponse);
  EXPECT_EQ(c.final_status, 0);
  EXPECT_EQ(c.end_time_ms, kT0 + 120000);
  EXPECT_EQ(c.ring_time_ms, kRing);
  EXPECT_EQ(c.post_dial_delay_ms, 1000);
  // A response arriving later finds only the tombstone.
  h.Down(f.InviteResponse(200, false), f.InviteResponse(200, true), kT0 + 121000);
  EXPECT_EQ(h.cdrs.size(), 1u);
  EXPECT_EQ(h.tracker.stats().orphans, 0u);
}

TEST(CallTracker, ReinvitesNeverCreateCdrs) {
  Harness h;
  Flow f{"reinv"};
  h.Setup(f, kT0);
  h.Answer(f, kAnswer);
  // Session refresh from the caller (CSeq 2), then a hold from the callee.
  h.Up(f.Request("INVITE", true, false, "r1", 2, true, "", kOffer),
       f.Request("INVITE", true, true, "r1", 2, true, "", kOffer), kAnswer + 10000);
  h.Down(f.Response(200, "INVITE", 2, true, false, "r1", true, "", kAnswerG729),
         f.Response(200, "INVITE", 2, true, true, "r1", true, "", kAnswerG729), kAnswer + 10050);
  h.Up(f.Request("ACK", true, false, "r1a", 2, true), f.Request("ACK", true, true, "r1a", 2, true),
       kAnswer + 10060);
  h.Feed(f.Request("INVITE", false, false, "r2", 1, true, "", kAnswerG729), CV_DIR_RECEIVED, kCallee,
         kProxy, kAnswer + 20000);
  h.Feed(f.Request("INVITE", false, true, "r2", 1, true, "", kAnswerG729), CV_DIR_SENT, kProxy, kCaller,
         kAnswer + 20001);
  // The callee's re-INVITE has CSeq 1, the same number as the initial
  // INVITE: its 200 must not be taken for the initial INVITE's.
  h.Feed(f.Response(200, "INVITE", 1, false, false, "r2"), CV_DIR_RECEIVED, kCaller, kProxy, kAnswer + 20100);
  h.Feed(f.Response(200, "INVITE", 1, false, true, "r2"), CV_DIR_SENT, kProxy, kCallee, kAnswer + 20101);
  EXPECT_TRUE(h.cdrs.empty());
  h.CallerBye(f, kAnswer + 40000, 3);
  ASSERT_EQ(h.cdrs.size(), 1u);
  const Cdr& c = h.cdrs[0];
  EXPECT_EQ(c.flags, kCdrFlagReinvite);
  EXPECT_EQ(c.answer_time_ms, kAnswer);
  EXPECT_EQ(c.codecs_answered, "PCMA,telephone-event");  // the initial answer, not the re-INVITE's
  EXPECT_EQ(c.duration_ms, 40000);
  EXPECT_EQ(c.released_by, ReleasedBy::kCaller);
  const TrackerStats s = h.tracker.stats();
  EXPECT_EQ(s.calls_started, 1u);
  EXPECT_EQ(s.cdrs_emitted, 1u);
  EXPECT_EQ(s.reinvites, 2u);
  EXPECT_EQ(s.retransmissions, 0u);
  EXPECT_EQ(s.orphans, 0u);
}

TEST(CallTracker, RetransmissionsAreDeduplicated) {
  Harness h;
  Flow f{"retx"};
  h.Setup(f, kT0);
  // The caller retransmits the INVITE (timer A); the proxy absorbs it.
  h.Feed(f.Invite(false), CV_DIR_RECEIVED, kCaller, kProxy, kT0 + 500, "carrier-in");
  // The callee retransmits its 200 until the ACK arrives; the proxy relays it.
  h.Down(f.InviteResponse(200, false, "", kAnswerPcma), f.InviteResponse(200, true, "", kAnswerPcma), kAnswer);
  h.Down(f.InviteResponse(200, false, "", kAnswerPcma), f.InviteResponse(200, true, "", kAnswerPcma), kAnswer + 500);
  h.Up(f.Request("ACK", true, false, "a", 1, true), f.Request("ACK", true, true, "a", 1, true), kAnswer + 600);
  // BYE lost once and retransmitted: the second pair arrives after the close.
  const int64_t bye = kAnswer + 20000;
  h.Up(f.Request("BYE", true, false, "b", 2, true), f.Request("BYE", true, true, "b", 2, true), bye);
  h.Up(f.Request("BYE", true, false, "b", 2, true), f.Request("BYE", true, true, "b", 2, true), bye + 500);
  h.Down(f.Response(200, "BYE", 2, true, false, "b"), f.Response(200, "BYE", 2, true, true, "b"), bye + 520);
  // A very late INVITE retransmission after the close.
  h.Feed(f.Invite(false), CV_DIR_RECEIVED, kCaller, kProxy, bye + 1000, "carrier-in");
  ASSERT_EQ(h.cdrs.size(), 1u);
  EXPECT_EQ(h.cdrs[0].answer_time_ms, kAnswer);
  EXPECT_EQ(h.cdrs[0].end_time_ms, bye);
  EXPECT_EQ(h.cdrs[0].invite_time_ms, kT0);
  EXPECT_EQ(h.cdrs[0].record_id, CallTracker::MakeRecordId(kNode, h.FirstInfo()));
  const TrackerStats s = h.tracker.stats();
  EXPECT_EQ(s.calls_started, 1u);
  // INVITE x2 (once open, once after close), 200 x2 (both copies), BYE x2.
  EXPECT_EQ(s.retransmissions, 6u);
  EXPECT_EQ(s.orphans, 0u);
}

TEST(CallTracker, Several18xAndEarlyMedia) {
  Harness h;
  Flow a{"early1"};
  h.Setup(a, kT0);  // 180 at +1000
  h.Down(a.InviteResponse(183, false, "", kAnswerG729), a.InviteResponse(183, true, "", kAnswerG729), kT0 + 2000);
  h.Down(a.InviteResponse(180, false), a.InviteResponse(180, true), kT0 + 3000);
  h.Answer(a, kAnswer, /*sdp=*/"");  // 200 without SDP: the 183's answer stands
  h.CallerBye(a, kAnswer + 1000);
  Flow b{"early2"};
  h.Setup(b, kT0 + 10, /*ring_after=*/0);
  h.Down(b.InviteResponse(183, false, "", kAnswerG729), b.InviteResponse(183, true, "", kAnswerG729), kT0 + 2500);
  h.Answer(b, kAnswer, kAnswerPcma);  // the 2xx's SDP is the final answer
  h.CallerBye(b, kAnswer + 1000);
  ASSERT_EQ(h.cdrs.size(), 2u);
  EXPECT_EQ(h.cdrs[0].ring_time_ms, kRing);
  EXPECT_EQ(h.cdrs[0].post_dial_delay_ms, 1000);
  EXPECT_EQ(h.cdrs[0].codecs_answered, "G729");
  EXPECT_EQ(h.cdrs[1].ring_time_ms, kT0 + 2500);
  EXPECT_EQ(h.cdrs[1].post_dial_delay_ms, 2490);
  EXPECT_EQ(h.cdrs[1].codecs_answered, "PCMA,telephone-event");
}

TEST(CallTracker, AnswerWithoutRinging) {
  Harness h;
  Flow f{"noring"};
  h.Setup(f, kT0, /*ring_after=*/0);
  h.Answer(f, kT0 + 700);
  h.CalleeBye(f, kT0 + 10700);
  ASSERT_EQ(h.cdrs.size(), 1u);
  EXPECT_EQ(h.cdrs[0].ring_time_ms, 0);
  EXPECT_EQ(h.cdrs[0].answer_time_ms, kT0 + 700);
  EXPECT_EQ(h.cdrs[0].post_dial_delay_ms, 700);
  EXPECT_EQ(h.cdrs[0].duration_ms, 10000);
  EXPECT_EQ(h.cdrs[0].disposition, Disposition::kAnswered);
}

TEST(CallTracker, ByeNeverSeenHitsMaxDuration) {
  Harness h;
  Flow f{"maxdur"};
  h.Setup(f, kT0);
  h.Answer(f, kAnswer);
  h.tracker.Tick(kAnswer + 3600 * 1000 - 1);
  EXPECT_TRUE(h.cdrs.empty());
  h.tracker.Tick(kAnswer + 3600 * 1000 + 5);
  ASSERT_EQ(h.cdrs.size(), 1u);
  const Cdr& c = h.cdrs[0];
  EXPECT_EQ(c.disposition, Disposition::kAnswered);
  EXPECT_EQ(c.released_by, ReleasedBy::kTimeout);
  EXPECT_EQ(c.flags, kCdrFlagMaxDuration);
  EXPECT_EQ(c.end_time_ms, kAnswer + 3600 * 1000);
  EXPECT_EQ(c.duration_ms, 3600 * 1000);
  EXPECT_EQ(c.billable_seconds, 3600);
  EXPECT_EQ(c.final_status, 200);
}

TEST(CallTracker, LaterMessagesExpireDeadlinesWithoutTick) {
  Harness h;
  Flow stale{"stale"};
  h.Setup(stale, kT0);
  // No Tick: the next call's INVITE, 200 s later, closes the first by timeout.
  Flow next{"next"};
  h.Up(next.Invite(false), next.Invite(true), kT0 + 200000);
  ASSERT_EQ(h.cdrs.size(), 1u);
  EXPECT_EQ(h.cdrs[0].call_id, stale.call_id());
  EXPECT_EQ(h.cdrs[0].end_time_ms, kT0 + 120000);
  EXPECT_EQ(h.tracker.stats().active_calls, 1u);
}

TEST(CallTracker, SerialFailoverReportsTheLastDestination) {
  Harness h;
  Flow f{"failover"};
  h.Setup(f, kT0, /*ring_after=*/0);
  // The first gateway refuses; the proxy tries a second one (new branch).
  h.Feed(f.InviteResponse(503, false), CV_DIR_RECEIVED, kCallee, kProxy, kT0 + 300);
  h.Feed(f.Request("ACK", true, true, "1", 1, true), CV_DIR_SENT, kProxy, kCallee, kT0 + 301);
  h.Feed(f.Invite(true, "2"), CV_DIR_SENT, kProxy, kCallee2, kT0 + 302, {}, "carrier-b");
  EXPECT_TRUE(h.cdrs.empty());
  h.Feed(f.InviteResponse(200, false, "", kAnswerPcma, "2"), CV_DIR_RECEIVED, kCallee2, kProxy, kT0 + 900);
  h.ProxyToCaller(f.InviteResponse(200, true, "", kAnswerPcma), kT0 + 901);
  h.CallerBye(f, kT0 + 5900);
  ASSERT_EQ(h.cdrs.size(), 1u);
  EXPECT_EQ(h.cdrs[0].disposition, Disposition::kAnswered);
  EXPECT_EQ(h.cdrs[0].dst_addr, "198.51.100.30:5080");
  EXPECT_EQ(h.cdrs[0].egress_trunk, "carrier-b");
  EXPECT_EQ(h.cdrs[0].duration_ms, 5000);
}

TEST(CallTracker, CancelLosesRaceWithAnswer) {
  Harness h;
  Flow f{"race"};
  h.Setup(f, kT0);
  h.Up(f.Request("CANCEL", true, false, "1", 1, false, "Reason: Q.850;cause=16\r\n"),
       f.Request("CANCEL", true, true, "1", 1, false, "Reason: Q.850;cause=16\r\n"), kT0 + 4990);
  h.Answer(f, kAnswer);
  h.CalleeBye(f, kAnswer + 2000);
  ASSERT_EQ(h.cdrs.size(), 1u);
  EXPECT_EQ(h.cdrs[0].disposition, Disposition::kAnswered);
  EXPECT_EQ(h.cdrs[0].released_by, ReleasedBy::kCallee);
  EXPECT_EQ(h.cdrs[0].reason, "");
  EXPECT_EQ(h.cdrs[0].q850_cause, 0);
}

TEST(CallTracker, NewAttemptAfterAuthChallenge) {
  Harness h;
  Flow f{"auth"};
  h.Feed(f.Invite(false), CV_DIR_RECEIVED, kCaller, kProxy, kT0, "carrier-in");
  h.ProxyToCaller(f.InviteResponse(407, true), kT0 + 2);
  h.Feed(f.Request("ACK", true, false, "1", 1, true), CV_DIR_RECEIVED, kCaller, kProxy, kT0 + 30);
  const CaptureInfo second_invite_info = [&] {
    h.Up(f.Invite(false, "3", 2), f.Invite(true, "3", 2), kT0 + 60);
    return h.script[h.script.size() - 2].info;
  }();
  h.Down(f.InviteResponse(200, false, "", kAnswerPcma, "3", 2), f.InviteResponse(200, true, "", kAnswerPcma, "3", 2),
         kT0 + 1060);
  h.CallerBye(f, kT0 + 2060, 3);
  ASSERT_EQ(h.cdrs.size(), 2u);
  EXPECT_EQ(h.cdrs[0].final_status, 407);
  EXPECT_EQ(h.cdrs[0].released_by, ReleasedBy::kProxy);
  EXPECT_EQ(h.cdrs[0].disposition, Disposition::kFailed);
  EXPECT_EQ(h.cdrs[0].record_id, CallTracker::MakeRecordId(kNode, h.FirstInfo()));
  EXPECT_EQ(h.cdrs[1].disposition, Disposition::kAnswered);
  EXPECT_EQ(h.cdrs[1].invite_time_ms, kT0 + 60);
  EXPECT_EQ(h.cdrs[1].record_id, CallTracker::MakeRecordId(kNode, second_invite_info));
  EXPECT_NE(h.cdrs[0].record_id, h.cdrs[1].record_id);
  EXPECT_EQ(h.tracker.stats().calls_started, 2u);
}

TEST(CallTracker, HostLiFlagAndIpv6Addresses) {
  Harness h;
  Flow f{"v6li"};
  const cv_addr caller6 = V6({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10}, 5062);
  const cv_addr proxy6 = V6({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01}, 5060);
  h.Feed(f.Invite(false), CV_DIR_RECEIVED, caller6, proxy6, kT0, "carrier-v6");
  h.Feed(f.Invite(true), CV_DIR_SENT, kProxy, kCallee, kT0 + 1, {}, "carrier-out", CV_FLAG_LI);
  h.FailDown(f, 480, kT0 + 9000);
  ASSERT_EQ(h.cdrs.size(), 1u);
  EXPECT_EQ(h.cdrs[0].src_addr, "[2001:db8::10]:5062");
  EXPECT_EQ(h.cdrs[0].dst_addr, "198.51.100.20:5060");
  EXPECT_EQ(h.cdrs[0].ingress_trunk, "carrier-v6");
  EXPECT_EQ(h.cdrs[0].flags, kCdrFlagHostLi);
  EXPECT_EQ(h.cdrs[0].disposition, Disposition::kNoAnswer);
  EXPECT_EQ(h.cdrs[0].released_by, ReleasedBy::kCallee);
}

TEST(CallTracker, OrphansAndNonCallTraffic) {
  Harness h;
  Flow ghost{"ghost"};
  h.Feed(ghost.Request("BYE", true, false, "b", 2, true), CV_DIR_RECEIVED, kCaller, kProxy, kT0);
  h.Feed(ghost.InviteResponse(200, false), CV_DIR_RECEIVED, kCallee, kProxy, kT0 + 1);
  // Out-of-dialog non-call traffic is not orphaned call signalling.
  h.Feed(ghost.Request("OPTIONS", true, false, "o", 1, false), CV_DIR_RECEIVED, kCaller, kProxy, kT0 + 2);
  h.Feed(ghost.Request("REGISTER", true, false, "g", 1, false), CV_DIR_RECEIVED, kCaller, kProxy, kT0 + 3);
  EXPECT_EQ(h.tracker.stats().orphans, 2u);
  // After lingering ends, a late BYE retransmission is an orphan too.
  Flow f{"late"};
  h.Setup(f, kT0 + 10);
  h.Answer(f, kAnswer);
  h.CallerBye(f, kAnswer + 1000);
  h.tracker.Tick(kAnswer + 1000 + 32000 + 20);
  EXPECT_EQ(h.tracker.stats().lingering_calls, 0u);
  h.Feed(f.Request("BYE", true, false, "b", 2, true), CV_DIR_RECEIVED, kCaller, kProxy, kAnswer + 40000);
  EXPECT_EQ(h.tracker.stats().orphans, 3u);
  EXPECT_EQ(h.cdrs.size(), 1u);
  EXPECT_EQ(h.tracker.stats().calls_started, 1u);
}

TEST(CallTracker, CapacityLimitRefusesAndCounts) {
  TrackerOptions o = Harness::Options();
  o.max_active_calls = 2;
  Harness h(o);
  Flow a{"capa"}, b{"capb"}, c{"capc"}, d{"capd"};
  h.Setup(a, kT0);
  h.Setup(b, kT0 + 10);
  h.Setup(c, kT0 + 20);  // refused: both copies and its 100/180 are one refusal
  h.Answer(c, kAnswer);
  TrackerStats s = h.tracker.stats();
  EXPECT_EQ(s.calls_started, 2u);
  EXPECT_EQ(s.active_calls, 2u);
  EXPECT_EQ(s.rejected_capacity, 1u);
  EXPECT_EQ(s.orphans, 0u);
  // Closing one call frees a slot; lingering calls do not count.
  h.FailDown(a, 486, kT0 + 3000);
  h.Setup(d, kT0 + 3100);
  s = h.tracker.stats();
  EXPECT_EQ(s.calls_started, 3u);
  EXPECT_EQ(s.active_calls, 2u);
  EXPECT_EQ(s.lingering_calls, 1u);
  EXPECT_EQ(s.rejected_capacity, 1u);
  ASSERT_EQ(h.cdrs.size(), 1u);
  EXPECT_EQ(h.cdrs[0].call_id, a.call_id());
}

// Runs a day of mixed calls through one tracker, and through a second one
// that is snapshotted and restored into a third midway.
TEST(CallTracker, SnapshotRestoreThenReplayIsIdentical) {
  Harness full;
  Flow ans{"s-ans"}, can{"s-can"}, busy{"s-busy"}, hang{"s-hang"}, mx{"s-max"}, done{"s-done"};
  full.Setup(done, kT0);
  full.FailDown(done, 503, kT0 + 2000);  // closed before the snapshot: lingering in it
  full.Setup(ans, kT0 + 10);
  full.Answer(ans, kAnswer);
  full.Setup(can, kT0 + 20);
  full.Setup(busy, kT0 + 30, 0);
  full.Setup(hang, kT0 + 40);
  full.Setup(mx, kT0 + 50);
  full.Answer(mx, kAnswer + 50);
  full.Feed(ans.Invite(false), CV_DIR_RECEIVED, kCaller, kProxy, kAnswer + 100, "carrier-in");  // retransmission
  const size_t cut = full.script.size();
  full.Up(ans.Request("INVITE", true, false, "r", 2, true, "", kOffer),
          ans.Request("INVITE", true, true, "r", 2, true, "", kOffer), kAnswer + 9000);
  full.CalleeBye(ans, kAnswer + 20000);
  full.Up(can.Request("CANCEL", true, false, "1", 1, false), can.Request("CANCEL", true, true, "1", 1, false),
          kT0 + 9000);
  full.FailDown(can, 487, kT0 + 9050);
  full.FailDown(busy, 486, kT0 + 9100, "Reason: Q.850;cause=17\r\n");
  // The caller retransmits its ACK for the 503 to the lingering call.
  full.Feed(done.Request("ACK", true, false, "1", 1, true), CV_DIR_RECEIVED, kCaller, kProxy, kT0 + 9200);
  full.tracker.Tick(kAnswer + 3600 * 1000 + 100);  // hang: invite timeout; mx: max duration
  ASSERT_EQ(full.cdrs.size(), 6u);

  Harness first;
  for (size_t i = 0; i < cut; ++i) first.Replay(full.script[i]);
  const std::string snapshot = first.tracker.Serialize();
  const TrackerStats at_cut = first.tracker.stats();
  EXPECT_EQ(at_cut.active_calls, 5u);
  EXPECT_EQ(at_cut.lingering_calls, 1u);

  Harness second;
  std::string err;
  ASSERT_TRUE(second.tracker.Restore(snapshot, &err)) << err;
  EXPECT_EQ(second.tracker.Serialize(), snapshot);  // encoding is deterministic
  for (size_t i = cut; i < full.script.size(); ++i) second.Replay(full.script[i]);
  second.tracker.Tick(kAnswer + 3600 * 1000 + 100);

  std::vector<std::string> expected, actual;
  for (const Cdr& c : full.cdrs) expected.push_back(CdrToJson(c));
  for (const Cdr& c : first.cdrs) actual.push_back(CdrToJson(c));
  for (const Cdr& c : second.cdrs) actual.push_back(CdrToJson(c));
  EXPECT_EQ(actual, expected);
  const TrackerStats a = full.tracker.stats(), b = second.tracker.stats();
  EXPECT_EQ(b.calls_started, a.calls_started);
  EXPECT_EQ(b.cdrs_emitted, a.cdrs_emitted);
  EXPECT_EQ(b.retransmissions, a.retransmissions);
  EXPECT_EQ(b.reinvites, a.reinvites);
  EXPECT_EQ(b.orphans, a.orphans);
  EXPECT_EQ(b.active_calls, a.active_calls);
  EXPECT_EQ(b.lingering_calls, a.lingering_calls);
  EXPECT_EQ(a.orphans, 0u);
  EXPECT_EQ(a.retransmissions, 2u);  // the INVITE before the cut, the ACK after it
}

TEST(CallTracker, RestoreRejectsDamagedSnapshotsAndKeepsState) {
  Harness h;
  Flow f{"keep"}, gone{"gone"};
  h.Setup(gone, kT0);
  h.FailDown(gone, 503, kT0 + 500);  // a lingering call in the snapshot too
  const size_t f_invite = h.script.size();
  h.Setup(f, kT0 + 10);
  const std::string good = h.tracker.Serialize();
  std::string err;
  // Every strict prefix is refused cleanly, and leaves the state as it was.
  for (size_t n = 0; n < good.size(); ++n) {
    err.clear();
    EXPECT_FALSE(h.tracker.Restore(good.substr(0, n), &err)) << n;
    EXPECT_EQ(err.rfind("tracker snapshot: ", 0), 0u) << err;
    EXPECT_EQ(err.find(f.call_id()), std::string::npos) << err;
  }
  EXPECT_FALSE(h.tracker.Restore(good + '\0', &err));
  EXPECT_NE(err.find("trailing bytes"), std::string::npos) << err;
  std::string bad = good;
  bad[0] = 'X';
  EXPECT_FALSE(h.tracker.Restore(bad, &err));
  EXPECT_NE(err.find("bad magic"), std::string::npos) << err;
  bad = good;
  bad[4] = 9;
  EXPECT_FALSE(h.tracker.Restore(bad, &err));
  EXPECT_NE(err.find("version 9"), std::string::npos) << err;
  const TrackerStats s = h.tracker.stats();
  EXPECT_EQ(s.active_calls, 1u);
  EXPECT_EQ(s.lingering_calls, 1u);
  EXPECT_EQ(h.tracker.Serialize(), good);

  // Restoring into a fresh tracker gives the same calls back.
  Harness other;
  ASSERT_TRUE(other.tracker.Restore(good, &err)) << err;
  EXPECT_EQ(other.tracker.stats().active_calls, 1u);
  EXPECT_EQ(other.tracker.stats().lingering_calls, 1u);
  EXPECT_EQ(other.tracker.stats().calls_started, 2u);
  other.Answer(f, kAnswer);
  other.CallerBye(f, kAnswer + 1000);
  ASSERT_EQ(other.cdrs.size(), 1u);
  EXPECT_EQ(other.cdrs[0].record_id, CallTracker::MakeRecordId(kNode, h.script[f_invite].info));
  EXPECT_EQ(other.cdrs[0].call_id, f.call_id());
  EXPECT_EQ(other.cdrs[0].caller_pai, "+4989222222");
}

}  // namespace
}  // namespace callvault::testing
