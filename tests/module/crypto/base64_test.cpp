#include "module/crypto/base64.h"

#include <gtest/gtest.h>

namespace callvault {
namespace {

TEST(Base64, Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, text] : vectors) {
    EXPECT_EQ(Base64Encode(plain), text);
    std::string out = "junk";
    ASSERT_TRUE(Base64Decode(text, &out)) << text;
    EXPECT_EQ(out, plain);
    SecretBytes secret;
    ASSERT_TRUE(Base64Decode(text, &secret)) << text;
    EXPECT_EQ(secret.view(), plain);
  }
}

TEST(Base64, BinaryRoundTrip) {
  SecretBytes key = SecretBytes::Random(32);
  std::string text = Base64Encode(key.view());
  EXPECT_EQ(text.size(), 44u);
  SecretBytes back;
  ASSERT_TRUE(Base64Decode(text, &back));
  EXPECT_TRUE(back.Equals(key));
}

TEST(Base64, RejectsNonCanonicalInput) {
  for (const char* bad : {"Zg", "Zg=", "Z===", "Zm9v\n", " Zm9v", "Zm9v ", "Zg==Zg==", "Zm=v",
                          "Zm9v!A==", "===="}) {
    std::string out = "unchanged";
    EXPECT_FALSE(Base64Decode(bad, &out)) << bad;
    EXPECT_EQ(out, "unchanged");
    SecretBytes secret;
    EXPECT_FALSE(Base64Decode(bad, &secret)) << bad;
  }
}

}  // namespace
}  // namespace callvault
