// SIPp through the real callvault-proxy with the real module loaded: each
// call outcome must yield exactly one CDR per call with the right status,
// disposition, releasing party, trunks and durations.
#include <algorithm>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "tests/e2e/deployment.h"

namespace callvault::e2e {
namespace {

constexpr int kCalls = 3;

struct Expect {
  const char* pair;
  int status;
  Disposition disposition;
  ReleasedBy released_by;
  bool rings;              // ring_time set
  int64_t min_duration_ms; // answered calls: from the scenario's pauses
  int64_t max_duration_ms;
  std::vector<std::string> extra_args = {};
  bool reaches_callee = true;
};

void PrintTo(const Expect& e, std::ostream* os) { *os << e.pair; }

class CdrScenarioTest : public ::testing::TestWithParam<Expect> {};

TEST_P(CdrScenarioTest, OneCorrectCdrPerCall) {
  const Expect& e = GetParam();
  Deployment d(std::string("scn-") + e.pair);
  ASSERT_EQ(d.RunScenario(e.pair, kCalls, e.extra_args), 0);
  const std::vector<Cdr> cdrs = d.ReadCdrs();
  ASSERT_EQ(cdrs.size(), static_cast<size_t>(kCalls));

  std::set<std::string> call_ids, record_ids;
  for (const Cdr& c : cdrs) {
    SCOPED_TRACE(c.record_id);
    call_ids.insert(c.call_id);
    record_ids.insert(c.record_id);
    EXPECT_EQ(c.final_status, e.status);
    EXPECT_EQ(c.disposition, e.disposition) << ToString(c.disposition);
    EXPECT_EQ(c.released_by, e.released_by) << ToString(c.released_by);
    EXPECT_EQ(c.ingress_trunk, "pstn-in");
    if (e.reaches_callee) EXPECT_EQ(c.egress_trunk, "carrier-b");
    EXPECT_FALSE(c.caller.empty());
    EXPECT_FALSE(c.callee.empty());
    EXPECT_GT(c.invite_time_ms, 0);
    EXPECT_GE(c.end_time_ms, c.invite_time_ms);
    EXPECT_EQ(c.ring_time_ms > 0, e.rings);
    if (e.disposition == Disposition::kAnswered) {
      EXPECT_GT(c.answer_time_ms, 0);
      EXPECT_GE(c.duration_ms, e.min_duration_ms);
      EXPECT_LE(c.duration_ms, e.max_duration_ms);
      EXPECT_EQ(c.billable_seconds, (c.duration_ms + 999) / 1000);
      EXPECT_EQ(c.codecs_offered, "PCMU,PCMA");
    } else {
      EXPECT_EQ(c.answer_time_ms, 0);
      EXPECT_EQ(c.duration_ms, 0);
    }
  }
  EXPECT_EQ(call_ids.size(), static_cast<size_t>(kCalls));
  EXPECT_EQ(record_ids.size(), static_cast<size_t>(kCalls));
}

// Durations: the caller's or callee's pause before BYE, with slack for
// SIPp's 4 ms timer resolution and a loaded 2-core machine.
INSTANTIATE_TEST_SUITE_P(
    Outcomes, CdrScenarioTest,
    ::testing::Values(
        Expect{"answered_caller_bye", 200, Disposition::kAnswered, ReleasedBy::kCaller, true, 900, 2500},
        Expect{"answered_callee_bye", 200, Disposition::kAnswered, ReleasedBy::kCallee, true, 900, 2500},
        Expect{"early_media", 200, Disposition::kAnswered, ReleasedBy::kCaller, true, 900, 2500},
        Expect{"answer_no_ring", 200, Disposition::kAnswered, ReleasedBy::kCaller, false, 900, 2500},
        Expect{"reinvite", 200, Disposition::kAnswered, ReleasedBy::kCaller, true, 0, 5000},
        Expect{"cancel", 487, Disposition::kCancelled, ReleasedBy::kCaller, true, 0, 0},
        Expect{"busy", 486, Disposition::kBusy, ReleasedBy::kCallee, false, 0, 0},
        Expect{"fail_503", 503, Disposition::kFailed, ReleasedBy::kCallee, false, 0, 0},
        Expect{"no_answer", 480, Disposition::kNoAnswer, ReleasedBy::kCallee, true, 0, 0},
        Expect{"unroutable", 404, Disposition::kFailed, ReleasedBy::kProxy, false, 0, 0,
               {"--no-default-egress", "--inf", SourceDir() + "/tests/sip/proxy/unroutable.csv"},
               false},
        Expect{"max_forwards", 483, Disposition::kFailed, ReleasedBy::kProxy, false, 0, 0, {}, false},
        Expect{"unreachable", 503, Disposition::kFailed, ReleasedBy::kProxy, false, 0, 0, {}, true}),
    [](const auto& info) { return std::string(info.param.pair); });

}  // namespace
}  // namespace callvault::e2e
