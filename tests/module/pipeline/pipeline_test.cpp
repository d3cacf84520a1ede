// The pipeline in-process: several producer threads call the hook at once
// (as a multi-threaded host would) while the consumer thread parses, tracks
// and journals; stats() is read concurrently.  Run under TSan in CI.
// Also: a clean close drains the ring, and a reopen resumes without
// duplicating anything.
#include "module/pipeline/pipeline.h"

#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "module/cdr/cdr_json.h"
#include "module/crypto/keyring.h"
#include "module/journal/journal.h"

namespace callvault {
namespace {

namespace fs = std::filesystem;

// Message times near the real clock: the consumer also ticks the tracker with
// wall time, and calls stamped far in the past would time out before they end.
int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Msg(const std::string& start, const std::string& call_id, const std::string& cseq,
                bool to_tag) {
  return start + "\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-" + call_id + cseq.substr(0, 1) +
         "\r\nFrom: <sip:+914400000001@a.example>;tag=f" + call_id +
         "\r\nTo: <sip:+919800000002@b.example>" + (to_tag ? ";tag=t" + call_id : "") +
         "\r\nCall-ID: " + call_id + "\r\nCSeq: " + cseq + "\r\nContent-Length: 0\r\n\r\n";
}

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_ = "pipe-" + std::to_string(::getpid());
    dir_ = fs::temp_directory_path() / ("cv-" + node_);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::string err;
    ASSERT_TRUE(Keyring::Generate().Save((dir_ / "keyring").string(), &err)) << err;
    std::ofstream(dir_ / "callvault.yaml")
        << "node_id: " << node_ << "\nkeyring: keyring\njournal: { dir: journal }\n"
        << "log: { file: callvault.log }\n"
        << "capture: { slots: 65536, slot_bytes: 2048, checkpoint_interval_ms: 20 }\n";
  }
  void TearDown() override {
    ::shm_unlink(("/callvault-" + node_).c_str());
    fs::remove_all(dir_);
  }
  std::unique_ptr<Pipeline> Open() {
    std::string err;
    int code;
    auto p = Pipeline::Open((dir_ / "callvault.yaml").string(), &err, &code);
    EXPECT_TRUE(p) << err;
    return p;
  }
  std::vector<Cdr> Cdrs() {
    Keyring k;
    std::string err;
    EXPECT_TRUE(Keyring::Load((dir_ / "keyring").string(), &k, &err));
    auto r = JournalReader::Open((dir_ / "journal").string(), k, &err);
    std::vector<Cdr> out;
    JournalRecord rec;
    while (r && r->Next(&rec, &err) == JournalReader::Status::kOk) {
      Cdr c;
      EXPECT_TRUE(CdrFromJson(rec.payload, &c, &err)) << err;
      out.push_back(c);
    }
    return out;
  }
  // One full call (INVITE, 200, ACK, BYE, 200) as received messages.
  static void Call(CaptureRing* ring, const std::string& id, int64_t t_ms) {
    cv_msg_meta m{};
    m.struct_size = sizeof m;
    m.src.family = 4;
    m.ingress_trunk = "pstn-in";
    int step = 0;
    for (const std::string& s :
         {Msg("INVITE sip:+919800000002@b.example SIP/2.0", id, "1 INVITE", false),
          Msg("SIP/2.0 200 OK", id, "1 INVITE", true),
          Msg("ACK sip:+919800000002@b.example SIP/2.0", id, "1 ACK", true),
          Msg("BYE sip:+919800000002@b.example SIP/2.0", id, "2 BYE", true),
          Msg("SIP/2.0 200 OK", id, "2 BYE", true)}) {
      m.wall_ns = (t_ms + 1000 * step++) * 1000000;
      m.mono_ns = m.wall_ns;
      while (ring->Push(m, s.data(), s.size()) == CV_DROPPED_FULL) std::this_thread::yield();
    }
  }
  std::string node_;
  fs::path dir_;
};

TEST_F(PipelineTest, ConcurrentProducersEveryCallExactlyOneCdr) {
  constexpr int kThreads = 4, kCallsPerThread = 500;
  {
    auto p = Open();
    std::atomic<bool> done{false};
    std::thread reader([&] {
      while (!done) {
        p->Stats([](std::string_view, uint64_t) {});
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
    std::vector<std::thread> producers;
    for (int t = 0; t < kThreads; ++t) {
      producers.emplace_back([&, t] {
        for (int i = 0; i < kCallsPerThread; ++i) {
          Call(p->ring(), "c" + std::to_string(t) + "-" + std::to_string(i), NowMs() + i);
        }
      });
    }
    for (auto& th : producers) th.join();
    done = true;
    reader.join();
  }  // close: drain and checkpoint
  auto cdrs = Cdrs();
  std::set<std::string> ids;
  for (const auto& c : cdrs) {
    ids.insert(c.call_id);
    EXPECT_EQ(c.disposition, Disposition::kAnswered);
    EXPECT_EQ(c.duration_ms, 2000);
  }
  EXPECT_EQ(cdrs.size(), size_t{kThreads * kCallsPerThread});
  EXPECT_EQ(ids.size(), size_t{kThreads * kCallsPerThread});
}

TEST_F(PipelineTest, ReopenResumesWithoutDuplicates) {
  {
    auto p = Open();
    for (int i = 0; i < 100; ++i) Call(p->ring(), "a" + std::to_string(i), NowMs());
  }
  {
    auto p = Open();
    for (int i = 0; i < 50; ++i) Call(p->ring(), "b" + std::to_string(i), NowMs());
    std::map<std::string, uint64_t> s;
    p->Stats([&](std::string_view n, uint64_t v) { s[std::string(n)] = v; });
    EXPECT_EQ(s["capture.accepted"], 750u);  // the ring keeps counting across opens
  }
  EXPECT_EQ(Cdrs().size(), 150u);
}

TEST_F(PipelineTest, SecondInstanceForTheSameNodeIsRefused) {
  auto first = Open();
  std::string err;
  int code = 0;
  EXPECT_FALSE(Pipeline::Open((dir_ / "callvault.yaml").string(), &err, &code));
  EXPECT_EQ(code, CV_ERR_IO);
  EXPECT_NE(err.find("another callvault instance"), std::string::npos) << err;
}

// Nice level of every thread of this process, from /proc (field 19 of stat;
// the command name before it is in parentheses and may hold spaces).
std::multiset<int> ThreadNiceLevels() {
  std::multiset<int> out;
  for (const auto& t : fs::directory_iterator("/proc/self/task")) {
    std::ifstream f(t.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(f)), {});
    std::istringstream rest(stat.substr(stat.rfind(')') + 2));
    std::string field;
    for (int i = 3; i <= 19 && rest >> field; ++i) {
    }
    out.insert(std::stoi(field));
  }
  return out;
}

TEST_F(PipelineTest, BackgroundThreadsRunBelowTheHost) {
  // The test itself may run niced (a CI runner); callvault goes to 10 or
  // stays below the host, whichever is lower in priority.
  const int host = ::getpriority(PRIO_PROCESS, 0);
  const int expected = std::max(10, host);
  const auto before = ThreadNiceLevels();
  auto p = Open();
  // The consumer lowers itself as it starts, which may be just after Open.
  auto after = ThreadNiceLevels();
  for (int i = 0; i < 200 && after.count(expected) == before.count(expected); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    after = ThreadNiceLevels();
  }
  EXPECT_EQ(after.count(expected), before.count(expected) + 1)
      << "the consumer runs at nice " << expected;
  EXPECT_EQ(::getpriority(PRIO_PROCESS, 0), host) << "the host thread keeps its priority";
}

TEST_F(PipelineTest, ReloadAppliesLogSettingsAndRefusesWhatRunningThreadsHold) {
  auto p = Open();
  const fs::path cfg = dir_ / "callvault.yaml";
  std::ifstream in(cfg);
  const std::string original((std::istreambuf_iterator<char>(in)), {});
  std::string err;

  std::ofstream(cfg) << original << "trunks: [ { name: pstn-in, retention: { days: 1000 } } ]\n";
  EXPECT_FALSE(p->Reload(&err));
  EXPECT_NE(err.find("trunks: cannot change while running"), std::string::npos) << err;

  std::ofstream(cfg) << original << "tracker: { invite_timeout_s: 60 }\n";
  EXPECT_FALSE(p->Reload(&err));
  EXPECT_NE(err.find("tracker: cannot change while running"), std::string::npos) << err;

  std::string debug = original;
  debug.replace(debug.find("log: { file: callvault.log }"), 28,
                "log: { file: callvault.log, level: debug }");
  std::ofstream(cfg) << debug;
  EXPECT_TRUE(p->Reload(&err)) << err;
}

TEST_F(PipelineTest, MalformedSipIsCountedAndLosesNothingElse) {
  {
    auto p = Open();
    cv_msg_meta m{};
    m.struct_size = sizeof m;
    const std::string junk = "this is not SIP\r\n\r\n";
    ASSERT_EQ(p->ring()->Push(m, junk.data(), junk.size()), CV_OK);
    Call(p->ring(), "ok-1", NowMs());
    std::map<std::string, uint64_t> s;
    for (int i = 0; i < 200 && s["capture.consumed"] < 6; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      p->Stats([&](std::string_view n, uint64_t v) { s[std::string(n)] = v; });
    }
    EXPECT_EQ(s["parse.errors"], 1u);
  }
  EXPECT_EQ(Cdrs().size(), 1u);
  std::ifstream log(dir_ / "callvault.log");
  std::string text((std::istreambuf_iterator<char>(log)), {});
  EXPECT_NE(text.find("unparseable SIP message"), std::string::npos);
}

}  // namespace
}  // namespace callvault
