#include <gtest/gtest.h>

#include "module/journal/journal.h"

namespace callvault {
namespace {

TEST(JournalPosition, ToStringAndParse) {
  JournalPosition p{3, 4096};
  EXPECT_EQ(p.ToString(), "3:4096");
  JournalPosition back;
  ASSERT_TRUE(JournalPosition::Parse("3:4096", &back));
  EXPECT_EQ(back, p);
  ASSERT_TRUE(JournalPosition::Parse("18446744073709551615:0", &back));
  EXPECT_EQ(back.segment, UINT64_MAX);
  EXPECT_EQ(JournalPosition{}.ToString(), "0:0");
}

TEST(JournalPosition, ParseRejectsAnythingToStringWouldNotWrite) {
  JournalPosition untouched{7, 7};
  for (const char* bad : {"", "3", ":1", "1:", "a:1", "1:2:3", "-1:2", "+1:2", " 1:2", "1:2 ",
                          "18446744073709551616:0", "0x1:2"}) {
    JournalPosition p = untouched;
    EXPECT_FALSE(JournalPosition::Parse(bad, &p)) << bad;
    EXPECT_EQ(p, untouched) << bad;
  }
}

TEST(JournalPosition, Ordering) {
  EXPECT_LT((JournalPosition{1, 900}), (JournalPosition{2, 84}));
  EXPECT_LT((JournalPosition{2, 84}), (JournalPosition{2, 85}));
}

}  // namespace
}  // namespace callvault
