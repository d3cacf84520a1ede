#include "sip/parse/field_text.h"

#include <gtest/gtest.h>

namespace callvault {
namespace {

TEST(CapField, CutsOnUtf8Boundary) {
  // "é" is two bytes: a cap that would split it drops it whole.
  EXPECT_EQ(CapField("ab\xc3\xa9", 3), "ab");
  EXPECT_EQ(CapField("ab\xc3\xa9", 4), "ab\xc3\xa9");
  EXPECT_EQ(CapField("\xe2\x82\xac\xe2\x82\xac", 5), "\xe2\x82\xac");  // euro sign, 3 bytes
}

TEST(CapField, ReplacesInvalidAndControlBytes) {
  EXPECT_EQ(CapField(std::string("a\0b", 3), 10), "a?b");
  EXPECT_EQ(CapField("a\x1f" "b\x7f", 10), "a?b?");
  EXPECT_EQ(CapField("\xc0\xaf", 10), "??");          // overlong
  EXPECT_EQ(CapField("\xed\xa0\x80", 10), "???");     // surrogate
  EXPECT_EQ(CapField("\xf4\x90\x80\x80", 10), "????");  // above U+10FFFF
  EXPECT_EQ(CapField("\xe2\x82", 10), "??");          // truncated sequence
}

TEST(JoinCapped, KeepsWholeItemsInOrder) {
  EXPECT_EQ(JoinCapped({"PCMU", "PCMA", "G729"}, ',', 9), "PCMU,PCMA");
  EXPECT_EQ(JoinCapped({"PCMU", "PCMA", "G729"}, ',', 8), "PCMU");
  EXPECT_EQ(JoinCapped({"", "PCMA"}, ',', 8), "PCMA");
  EXPECT_EQ(JoinCapped({}, ',', 8), "");
}

}  // namespace
}  // namespace callvault
