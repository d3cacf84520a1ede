// kill -9 of the proxy in the middle of a SIPp run.  The proxy is restarted
// at once on the same port; the module in the new process resumes from the
// shared-memory ring and its checkpoint.  Every call SIPp placed reached the
// hook at least once (SIPp retransmits the INVITE across the short outage), so
// once every call has ended or timed out there must be exactly one CDR per
// call: none lost, none duplicated by the replay.
#include <signal.h>

#include <chrono>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "tests/e2e/deployment.h"
#include "tests/e2e/process.h"

namespace callvault::e2e {
namespace {

using namespace std::chrono_literals;

constexpr int kCalls = 400;
constexpr int kRate = 80;  // calls per second

bool WaitFor(const std::string& file, const std::string& text, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ReadFile(file).find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

TEST(CrashTest, KillDashNineMidRunLosesAndDuplicatesNothing) {
  // No checkpoint before the kill at 2.5 s (the first is due at 5 s): every
  // message of the first process is still in the ring and must be replayed,
  // with the CDRs it already journaled recognised, not written twice.  The
  // ring holds both processes' messages between checkpoints.
  Deployment d("crash", ModuleOptions{.invite_timeout_s = 5,
                                      .max_call_duration_s = 8,
                                      .slots = 32768,
                                      .checkpoint_interval_ms = 5000});
  const auto dir = d.dir();
  const int proxy_port = FreeUdpPort(), uas_port = FreeUdpPort(), uac_port = FreeUdpPort();
  ASSERT_NE(proxy_port, uas_port);
  std::ofstream(dir / "proxy.yaml")
      << "listen: [\"sip:127.0.0.1:" << proxy_port << ";transport=udp\"]\n"
      << "trunks:\n"
      << "  - { name: pstn-in, ingress_cidrs: [\"127.0.0.0/8\"], default_egress: carrier-b }\n"
      << "  - { name: carrier-b, next_hop: \"sip:127.0.0.1:" << uas_port << "\" }\n"
      << "record_route: true\n"
      << d.proxy_module_yaml();

  auto start_proxy = [&](int n) {
    const std::string out = (dir / ("proxy" + std::to_string(n) + ".out")).string();
    auto p = Process::Start({ProxyBinary(), "--config", (dir / "proxy.yaml").string()}, out);
    EXPECT_TRUE(WaitFor(out, "ready ", 10s)) << ReadFile(out);
    return p;
  };

  const std::string scenarios = SourceDir() + "/sipp-scenarios";
  Process uas = Process::Start({"sipp", "-sf", scenarios + "/uas_load.xml", "-i", "127.0.0.1", "-p",
                                std::to_string(uas_port), "-nostdin", "-bind_local"},
                               (dir / "uas.log").string());
  Process proxy = start_proxy(1);
  Process uac = Process::Start(
      {"sipp", "-sf", scenarios + "/uac_load.xml", "-inf", scenarios + "/numbers.csv",
       "127.0.0.1:" + std::to_string(proxy_port), "-i", "127.0.0.1", "-p", std::to_string(uac_port),
       "-m", std::to_string(kCalls), "-r", std::to_string(kRate), "-d", "1000", "-nostdin",
       "-recv_timeout", "20000", "-timeout", "120s", "-trace_stat", "-stf",
       (dir / "uac_stat.csv").string()},
      (dir / "uac.log").string());

  // Mid-run: about 200 calls placed, ~80 of them in progress.
  std::this_thread::sleep_for(2500ms);
  ASSERT_TRUE(proxy.running());
  proxy.Signal(SIGKILL);
  ASSERT_EQ(proxy.Wait(5s), 128 + SIGKILL);
  proxy = start_proxy(2);

  ASSERT_NE(uac.Wait(150s), -1) << "SIPp caller did not finish";
  // Calls whose BYE or 200 was lost in the outage close by the tracker's
  // timeouts (invite 5 s, max duration 8 s).
  std::this_thread::sleep_for(10s);
  ASSERT_EQ(proxy.Stop(), 0);
  uas.Stop();

  const std::vector<Cdr> cdrs = d.ReadCdrs();
  std::map<std::string, int> per_call;
  for (const Cdr& c : cdrs) ++per_call[c.call_id];
  int duplicated = 0;
  for (const auto& [id, n] : per_call) duplicated += n > 1;
  EXPECT_EQ(duplicated, 0);
  EXPECT_EQ(per_call.size(), static_cast<size_t>(kCalls));
  EXPECT_EQ(cdrs.size(), static_cast<size_t>(kCalls));

  // The Call-IDs are exactly SIPp's: call numbers 1..kCalls.
  std::set<int> numbers;
  const std::regex sipp_id(R"(^(\d+)-\d+@127\.0\.0\.1$)");
  for (const auto& [id, n] : per_call) {
    std::smatch m;
    if (std::regex_match(id, m, sipp_id)) numbers.insert(std::stoi(m[1]));
  }
  EXPECT_EQ(numbers.size(), static_cast<size_t>(kCalls));
  if (!numbers.empty()) {
    EXPECT_EQ(*numbers.begin(), 1);
    EXPECT_EQ(*numbers.rbegin(), kCalls);
  }
  const std::string log = ReadFile((dir / "callvault.log").string());
  EXPECT_NE(log.find("resuming"), std::string::npos) << "the second process did not replay";
}

}  // namespace
}  // namespace callvault::e2e
