// Shared fixture for the journal tests: a fresh directory and keyring per
// test, and helpers that write, read and damage real segment files.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "module/crypto/keyring.h"
#include "module/journal/journal.h"

namespace callvault::testing {

namespace fs = std::filesystem;

// Layout constants from segment_format.h, restated so the tests check them.
inline constexpr uint64_t kHeader = 84;
inline constexpr uint64_t kFrame = 9;
inline constexpr uint64_t kSealOverhead = 28;

inline std::string Payload(int i) {
  // Varying sizes (20..~320 bytes) so records straddle segment ends unevenly.
  return "record-" + std::to_string(i) + ":" + std::string(static_cast<size_t>(i * 37 % 300), 'x');
}

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "cv-journal-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    opts_.dir = (root_ / "j").string();
    opts_.segment_bytes = 64 << 10;
    opts_.max_bytes = 64 << 20;
    keyring_ = Keyring::Generate();
  }
  void TearDown() override { fs::remove_all(root_); }

  std::unique_ptr<JournalWriter> OpenWriter(const Keyring* ring = nullptr) {
    std::string error;
    auto w = JournalWriter::Open(opts_, ring ? *ring : keyring_, &error);
    EXPECT_NE(w, nullptr) << error;
    return w;
  }
  std::unique_ptr<JournalReader> OpenReader(const Keyring* ring = nullptr) {
    std::string error;
    auto r = JournalReader::Open(opts_.dir, ring ? *ring : keyring_, &error);
    EXPECT_NE(r, nullptr) << error;
    return r;
  }

  // Appends payloads first..first+n-1, syncing every sync_every; returns positions.
  std::vector<JournalPosition> Write(JournalWriter* w, int first, int n, int sync_every = 100) {
    std::vector<JournalPosition> at;
    std::string error;
    for (int i = first; i < first + n; ++i) {
      JournalPosition p;
      EXPECT_TRUE(w->Append(RecordType::kCdr, Payload(i), &p, &error)) << error;
      at.push_back(p);
      if ((i - first + 1) % sync_every == 0) {
        EXPECT_TRUE(w->Sync(&error)) << error;
      }
    }
    EXPECT_TRUE(w->Sync(&error)) << error;
    return at;
  }

  // Reads until kEnd; any kCorrupt fails the test.
  std::vector<JournalRecord> ReadToEnd(JournalReader* r) {
    std::vector<JournalRecord> out;
    JournalRecord rec;
    std::string error;
    for (;;) {
      auto s = r->Next(&rec, &error);
      if (s == JournalReader::Status::kEnd) break;
      if (s != JournalReader::Status::kOk) {
        ADD_FAILURE() << "unexpected corruption: " << error;
        break;
      }
      out.push_back(rec);
    }
    return out;
  }

  std::string SegPath(uint64_t n) const {
    char name[64];
    std::snprintf(name, sizeof name, "seg-%020llu.cvj", static_cast<unsigned long long>(n));
    return opts_.dir + "/" + name;
  }
  std::vector<std::string> SegmentFiles() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(opts_.dir)) {
      std::string name = e.path().filename().string();
      if (name.starts_with("seg-")) out.push_back(e.path().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  uint64_t SizeOf(const std::string& path) const { return fs::file_size(path); }
  std::string ReadFile(const std::string& path) const {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  void WriteFile(const std::string& path, const std::string& data) const {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
  }
  void FlipByte(const std::string& path, uint64_t at) const {
    std::string data = ReadFile(path);
    ASSERT_LT(at, data.size());
    data[at] = static_cast<char>(data[at] ^ 0x20);
    WriteFile(path, data);
  }

  fs::path root_;
  JournalOptions opts_;
  Keyring keyring_;
};

}  // namespace callvault::testing
