// Crashes and damage: what is truncated (only a torn tail, counted), what is
// reported (everything else, with segment file and offset), and that Skip()
// lets reading go on with every intact record.
#include "tests/module/journal/journal_fixture.h"

namespace callvault::testing {
namespace {

using Status = JournalReader::Status;

// Reads n records and checks their payloads are Payload(first..).
void ExpectRecords(JournalReader* r, int first, int n) {
  JournalRecord rec;
  std::string error;
  for (int i = first; i < first + n; ++i) {
    ASSERT_EQ(r->Next(&rec, &error), Status::kOk) << i << ": " << error;
    ASSERT_EQ(rec.payload, Payload(i));
  }
}

TEST_F(JournalTest, TornTailIsTruncatedAndCounted) {
  std::vector<JournalPosition> at;
  {
    auto w = OpenWriter();
    at = Write(w.get(), 0, 20);
  }
  ASSERT_EQ(at.back().segment, 1u);
  fs::resize_file(SegPath(1), at[19].offset + 20);  // crash in the middle of the last record

  {  // Without a writer, the cut-short last record is "not written yet", not damage.
    auto r = OpenReader();
    EXPECT_EQ(ReadToEnd(r.get()).size(), 19u);
  }
  auto w = OpenWriter();
  EXPECT_EQ(w->torn_tail_bytes(), 20u);
  EXPECT_EQ(SizeOf(SegPath(1)), at[19].offset);
  EXPECT_EQ(w->end(), at[19]);
  std::string error;
  JournalPosition p;
  ASSERT_TRUE(w->Append(RecordType::kCdr, Payload(19), &p, &error)) << error;
  ASSERT_TRUE(w->Sync(&error)) << error;
  EXPECT_EQ(p, at[19]);
  auto r = OpenReader();
  ExpectRecords(r.get(), 0, 20);
  JournalRecord rec;
  EXPECT_EQ(r->Next(&rec, &error), Status::kEnd);
}

TEST_F(JournalTest, TornPartialFrameAndZeroFilledTail) {
  uint64_t size = 0;
  {
    auto w = OpenWriter();
    Write(w.get(), 0, 10);
    size = SizeOf(SegPath(1));
  }
  WriteFile(SegPath(1), ReadFile(SegPath(1)) + std::string("\x41\x00\x00", 3));
  {
    auto w = OpenWriter();
    EXPECT_EQ(w->torn_tail_bytes(), 3u);
    EXPECT_EQ(SizeOf(SegPath(1)), size);
  }
  // A crash can extend a file before its data lands: zeros are a torn tail too.
  WriteFile(SegPath(1), ReadFile(SegPath(1)) + std::string(5000, '\0'));
  {
    auto w = OpenWriter();
    EXPECT_EQ(w->torn_tail_bytes(), 5000u);
    EXPECT_EQ(SizeOf(SegPath(1)), size);
    Write(w.get(), 10, 5);
  }
  auto r = OpenReader();
  ExpectRecords(r.get(), 0, 15);
}

TEST_F(JournalTest, FlippedByteInTheMiddleIsReportedThenSkipped) {
  std::vector<JournalPosition> at;
  {
    auto w = OpenWriter();
    at = Write(w.get(), 0, 50);
  }
  ASSERT_EQ(at.back().segment, 1u);
  const uint64_t size = SizeOf(SegPath(1));
  FlipByte(SegPath(1), at[20].offset + kFrame + 30);

  auto r = OpenReader();
  ExpectRecords(r.get(), 0, 20);
  JournalRecord rec;
  std::string error;
  const std::string want =
      SegPath(1) + " offset " + std::to_string(at[20].offset) + ": authentication tag mismatch";
  ASSERT_EQ(r->Next(&rec, &error), Status::kCorrupt);
  EXPECT_EQ(error, want);
  // The reader stays on the bad record until told to skip it.
  error.clear();
  ASSERT_EQ(r->Next(&rec, &error), Status::kCorrupt);
  EXPECT_EQ(error, want);
  EXPECT_EQ(r->position(), at[20]);
  EXPECT_EQ(r->Skip(), at[21]);
  ExpectRecords(r.get(), 21, 29);
  EXPECT_EQ(r->Next(&rec, &error), Status::kEnd);

  // Damage that is not at the tail is never truncated by the writer; with the
  // framing intact it appends after it in the same segment.
  auto w = OpenWriter();
  EXPECT_EQ(w->torn_tail_bytes(), 0u);
  EXPECT_EQ(SizeOf(SegPath(1)), size);
  EXPECT_EQ(w->end(), (JournalPosition{1, size}));
}

TEST_F(JournalTest, DamagedFrameResynchronisesAndWriterMovesOn) {
  std::vector<JournalPosition> at;
  {
    auto w = OpenWriter();
    at = Write(w.get(), 0, 50);
  }
  const uint64_t size = SizeOf(SegPath(1));
  FlipByte(SegPath(1), at[20].offset + 1);  // inside the length field

  {
    auto r = OpenReader();
    ExpectRecords(r.get(), 0, 20);
    JournalRecord rec;
    std::string error;
    ASSERT_EQ(r->Next(&rec, &error), Status::kCorrupt);
    EXPECT_EQ(error, SegPath(1) + " offset " + std::to_string(at[20].offset) +
                         ": damaged record frame (checksum mismatch)");
    EXPECT_EQ(r->Skip(), at[21]);
    ExpectRecords(r.get(), 21, 29);
  }

  // The writer cannot trust where the damaged segment ends, so it leaves it
  // whole and continues in a new one.
  {
    auto w = OpenWriter();
    EXPECT_EQ(w->torn_tail_bytes(), 0u);
    EXPECT_EQ(SizeOf(SegPath(1)), size);
    EXPECT_EQ(w->end(), (JournalPosition{2, kHeader}));
    Write(w.get(), 50, 10);
  }
  auto r = OpenReader();
  ExpectRecords(r.get(), 0, 20);
  JournalRecord rec;
  std::string error;
  ASSERT_EQ(r->Next(&rec, &error), Status::kCorrupt);
  r->Skip();
  ExpectRecords(r.get(), 21, 39);
  EXPECT_EQ(r->Next(&rec, &error), Status::kEnd);
}

TEST_F(JournalTest, CutShortOlderSegmentIsCorruptNotEnd) {
  std::vector<JournalPosition> at;
  {
    auto w = OpenWriter();
    at = Write(w.get(), 0, 1000);
  }
  ASSERT_GE(at.back().segment, 3u);
  size_t k = 0;  // the last record of segment 1
  while (at[k + 1].segment == 1) ++k;
  const uint64_t need = kFrame + kSealOverhead + Payload(static_cast<int>(k)).size();
  fs::resize_file(SegPath(1), at[k].offset + 15);

  auto r = OpenReader();
  ExpectRecords(r.get(), 0, static_cast<int>(k));
  JournalRecord rec;
  std::string error;
  ASSERT_EQ(r->Next(&rec, &error), Status::kCorrupt);
  EXPECT_EQ(error, SegPath(1) + " offset " + std::to_string(at[k].offset) +
                       ": record cut short (needs " + std::to_string(need) +
                       " bytes, the completed segment ends at offset " +
                       std::to_string(at[k].offset + 15) + ")");
  EXPECT_EQ(r->Skip(), (JournalPosition{2, kHeader}));
  ExpectRecords(r.get(), static_cast<int>(k) + 1, 1000 - static_cast<int>(k) - 1);
  EXPECT_EQ(r->Next(&rec, &error), Status::kEnd);

  // Cut inside the frame itself.
  fs::resize_file(SegPath(1), at[k].offset + 4);
  auto r2 = OpenReader();
  ExpectRecords(r2.get(), 0, static_cast<int>(k));
  ASSERT_EQ(r2->Next(&rec, &error), Status::kCorrupt);
  EXPECT_EQ(error, SegPath(1) + " offset " + std::to_string(at[k].offset) +
                       ": record frame cut short (4 of 9 bytes) in a completed segment");

  // The writer only ever looks at the newest segment's tail.
  auto w = OpenWriter();
  EXPECT_EQ(w->torn_tail_bytes(), 0u);
  EXPECT_EQ(SizeOf(SegPath(1)), at[k].offset + 4);
}

TEST_F(JournalTest, WrongKeyringIsReportedNamingTheKek) {
  {
    auto w = OpenWriter();
    Write(w.get(), 0, 600);
  }
  ASSERT_GE(SegmentFiles().size(), 2u);
  Keyring other = Keyring::Generate();  // also has a KEK version 1, but not ours
  auto r = OpenReader(&other);
  JournalRecord rec;
  std::string error;
  const std::string what =
      ": cannot unwrap the data key with KEK version 1 (wrong keyring or damaged header)";
  ASSERT_EQ(r->Next(&rec, &error), Status::kCorrupt);
  EXPECT_EQ(error, SegPath(1) + " offset 0" + what);
  EXPECT_EQ(r->Skip(), (JournalPosition{2, kHeader}));
  ASSERT_EQ(r->Next(&rec, &error), Status::kCorrupt);
  EXPECT_EQ(error, SegPath(2) + " offset 0" + what);

  // A writer with the wrong keyring refuses to start rather than fork the journal.
  const std::string last = SegmentFiles().back();
  EXPECT_EQ(JournalWriter::Open(opts_, other, &error), nullptr);
  EXPECT_EQ(error, "journal segment " + last + what);
}

TEST_F(JournalTest, DamagedSegmentHeaderIsReportedThenSkipped) {
  std::vector<JournalPosition> at;
  {
    auto w = OpenWriter();
    at = Write(w.get(), 0, 1000);
  }
  ASSERT_GE(at.back().segment, 3u);
  FlipByte(SegPath(2), 0);
  auto r = OpenReader();
  JournalRecord rec;
  std::string error;
  int n = 0;
  Status s;
  while ((s = r->Next(&rec, &error)) == Status::kOk) ASSERT_EQ(rec.payload, Payload(n++));
  ASSERT_EQ(s, Status::kCorrupt);
  EXPECT_EQ(error, SegPath(2) + " offset 0: not a journal segment (bad magic)");
  EXPECT_EQ(at[n].segment, 2u);  // all of segment 1 was read
  EXPECT_EQ(r->Skip(), (JournalPosition{3, kHeader}));
  int first3 = n;
  while (at[first3].segment == 2) ++first3;
  std::vector<JournalRecord> rest = ReadToEnd(r.get());
  ASSERT_EQ(rest.size(), at.size() - first3);
  EXPECT_EQ(rest.front().payload, Payload(first3));
}

TEST_F(JournalTest, RecordsSwappedBetweenOffsetsFailAuthentication) {
  std::vector<JournalPosition> at;
  const std::string a(100, 'a'), b(100, 'b');
  {
    auto w = OpenWriter();
    std::string error;
    for (const std::string* p : {&a, &b, &a}) {
      JournalPosition pos;
      ASSERT_TRUE(w->Append(RecordType::kCdr, *p, &pos, &error)) << error;
      at.push_back(pos);
    }
    ASSERT_TRUE(w->Sync(&error));
  }
  // Swap records 0 and 1 byte for byte: each is intact but in the wrong place.
  std::string data = ReadFile(SegPath(1));
  const size_t len = at[1].offset - at[0].offset;
  std::string r0 = data.substr(at[0].offset, len), r1 = data.substr(at[1].offset, len);
  data.replace(at[0].offset, len, r1);
  data.replace(at[1].offset, len, r0);
  WriteFile(SegPath(1), data);

  auto r = OpenReader();
  JournalRecord rec;
  std::string error;
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(r->Next(&rec, &error), Status::kCorrupt);
    EXPECT_EQ(error, SegPath(1) + " offset " + std::to_string(at[i].offset) +
                         ": authentication tag mismatch");
    r->Skip();
  }
  ASSERT_EQ(r->Next(&rec, &error), Status::kOk);
  EXPECT_EQ(rec.payload, a);
}

}  // namespace
}  // namespace callvault::testing
