// tail -f semantics: a reader keeps up with a writer that is still writing.
#include <atomic>
#include <chrono>
#include <thread>

#include "tests/module/journal/journal_fixture.h"

namespace callvault::testing {
namespace {

using Status = JournalReader::Status;

TEST_F(JournalTest, ReaderFollowsALiveWriterAcrossSegments) {
  opts_.segment_bytes = 4096;
  auto w = OpenWriter();
  auto r = OpenReader();
  JournalRecord rec;
  std::string error;
  EXPECT_EQ(r->Next(&rec, &error), Status::kEnd);

  JournalPosition at;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(w->Append(RecordType::kCdr, Payload(i), &at, &error));
  EXPECT_EQ(r->Next(&rec, &error), Status::kEnd);  // buffered, not written yet
  ASSERT_TRUE(w->Sync(&error)) << error;

  int next = 0;
  auto drain = [&] {
    Status s;
    while ((s = r->Next(&rec, &error)) == Status::kOk) {
      ASSERT_EQ(rec.payload, Payload(next)) << next;
      ++next;
    }
    ASSERT_EQ(s, Status::kEnd) << error;
  };
  drain();
  EXPECT_EQ(next, 5);
  for (int batch = 0; batch < 40; ++batch) {
    for (int i = 0; i < 7; ++i) {
      ASSERT_TRUE(w->Append(RecordType::kCdr, Payload(5 + batch * 7 + i), &at, &error));
    }
    ASSERT_TRUE(w->Sync(&error)) << error;
    drain();
    ASSERT_EQ(next, 5 + (batch + 1) * 7);
  }
  EXPECT_GE(w->end().segment, 10u);
  EXPECT_EQ(r->position(), w->end());
}

TEST_F(JournalTest, HalfWrittenRecordInTheNewestSegmentIsEndUntilComplete) {
  std::vector<JournalPosition> at;
  {
    auto w = OpenWriter();
    at = Write(w.get(), 0, 10);
  }
  const std::string full = ReadFile(SegPath(1));
  for (uint64_t cut : {at[9].offset + 3, at[9].offset + 40}) {  // inside the frame, the body
    fs::resize_file(SegPath(1), cut);
    auto r = OpenReader();
    JournalRecord rec;
    std::string error;
    EXPECT_EQ(ReadToEnd(r.get()).size(), 9u);
    EXPECT_EQ(r->Next(&rec, &error), Status::kEnd);
    EXPECT_EQ(r->position(), at[9]);
    WriteFile(SegPath(1), full);  // the writer finishes the record
    ASSERT_EQ(r->Next(&rec, &error), Status::kOk) << error;
    EXPECT_EQ(rec.payload, Payload(9));
  }
}

TEST_F(JournalTest, ReaderStartedBeforeTheFirstSegmentExists) {
  fs::create_directories(opts_.dir);
  auto r = OpenReader();
  JournalRecord rec;
  std::string error;
  EXPECT_EQ(r->Next(&rec, &error), Status::kEnd);
  EXPECT_EQ(r->position(), JournalPosition{});
  auto w = OpenWriter();
  Write(w.get(), 0, 3);
  EXPECT_EQ(ReadToEnd(r.get()).size(), 3u);
}

TEST_F(JournalTest, ConcurrentWriterAndReaderThreads) {
  opts_.segment_bytes = 16 << 10;
  constexpr int kRecords = 3000;
  auto w = OpenWriter();
  auto r = OpenReader();
  std::atomic<bool> writer_ok{true};
  std::thread writer([&] {
    std::string error;
    JournalPosition at;
    for (int i = 0; i < kRecords; ++i) {
      if (!w->Append(RecordType::kCdr, Payload(i), &at, &error)) writer_ok = false;
      if (i % 25 == 24 && !w->Sync(&error)) writer_ok = false;
    }
    if (!w->Sync(&error)) writer_ok = false;
  });
  int got = 0;
  int corrupt = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  JournalRecord rec;
  std::string error;
  while (got < kRecords && std::chrono::steady_clock::now() < deadline) {
    switch (r->Next(&rec, &error)) {
      case Status::kOk:
        if (rec.payload != Payload(got)) ++corrupt;
        ++got;
        break;
      case Status::kEnd:
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        break;
      case Status::kCorrupt:
        ADD_FAILURE() << error;
        ++corrupt;
        r->Skip();
        break;
    }
  }
  writer.join();
  EXPECT_TRUE(writer_ok);
  EXPECT_EQ(got, kRecords);
  EXPECT_EQ(corrupt, 0);
  EXPECT_GE(w->end().segment, 5u);
}

}  // namespace
}  // namespace callvault::testing
