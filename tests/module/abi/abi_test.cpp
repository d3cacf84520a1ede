// A foreign host: loads libcallvault.so with dlopen through the public header
// alone, feeds a raw INVITE/180/200/ACK/BYE/200 exchange in both directions,
// and checks the CDR that lands in the journal.  (Keyring generation and the
// journal read-back use the module's own libraries: that is test set-up and
// verification, not the host's side.)
#include <dlfcn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "include/callvault/module.h"
#include "module/cdr/cdr_json.h"
#include "module/crypto/keyring.h"
#include "module/journal/journal.h"

namespace callvault {
namespace {

namespace fs = std::filesystem;

// Message times start now (the module also ticks its tracker with wall time,
// so a call stamped in the past would time out) and are exact from there.
const int64_t kT0 = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();

std::string Sip(const std::string& start, const std::string& cseq, const std::string& to_tag,
                const std::string& extra = "") {
  return start +
         "\r\nVia: SIP/2.0/UDP 10.1.1.1:5060;branch=z9hG4bK-" + cseq.substr(0, 1) +
         "\r\nFrom: \"Alice\" <sip:+914412345678@pbx.example>;tag=ftag1"
         "\r\nTo: <sip:+919812345678@carrier.example>" + (to_tag.empty() ? "" : ";tag=" + to_tag) +
         "\r\nCall-ID: abi-test-call-1@10.1.1.1"
         "\r\nCSeq: " + cseq + "\r\nMax-Forwards: 70" + extra + "\r\nContent-Length: 0\r\n\r\n";
}

class AbiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cv-abi-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::string err;
    ASSERT_TRUE(Keyring::Generate().Save((dir_ / "keyring").string(), &err)) << err;
    std::ofstream(dir_ / "callvault.yaml")
        << "node_id: abi-" << ::getpid() << "\nkeyring: keyring\njournal: { dir: journal }\n"
        << "capture: { slots: 1024, slot_bytes: 4096, checkpoint_interval_ms: 50 }\n"
        << "trunks:\n  - { name: pstn-in }\n  - { name: carrier-b }\n";
  }
  void TearDown() override {
    ::shm_unlink(("/callvault-abi-" + std::to_string(::getpid())).c_str());
    fs::remove_all(dir_);
  }
  fs::path dir_;
};

TEST_F(AbiTest, ForeignHostGetsACorrectCdrThroughDlopen) {
  void* so = ::dlopen(CV_MODULE_PATH, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(so, nullptr) << ::dlerror();
  auto get = reinterpret_cast<cv_get_api_fn>(::dlsym(so, "cv_get_api"));
  ASSERT_NE(get, nullptr);
  const cv_api* api = get();
  ASSERT_EQ(api->abi_version >> 16, uint32_t{CV_ABI_MAJOR});
  ASSERT_GE(api->abi_version & 0xffff, uint32_t{CV_ABI_MINOR});

  char err[512] = {0};
  cv_module* m = nullptr;
  ASSERT_EQ(api->open((dir_ / "nope.yaml").c_str(), &m, err, sizeof err), CV_ERR_CONFIG);
  EXPECT_NE(std::string(err).find("nope.yaml"), std::string::npos) << err;
  ASSERT_EQ(api->open((dir_ / "callvault.yaml").c_str(), &m, err, sizeof err), CV_OK) << err;

  const cv_addr caller{4, 0, 5060, {10, 1, 1, 1}};
  const cv_addr proxy{4, 0, 5060, {10, 1, 1, 2}};
  const cv_addr callee{4, 0, 5080, {10, 1, 1, 3}};
  struct Step {
    cv_direction dir;
    cv_addr src, dst;
    int64_t at_ms;
    std::string bytes;
  };
  const std::string invite =
      Sip("INVITE sip:+919812345678@carrier.example SIP/2.0", "1 INVITE", "",
          "\r\nUser-Agent: Acme Softphone 4.2.1");
  const std::string ringing = Sip("SIP/2.0 180 Ringing", "1 INVITE", "ttag9");
  const std::string ok = Sip("SIP/2.0 200 OK", "1 INVITE", "ttag9", "\r\nServer: CarrierSBC 7.1");
  const std::string ack = Sip("ACK sip:+919812345678@10.1.1.3:5080 SIP/2.0", "1 ACK", "ttag9");
  const std::string bye = Sip("BYE sip:+919812345678@10.1.1.3:5080 SIP/2.0", "2 BYE", "ttag9");
  const std::string bye_ok = Sip("SIP/2.0 200 OK", "2 BYE", "ttag9");
  const std::vector<Step> steps = {
      {CV_DIR_RECEIVED, caller, proxy, kT0, invite},
      {CV_DIR_SENT, proxy, callee, kT0 + 1, invite},
      {CV_DIR_RECEIVED, callee, proxy, kT0 + 1500, ringing},
      {CV_DIR_SENT, proxy, caller, kT0 + 1501, ringing},
      {CV_DIR_RECEIVED, callee, proxy, kT0 + 4000, ok},
      {CV_DIR_SENT, proxy, caller, kT0 + 4001, ok},
      {CV_DIR_RECEIVED, caller, proxy, kT0 + 4100, ack},
      {CV_DIR_SENT, proxy, callee, kT0 + 4101, ack},
      {CV_DIR_RECEIVED, caller, proxy, kT0 + 64000, bye},
      {CV_DIR_SENT, proxy, callee, kT0 + 64001, bye},
      {CV_DIR_RECEIVED, callee, proxy, kT0 + 64100, bye_ok},
      {CV_DIR_SENT, proxy, caller, kT0 + 64101, bye_ok},
  };
  for (const auto& s : steps) {
    cv_msg_meta meta{};
    meta.struct_size = sizeof meta;
    meta.direction = s.dir;
    meta.transport = CV_TRANSPORT_UDP;
    meta.src = s.src;
    meta.dst = s.dst;
    meta.wall_ns = s.at_ms * 1000000;
    meta.mono_ns = s.at_ms * 1000000;
    meta.ingress_trunk = "pstn-in";
    meta.egress_trunk = s.dir == CV_DIR_SENT ? "carrier-b" : nullptr;
    ASSERT_EQ(api->on_message(m, &meta, s.bytes.data(), s.bytes.size()), CV_OK);
  }
  std::map<std::string, uint64_t> stats;
  api->stats(m, [](const char* n, uint64_t v, void* u) {
    (*static_cast<std::map<std::string, uint64_t>*>(u))[n] = v;
  }, &stats);
  EXPECT_EQ(stats["capture.accepted"], steps.size());
  api->close(m);  // drains the ring and journals the CDR
  // No dlclose: sofia-sip keeps thread-specific keys for the life of the process.

  Keyring keyring;
  std::string e;
  ASSERT_TRUE(Keyring::Load((dir_ / "keyring").string(), &keyring, &e)) << e;
  auto reader = JournalReader::Open((dir_ / "journal").string(), keyring, &e);
  ASSERT_TRUE(reader) << e;
  std::vector<Cdr> cdrs;
  JournalRecord rec;
  while (reader->Next(&rec, &e) == JournalReader::Status::kOk) {
    Cdr c;
    ASSERT_TRUE(CdrFromJson(rec.payload, &c, &e)) << e;
    cdrs.push_back(c);
  }
  ASSERT_EQ(cdrs.size(), 1u);
  const Cdr& c = cdrs[0];
  EXPECT_EQ(c.call_id, "abi-test-call-1@10.1.1.1");
  EXPECT_EQ(c.caller, "+914412345678");
  EXPECT_EQ(c.callee, "+919812345678");
  EXPECT_EQ(c.ingress_trunk, "pstn-in");
  EXPECT_EQ(c.egress_trunk, "carrier-b");
  EXPECT_EQ(c.src_addr, "10.1.1.1:5060");
  EXPECT_EQ(c.dst_addr, "10.1.1.3:5080");
  EXPECT_EQ(c.invite_time_ms, kT0);
  EXPECT_EQ(c.ring_time_ms, kT0 + 1500);
  EXPECT_EQ(c.answer_time_ms, kT0 + 4000);
  EXPECT_EQ(c.end_time_ms, kT0 + 64000);
  EXPECT_EQ(c.post_dial_delay_ms, 1500);
  EXPECT_EQ(c.duration_ms, 60000);
  EXPECT_EQ(c.billable_seconds, 60);
  EXPECT_EQ(c.final_status, 200);
  EXPECT_EQ(c.disposition, Disposition::kAnswered);
  EXPECT_EQ(c.released_by, ReleasedBy::kCaller);
  EXPECT_EQ(c.caller_ua, "Acme Softphone 4.2.1");
  EXPECT_EQ(c.callee_ua, "CarrierSBC 7.1");
  EXPECT_FALSE(c.record_id.empty());
}

}  // namespace
}  // namespace callvault
