#include "module/analytics/analytics_pipeline.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "module/analytics/epoch_key_store.h"
#include "module/analytics/jsonl_sink.h"
#include "module/analytics/tcp_sink.h"
#include "tests/module/analytics/test_util.h"

namespace callvault {
namespace {

using testing::ReadText;
using testing::SampleCdr;
using testing::TempDir;

std::map<std::string, uint64_t> StatsOf(const AnalyticsPipeline& p) {
  std::map<std::string, uint64_t> m;
  p.Stats([&](std::string_view name, uint64_t v) { m[std::string(name)] = v; });
  return m;
}

size_t LineCount(const std::string& path) {
  const std::string text = ReadText(path);
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

Cdr NthCdr(int i) {
  Cdr c = SampleCdr();
  c.record_id = "rec-" + std::to_string(i);
  c.caller = "+9198765" + std::to_string(10000 + i);
  return c;
}

// Holds the epoch file's writer lock, so the analytics thread blocks when it
// first needs to create an epoch: a real stall of the real component.
class EpochLockHolder {
 public:
  explicit EpochLockHolder(const std::string& epoch_file) {
    fd_ = ::open((epoch_file + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    ::flock(fd_, LOCK_EX);
  }
  ~EpochLockHolder() { Release(); }
  void Release() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

struct Rig {
  TempDir dir;
  Keyring keyring = Keyring::Generate();
  std::string epochs = dir / "analytics-epochs";
  std::string events = dir / "events.jsonl";

  AnalyticsPipeline::Parts Parts(size_t queue_events) {
    AnalyticsPipeline::Parts p;
    std::string error;
    p.keys = EpochKeyStore::Open(epochs, keyring, &error);
    JsonlSinkOptions o;
    o.path = events;
    p.sinks.push_back(JsonlFileSink::Open(o, &error));
    p.queue_events = queue_events;
    return p;
  }
};

TEST(AnalyticsPipeline, QueueOverflowIsCountedAndNeverBlocks) {
  Rig rig;
  std::string error;
  EpochLockHolder stall(rig.epochs);
  auto p = AnalyticsPipeline::Create(rig.Parts(16), &error);
  ASSERT_NE(p, nullptr) << error;

  ASSERT_TRUE(p->Submit(NthCdr(0)));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // thread now stuck on the lock

  auto slowest = std::chrono::nanoseconds(0);
  int accepted = 0;
  for (int i = 1; i <= 100; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    accepted += p->Submit(NthCdr(i)) ? 1 : 0;
    slowest = std::max(slowest, std::chrono::steady_clock::now() - t0);
  }
  EXPECT_EQ(accepted, 16);
  EXPECT_LT(slowest, std::chrono::milliseconds(20));
  // Journal-fed records are refused, not dropped, when the queue is full.
  EXPECT_FALSE(p->Offer(NthCdr(101), JournalPosition{1, 1}));
  auto s = StatsOf(*p);
  EXPECT_EQ(s["analytics.submitted"], 101u);
  EXPECT_EQ(s["analytics.queue_dropped"], 84u);
  EXPECT_EQ(s["analytics.queue_refused"], 1u);
  EXPECT_EQ(s["analytics.queue_depth"], 16u);

  stall.Release();
  ASSERT_TRUE(p->WaitIdle(std::chrono::seconds(10)));
  s = StatsOf(*p);
  EXPECT_EQ(s["analytics.events"], 17u);
  EXPECT_EQ(s["analytics.sink0_jsonl.written"], 17u);
  EXPECT_EQ(s["analytics.sink0_jsonl.dropped"], 0u);
  EXPECT_EQ(LineCount(rig.events), 17u);
  // Every line is a complete event.
  const std::string text = ReadText(rig.events);
  EXPECT_EQ(nlohmann::json::parse(text.substr(0, text.find('\n')))["schema_version"], 1);
}

TEST(AnalyticsPipeline, AckedFollowsDeliveryToEverySink) {
  Rig rig;
  std::string error;
  // A TCP collector that is not there yet.
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int one = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  // Bound but not listening: connects are refused until listen().

  auto parts = rig.Parts(1024);
  TcpSinkOptions t;
  t.host = "127.0.0.1";
  t.port = ntohs(addr.sin_port);
  t.retry_initial_ms = 20;
  t.retry_max_ms = 50;
  parts.sinks.push_back(std::make_unique<TcpSink>(t));
  auto p = AnalyticsPipeline::Create(std::move(parts), &error);
  ASSERT_NE(p, nullptr) << error;

  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(p->Offer(NthCdr(i), JournalPosition{7, uint64_t(i) * 100}));
  ASSERT_TRUE(p->WaitIdle(std::chrono::seconds(10)));
  // In the file, not yet at the collector: nothing may be acked.
  EXPECT_EQ(LineCount(rig.events), 3u);
  EXPECT_FALSE(p->Acked().has_value());

  ASSERT_EQ(::listen(listener, 4), 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (p->Acked() != JournalPosition{7, 300} && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(p->Acked(), (JournalPosition{7, 300}));
  EXPECT_EQ(StatsOf(*p)["analytics.sink1_tcp.written"], 3u);
  p->Stop();
  ::close(listener);
}

TEST(AnalyticsPipeline, RetiredEpochSettlesWithoutAnEvent) {
  Rig rig;
  std::string error;
  EpochKeyStore::RetireResult r;
  ASSERT_TRUE(EpochKeyStore::Retire(rig.epochs, "2026-11", 0, &r, &error));
  auto p = AnalyticsPipeline::Create(rig.Parts(64), &error);
  ASSERT_NE(p, nullptr) << error;
  Cdr december = NthCdr(2);
  december.invite_time_ms += 31LL * 86400000;
  ASSERT_TRUE(p->Offer(NthCdr(1), JournalPosition{1, 10}));
  ASSERT_TRUE(p->Offer(december, JournalPosition{1, 20}));
  ASSERT_TRUE(p->WaitIdle(std::chrono::seconds(10)));
  auto s = StatsOf(*p);
  EXPECT_EQ(s["analytics.epoch_retired"], 1u);
  EXPECT_EQ(s["analytics.events"], 1u);
  EXPECT_EQ(p->Acked(), (JournalPosition{1, 20}));
  EXPECT_EQ(LineCount(rig.events), 1u);
  EXPECT_NE(ReadText(rig.events).find("\"epoch\":\"2026-12\""), std::string::npos);
}

TEST(AnalyticsPipeline, CreateFromConfig) {
  TempDir dir;
  Config config;
  config.path = dir / "callvault.yaml";
  config.journal.dir = dir.path();
  config.capture.state_dir = dir.path();
  config.analytics.enabled = true;
  config.analytics.epoch = "day";
  AnalyticsSinkConfig jsonl;
  jsonl.type = "jsonl";
  jsonl.path = dir / "events.jsonl";
  config.analytics.sinks.push_back(jsonl);
  std::string error;
  auto p = AnalyticsPipeline::Create(config, Keyring::Generate(), &error);
  ASSERT_NE(p, nullptr) << error;
  ASSERT_TRUE(p->Submit(SampleCdr()));
  ASSERT_TRUE(p->WaitIdle(std::chrono::seconds(10)));
  p->Stop();
  EXPECT_FALSE(p->Submit(SampleCdr()));  // stopped
  EXPECT_NE(ReadText(dir / "events.jsonl").find("\"epoch\":\"2026-11-27\""), std::string::npos);
  EXPECT_NE(ReadText(dir / "analytics-epochs").find("epoch 2026-11-27 "), std::string::npos);

  config.analytics.ip_mode = "bogus";
  EXPECT_EQ(AnalyticsPipeline::Create(config, Keyring::Generate(), &error), nullptr);
  EXPECT_NE(error.find("analytics.ip_mode"), std::string::npos);
  config.analytics.ip_mode = "truncate";
  config.analytics.sinks[0].path = dir / "events.jsonl/under-a-file.jsonl";
  EXPECT_EQ(AnalyticsPipeline::Create(config, Keyring::Generate(), &error), nullptr);
  EXPECT_NE(error.find("analytics.sinks[0]"), std::string::npos) << error;
}

}  // namespace
}  // namespace callvault
