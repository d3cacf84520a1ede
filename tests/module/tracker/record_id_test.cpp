#include <gtest/gtest.h>

#include "module/tracker/call_tracker.h"

namespace callvault {
namespace {

CaptureInfo Info(int64_t wall_ms, uint32_t generation, uint64_t seq) {
  CaptureInfo i;
  i.wall_ns = wall_ms * 1000000 + 456789;  // sub-ms part must not matter
  i.generation = generation;
  i.seq = seq;
  return i;
}

TEST(MakeRecordId, Version8Layout) {
  const std::string id = CallTracker::MakeRecordId("node-a", Info(1795813384123, 0xDEADBEEF, 5));
  ASSERT_EQ(id.size(), 36u);
  for (size_t dash : {8u, 13u, 18u, 23u}) EXPECT_EQ(id[dash], '-') << id;
  // 48 bits of milliseconds: 1795813384123 = 0x01a2 1ed1 9fbb.
  EXPECT_EQ(id.substr(0, 8), "01a21ed1");
  EXPECT_EQ(id.substr(9, 4), "9fbb");
  EXPECT_EQ(id[14], '8');  // version
  // Variant 10, then generation (32 bits) and seq (30 bits):
  // lo = 0b10 << 62 | 0xDEADBEEF << 30 | 5.
  const unsigned long long lo = (2ULL << 62) | (0xDEADBEEFULL << 30) | 5ULL;
  char expect[24];
  std::snprintf(expect, sizeof(expect), "%04llx-%012llx", lo >> 48, lo & 0xFFFFFFFFFFFFULL);
  EXPECT_EQ(id.substr(19), expect);
  EXPECT_TRUE(id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b');
  for (char c : id) EXPECT_TRUE(c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << id;
}

TEST(MakeRecordId, DeterministicAndDistinct) {
  const CaptureInfo base = Info(1795813384123, 7, 100);
  const std::string id = CallTracker::MakeRecordId("node-a", base);
  EXPECT_EQ(CallTracker::MakeRecordId("node-a", base), id);
  EXPECT_NE(CallTracker::MakeRecordId("node-b", base), id);  // node hash differs
  EXPECT_NE(CallTracker::MakeRecordId("node-a", Info(1795813384123, 7, 101)), id);
  EXPECT_NE(CallTracker::MakeRecordId("node-a", Info(1795813384123, 8, 100)), id);
  EXPECT_NE(CallTracker::MakeRecordId("node-a", Info(1795813384124, 7, 100)), id);
  // Ids sort by INVITE time.
  EXPECT_LT(id, CallTracker::MakeRecordId("node-a", Info(1795813389999, 0, 0)));
}

}  // namespace
}  // namespace callvault
