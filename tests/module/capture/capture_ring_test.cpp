#include "module/capture/capture_ring.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace callvault {
namespace {

std::string UniqueName(const char* tag) {
  return "/cv-test-" + std::string(tag) + "-" + std::to_string(::getpid());
}

cv_msg_meta Meta(const char* trunk = "in") {
  cv_msg_meta m{};
  m.struct_size = sizeof m;
  m.direction = CV_DIR_RECEIVED;
  m.src.family = 4;
  m.src.port = 5060;
  m.wall_ns = 1;
  m.mono_ns = 1;
  m.ingress_trunk = trunk;
  return m;
}

class RingTest : public ::testing::Test {
 protected:
  void TearDown() override { CaptureRing::Unlink(name_); }
  std::unique_ptr<CaptureRing> Open(RingGeometry g, RingOpenResult* r = nullptr) {
    RingOpenResult local;
    std::string err;
    auto ring = CaptureRing::Open(name_, g, r ? r : &local, &err);
    EXPECT_TRUE(ring) << err;
    return ring;
  }
  std::string name_ = UniqueName("ring");
};

TEST_F(RingTest, WrapsAroundManyTimesInOrder) {
  auto ring = Open({64, 1024});
  uint64_t next = 0;
  for (int i = 0; i < 64 * 50; ++i) {
    std::string body = "msg-" + std::to_string(i);
    ASSERT_EQ(ring->Push(Meta(), body.data(), body.size()), CV_OK);
    CapturedMessage m;
    ASSERT_TRUE(ring->Peek(next, &m));
    EXPECT_EQ(m.bytes, body);
    EXPECT_EQ(m.info.ingress_trunk, "in");
    ring->ReleaseUpTo(++next);
  }
  EXPECT_EQ(ring->enqueue_pos(), 64u * 50);
  EXPECT_EQ(ring->dropped_full(), 0u);
}

TEST_F(RingTest, FullRingDropsAndCountsWithoutBlocking) {
  auto ring = Open({64, 1024});
  for (int i = 0; i < 64; ++i) ASSERT_EQ(ring->Push(Meta(), "x", 1), CV_OK);
  EXPECT_EQ(ring->Push(Meta(), "x", 1), CV_DROPPED_FULL);
  EXPECT_EQ(ring->Push(Meta(), "x", 1), CV_DROPPED_FULL);
  EXPECT_EQ(ring->dropped_full(), 2u);
  ring->ReleaseUpTo(1);  // one slot back
  EXPECT_EQ(ring->Push(Meta(), "y", 1), CV_OK);
  EXPECT_EQ(ring->Push(Meta(), "y", 1), CV_DROPPED_FULL);
}

TEST_F(RingTest, OversizedMessageIsCountedNotCopied) {
  auto ring = Open({64, 1024});
  std::string big(ring->max_message_bytes() + 1, 'a');
  EXPECT_EQ(ring->Push(Meta(), big.data(), big.size()), CV_DROPPED_TOO_LARGE);
  EXPECT_EQ(ring->dropped_too_large(), 1u);
  EXPECT_EQ(ring->enqueue_pos(), 0u);
  std::string fits(ring->max_message_bytes(), 'b');
  EXPECT_EQ(ring->Push(Meta(), fits.data(), fits.size()), CV_OK);
}

TEST_F(RingTest, LongTrunkIdIsTruncatedSafely) {
  auto ring = Open({64, 1024});
  std::string trunk(100, 't');
  ASSERT_EQ(ring->Push(Meta(trunk.c_str()), "x", 1), CV_OK);
  CapturedMessage m;
  ASSERT_TRUE(ring->Peek(0, &m));
  EXPECT_EQ(m.info.ingress_trunk.size(), CV_TRUNK_MAX - 1u);
  EXPECT_TRUE(m.info.egress_trunk.empty());
}

// Several producers and one consumer: every message arrives exactly once and
// each producer's messages stay in order.
TEST_F(RingTest, SeveralProducersOneConsumerExactlyOnce) {
  constexpr int kProducers = 4;
  constexpr int kPerProducer = 50000;
  auto ring = Open({1024, 1024});
  std::atomic<uint64_t> dropped{0};
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      char buf[16];
      for (int i = 0; i < kPerProducer; ++i) {
        int n = std::snprintf(buf, sizeof buf, "%d:%d", p, i);
        while (ring->Push(Meta(), buf, n) == CV_DROPPED_FULL) {
          dropped.fetch_add(1, std::memory_order_relaxed);
          std::this_thread::yield();
        }
      }
    });
  }
  std::vector<int> last(kProducers, -1);
  uint64_t pos = 0;
  while (pos < uint64_t{kProducers} * kPerProducer) {
    CapturedMessage m;
    if (!ring->Peek(pos, &m)) {
      std::this_thread::yield();
      continue;
    }
    int p, i;
    ASSERT_EQ(std::sscanf(std::string(m.bytes).c_str(), "%d:%d", &p, &i), 2);
    ASSERT_EQ(i, last[p] + 1) << "producer " << p << " out of order";
    last[p] = i;
    ring->ReleaseUpTo(++pos);
  }
  for (auto& t : producers) t.join();
  for (int p = 0; p < kProducers; ++p) EXPECT_EQ(last[p], kPerProducer - 1);
  EXPECT_EQ(ring->enqueue_pos(), uint64_t{kProducers} * kPerProducer);
  EXPECT_EQ(ring->dropped_full(), dropped.load());
}

// The property the whole design rests on: a process killed with SIGKILL
// after its pushes returned leaves every message for the next opener.
TEST_F(RingTest, MessagesSurviveKillOfTheProducerProcess) {
  constexpr int kMessages = 500;
  {
    auto ring = Open({1024, 1024});
    ASSERT_EQ(ring->Push(Meta(), "consumed", 8), CV_OK);
    ring->ReleaseUpTo(1);
  }
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    RingOpenResult r;
    std::string err;
    auto ring = CaptureRing::Open(name_, {1024, 1024}, &r, &err);
    for (int i = 0; i < kMessages; ++i) {
      std::string body = "m" + std::to_string(i);
      if (ring->Push(Meta(), body.data(), body.size()) != CV_OK) ::_exit(3);
    }
    (void)!::write(pipefd[1], "k", 1);
    ::pause();
    ::_exit(0);
  }
  char c;
  ASSERT_EQ(::read(pipefd[0], &c, 1), 1);
  ::kill(child, SIGKILL);
  int status;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));

  RingOpenResult r;
  auto ring = Open({1024, 1024}, &r);
  EXPECT_FALSE(r.created);
  EXPECT_EQ(r.unconsumed, uint64_t{kMessages});
  EXPECT_EQ(r.torn, 0u);
  for (int i = 0; i < kMessages; ++i) {
    CapturedMessage m;
    ASSERT_TRUE(ring->Peek(1 + i, &m));
    EXPECT_EQ(m.bytes, "m" + std::to_string(i));
  }
  CapturedMessage m;
  EXPECT_FALSE(ring->Peek(1 + kMessages, &m));
}

TEST_F(RingTest, DifferentGeometryWithPendingMessagesIsRefused) {
  {
    auto ring = Open({64, 1024});
    ASSERT_EQ(ring->Push(Meta(), "x", 1), CV_OK);
  }
  RingOpenResult r;
  std::string err;
  EXPECT_FALSE(CaptureRing::Open(name_, {128, 1024}, &r, &err));
  EXPECT_NE(err.find("1 unconsumed"), std::string::npos) << err;
  {
    auto ring = Open({64, 1024});
    ring->ReleaseUpTo(1);
  }
  auto ring = Open({128, 1024}, &r);
  EXPECT_TRUE(r.created);
}

}  // namespace
}  // namespace callvault
