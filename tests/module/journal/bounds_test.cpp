// The disk bound and its alarm, option checks, and dropping consumed segments.
#include "tests/module/journal/journal_fixture.h"

namespace callvault::testing {
namespace {

TEST_F(JournalTest, MaxBytesRefusesAppendsAndAlarmFollowsUse) {
  opts_.segment_bytes = 4096;
  opts_.max_bytes = 16384;
  opts_.alarm_percent = 50;
  auto w = OpenWriter();
  ASSERT_NE(w, nullptr);
  const std::string payload(200, 'p');  // 9 + 28 + 200 = 237 bytes a record
  std::string error;
  JournalPosition at;
  int accepted = 0;
  bool saw_below = false, saw_above = false;
  EXPECT_FALSE(w->over_alarm());
  while (w->Append(RecordType::kCdr, payload, &at, &error)) {
    ++accepted;
    ASSERT_LE(w->bytes_on_disk(), opts_.max_bytes);
    const bool want_alarm = w->bytes_on_disk() * 100 > opts_.max_bytes * 50;
    EXPECT_EQ(w->over_alarm(), want_alarm) << w->bytes_on_disk();
    (want_alarm ? saw_above : saw_below) = true;
    ASSERT_LT(accepted, 1000);
  }
  EXPECT_TRUE(saw_below && saw_above);
  // 16 records fill a 4096-byte segment (84 + 16 * 237 = 3876); four full
  // segments and a fifth with 3 records reach 16299, and one more would pass 16384.
  EXPECT_EQ(accepted, 67);
  EXPECT_EQ(w->bytes_on_disk(), 16299u);
  EXPECT_EQ(error, "journal " + opts_.dir +
                       ": full: 237 more bytes would exceed max_bytes 16384 (in use 16299)");
  const JournalPosition end = w->end();
  EXPECT_FALSE(w->Append(RecordType::kCdr, payload, &at, &error));
  EXPECT_EQ(w->end(), end);  // a refused record leaves no trace

  ASSERT_TRUE(w->Sync(&error)) << error;
  uint64_t on_disk = 0;
  for (const auto& f : SegmentFiles()) on_disk += SizeOf(f);
  EXPECT_EQ(on_disk, 16299u);
  EXPECT_EQ(SegmentFiles().size(), 5u);

  // Consumers passed everything before the newest segment: space comes back.
  w->DropSegmentsBefore(end.segment + 10);  // never drops the segment being written
  EXPECT_EQ(SegmentFiles().size(), 1u);
  EXPECT_EQ(w->bytes_on_disk(), 84u + 3 * 237);
  EXPECT_FALSE(w->over_alarm());
  EXPECT_TRUE(w->Append(RecordType::kCdr, payload, &at, &error)) << error;
  ASSERT_TRUE(w->Sync(&error));
  auto r = OpenReader();
  EXPECT_EQ(ReadToEnd(r.get()).size(), 4u);
}

TEST_F(JournalTest, OversizedRecordIsRefused) {
  auto w = OpenWriter();
  std::string error;
  JournalPosition at;
  const std::string big((16u << 20) + 1, 'b');
  EXPECT_FALSE(w->Append(RecordType::kCdr, big, &at, &error));
  EXPECT_EQ(error, "journal " + opts_.dir + ": record of 16777217 bytes exceeds the 16 MiB record limit");
  // A record larger than segment_bytes still gets a segment of its own.
  const std::string large(200 << 10, 'l');
  ASSERT_TRUE(w->Append(RecordType::kCdr, "small", &at, &error)) << error;
  ASSERT_TRUE(w->Append(RecordType::kCdr, large, &at, &error)) << error;
  EXPECT_EQ(at, (JournalPosition{2, kHeader}));
  ASSERT_TRUE(w->Append(RecordType::kCdr, "after", &at, &error)) << error;
  EXPECT_EQ(at, (JournalPosition{3, kHeader}));
  ASSERT_TRUE(w->Sync(&error));
  auto r = OpenReader();
  auto recs = ReadToEnd(r.get());
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[1].payload, large);
}

TEST_F(JournalTest, BadOptionsAndKeyringAreRefused) {
  std::string error;
  JournalOptions bad = opts_;
  bad.segment_bytes = 100;
  EXPECT_EQ(JournalWriter::Open(bad, keyring_, &error), nullptr);
  EXPECT_EQ(error, "journal " + opts_.dir +
                       ": bad options (need segment_bytes >= 4096, max_bytes >= segment_bytes, "
                       "alarm_percent 1..100)");
  bad = opts_;
  bad.alarm_percent = 0;
  EXPECT_EQ(JournalWriter::Open(bad, keyring_, &error), nullptr);
  EXPECT_EQ(JournalWriter::Open(opts_, Keyring(), &error), nullptr);
  EXPECT_EQ(error, "journal " + opts_.dir + ": the keyring has no active KEK");
  bad.dir.clear();
  EXPECT_EQ(JournalWriter::Open(bad, keyring_, &error), nullptr);
  EXPECT_EQ(error, "journal: no directory configured");
}

}  // namespace
}  // namespace callvault::testing
