// callvaultctl cdr dump, run as ops would: the real binary on a real
// encrypted journal.  JSON Lines carry the documented keys; a tampered record
// is reported with its position and makes the command fail.
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "module/cdr/cdr_json.h"
#include "module/crypto/keyring.h"
#include "module/journal/journal.h"

namespace callvault {
namespace {

namespace fs = std::filesystem;

struct Result {
  int code;
  std::string out;
};

Result RunCommand(const std::string& cmd) {
  Result r{0, ""};
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  r.code = WEXITSTATUS(::pclose(p));
  return r;
}

class CdrDumpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cv-ctl-dump-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "journal");
    std::string err;
    Keyring k = Keyring::Generate();
    ASSERT_TRUE(k.Save((dir_ / "keyring").string(), &err)) << err;
    std::ofstream(dir_ / "callvault.yaml")
        << "node_id: dump\nkeyring: keyring\njournal: { dir: journal }\n";
    auto w = JournalWriter::Open({(dir_ / "journal").string(), 1 << 20, 1 << 30, 80}, k, &err);
    ASSERT_TRUE(w) << err;
    for (int i = 0; i < 3; ++i) {
      Cdr c;
      c.record_id = "0190a0b0-0000-8000-8000-00000000000" + std::to_string(i);
      c.call_id = "dump-call-" + std::to_string(i);
      c.caller = "+914400000001";
      c.callee = "+919800000002";
      c.ingress_trunk = "pstn-in";
      c.egress_trunk = "carrier-b";
      c.invite_time_ms = 1795000000000LL;
      c.answer_time_ms = c.invite_time_ms + 2000;
      c.end_time_ms = c.answer_time_ms + 61000;
      c.duration_ms = 61000;
      c.final_status = 200;
      c.disposition = Disposition::kAnswered;
      c.released_by = ReleasedBy::kCallee;
      JournalPosition at;
      ASSERT_TRUE(w->Append(RecordType::kCdr, CdrToJson(c), &at, &err)) << err;
      positions_.push_back(at);
    }
    ASSERT_TRUE(w->Sync(&err)) << err;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Ctl(const std::string& args) {
    return std::string(CV_CTL_BINARY) + " cdr dump --config " + (dir_ / "callvault.yaml").string() +
           " " + args;
  }
  fs::path dir_;
  std::vector<JournalPosition> positions_;
};

TEST_F(CdrDumpTest, JsonLinesHaveTheDocumentedKeys) {
  Result r = RunCommand(Ctl("--format jsonl"));
  ASSERT_EQ(r.code, 0) << r.out;
  std::istringstream lines(r.out);
  std::string line;
  int objects = 0;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] != '{') continue;
    auto j = nlohmann::json::parse(line);
    for (const char* key : {"record_id", "call_id", "caller", "callee", "ingress_trunk",
                            "egress_trunk", "invite_time", "answer_time", "end_time",
                            "duration_ms", "final_status", "disposition", "released_by"}) {
      EXPECT_TRUE(j.contains(key)) << key;
    }
    EXPECT_EQ(j["disposition"], "answered");
    EXPECT_EQ(j["released_by"], "callee");
    EXPECT_EQ(j["duration_ms"], 61000);
    ++objects;
  }
  EXPECT_EQ(objects, 3);
}

TEST_F(CdrDumpTest, TableIsReadable) {
  Result r = RunCommand(Ctl(""));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("disposition"), std::string::npos);
  EXPECT_NE(r.out.find("answered"), std::string::npos);
  EXPECT_NE(r.out.find("+919800000002"), std::string::npos);
}

TEST_F(CdrDumpTest, TamperedRecordIsNamedAndFailsTheCommand) {
  // Flip a byte inside the second record's ciphertext.
  const std::string seg = (dir_ / "journal" / "seg-00000000000000000001.cvj").string();
  ASSERT_TRUE(fs::exists(seg));
  std::fstream f(seg, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(positions_[1].offset + 40));
  char c;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(positions_[1].offset + 40));
  f.put(static_cast<char>(c ^ 0x01));
  f.close();
  Result r = RunCommand(Ctl("--format jsonl"));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("offset " + std::to_string(positions_[1].offset)), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("dump-call-0"), std::string::npos);
  EXPECT_NE(r.out.find("dump-call-2"), std::string::npos);
  EXPECT_EQ(r.out.find("dump-call-1"), std::string::npos);
}

TEST_F(CdrDumpTest, KeyringReadableByOthersIsRefused) {
  ::chmod((dir_ / "keyring").c_str(), 0640);
  Result r = RunCommand(Ctl(""));
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("keyring"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0640"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace callvault
