#include "tests/module/journal/journal_fixture.h"

namespace callvault::testing {
namespace {

TEST_F(JournalTest, TenThousandRecordsAcrossSegments) {
  auto w = OpenWriter();
  ASSERT_NE(w, nullptr);
  std::vector<JournalPosition> at = Write(w.get(), 0, 10000);

  std::vector<std::string> files = SegmentFiles();
  ASSERT_GE(files.size(), 20u);  // ~1.7 MB of records in 64 KiB segments
  uint64_t total = 0;
  for (const auto& f : files) {
    EXPECT_LE(SizeOf(f), opts_.segment_bytes) << f;
    total += SizeOf(f);
  }
  EXPECT_EQ(w->bytes_on_disk(), total);
  EXPECT_EQ(w->end(), (JournalPosition{files.size(), SizeOf(files.back())}));
  EXPECT_EQ(at.front(), (JournalPosition{1, kHeader}));
  EXPECT_EQ(w->torn_tail_bytes(), 0u);

  auto r = OpenReader();
  std::vector<JournalRecord> recs = ReadToEnd(r.get());
  ASSERT_EQ(recs.size(), 10000u);
  for (int i = 0; i < 10000; ++i) {
    ASSERT_EQ(recs[i].payload, Payload(i)) << i;
    ASSERT_EQ(recs[i].at, at[i]) << i;
    ASSERT_EQ(recs[i].type, RecordType::kCdr);
    if (i + 1 < 10000 && at[i + 1].segment == at[i].segment) {
      ASSERT_EQ(recs[i].next, at[i + 1]) << i;
    }
    ASSERT_EQ(recs[i].next.offset - recs[i].at.offset,
              kFrame + kSealOverhead + Payload(i).size());
  }
  EXPECT_EQ(r->position(), w->end());
}

TEST_F(JournalTest, SegmentFilesHoldNoPlaintext) {
  auto w = OpenWriter();
  Write(w.get(), 0, 50);
  std::string data = ReadFile(SegPath(1));
  EXPECT_EQ(data.substr(0, 4), "CVJ1");
  EXPECT_EQ(data.find("record-"), std::string::npos);
  EXPECT_EQ(data.find("xxxxxxxx"), std::string::npos);
  EXPECT_EQ(fs::status(opts_.dir).permissions() & fs::perms::all, fs::perms::owner_all);
  EXPECT_EQ(fs::status(SegPath(1)).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
}

TEST_F(JournalTest, ReopenContinuesAndAppends) {
  JournalPosition end;
  {
    auto w = OpenWriter();
    Write(w.get(), 0, 300);
    end = w->end();
  }
  {
    auto w = OpenWriter();
    EXPECT_EQ(w->end(), end);
    EXPECT_EQ(w->torn_tail_bytes(), 0u);
    std::vector<JournalPosition> at = Write(w.get(), 300, 200);
    EXPECT_EQ(at.front(), end);
    // Buffered but never synced: the destructor writes and syncs them.
    std::string error;
    JournalPosition p;
    ASSERT_TRUE(w->Append(RecordType::kCdr, Payload(500), &p, &error)) << error;
  }
  auto r = OpenReader();
  std::vector<JournalRecord> recs = ReadToEnd(r.get());
  ASSERT_EQ(recs.size(), 501u);
  for (int i = 0; i < 501; ++i) ASSERT_EQ(recs[i].payload, Payload(i)) << i;
}

TEST_F(JournalTest, SeekResumesAtACheckpoint) {
  auto w = OpenWriter();
  std::vector<JournalPosition> at = Write(w.get(), 0, 2000);
  auto r = OpenReader();
  std::vector<JournalRecord> all = ReadToEnd(r.get());
  ASSERT_EQ(all.size(), 2000u);

  std::string saved = all[1233].next.ToString();  // what a consumer would persist
  JournalPosition checkpoint;
  ASSERT_TRUE(JournalPosition::Parse(saved, &checkpoint));
  auto r2 = OpenReader();
  std::string error;
  ASSERT_TRUE(r2->Seek(checkpoint, &error)) << error;
  std::vector<JournalRecord> rest = ReadToEnd(r2.get());
  ASSERT_EQ(rest.size(), 2000u - 1234u);
  EXPECT_EQ(rest.front().payload, Payload(1234));

  EXPECT_FALSE(r2->Seek({999, kHeader}, &error));
  EXPECT_NE(error.find("segment 999 does not exist"), std::string::npos) << error;
}

TEST_F(JournalTest, KekRotationKeepsOldSegmentsReadable) {
  {
    auto w = OpenWriter();
    Write(w.get(), 0, 100);
  }
  Keyring rotated = keyring_;
  EXPECT_EQ(rotated.AddKek(), 2u);
  {
    auto w = OpenWriter(&rotated);
    Write(w.get(), 100, 1000);  // continues segment 1 (KEK 1), rolls into KEK 2 segments
  }
  auto r = OpenReader(&rotated);
  std::vector<JournalRecord> recs = ReadToEnd(r.get());
  ASSERT_EQ(recs.size(), 1100u);
  for (int i = 0; i < 1100; ++i) ASSERT_EQ(recs[i].payload, Payload(i)) << i;

  // The old keyring alone cannot open the new segments, and says which KEK.
  auto old = OpenReader(&keyring_);
  JournalRecord rec;
  std::string error;
  int ok = 0;
  JournalReader::Status s;
  while ((s = old->Next(&rec, &error)) == JournalReader::Status::kOk) ++ok;
  ASSERT_EQ(s, JournalReader::Status::kCorrupt);
  EXPECT_EQ(error, SegPath(2) + " offset 0: KEK version 2 is not in the keyring");
  EXPECT_EQ(ok, std::count_if(recs.begin(), recs.end(),
                              [](const JournalRecord& x) { return x.at.segment == 1; }));
  EXPECT_GT(ok, 100);  // segment 1 kept KEK 1 after the rotation
}

TEST_F(JournalTest, SecondWriterIsRefused) {
  auto w = OpenWriter();
  std::string error;
  EXPECT_EQ(JournalWriter::Open(opts_, keyring_, &error), nullptr);
  EXPECT_EQ(error, "journal " + opts_.dir + ": in use by another writer (" + opts_.dir +
                       "/writer.lock is locked)");
  w.reset();
  EXPECT_NE(JournalWriter::Open(opts_, keyring_, &error), nullptr) << error;
}

TEST_F(JournalTest, ReaderOfMissingDirectoryFails) {
  std::string error;
  EXPECT_EQ(JournalReader::Open(opts_.dir, keyring_, &error), nullptr);
  EXPECT_EQ(error, "journal " + opts_.dir + ": No such file or directory");
}

}  // namespace
}  // namespace callvault::testing
