#include "module/crypto/aead.h"

#include <gtest/gtest.h>

#include <string>
#include <unordered_set>

namespace callvault {
namespace {

std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

SecretBytes Key(std::string_view raw) { return SecretBytes(raw.data(), raw.size()); }

TEST(Aead, CreateAcceptsOnly32ByteKeys) {
  for (size_t n : {0, 1, 16, 24, 31, 33, 64}) {
    EXPECT_EQ(Aead::Create(SecretBytes::Random(n)), nullptr) << n;
  }
  EXPECT_NE(Aead::Create(SecretBytes::Random(32)), nullptr);
}

TEST(Aead, RoundTripAtManySizes) {
  auto aead = Aead::Create(SecretBytes::Random(32));
  ASSERT_NE(aead, nullptr);
  for (size_t n : {0, 1, 15, 16, 17, 255, 4096, 100000}) {
    std::string pt(n, '\0');
    for (size_t i = 0; i < n; ++i) pt[i] = static_cast<char>(i * 31 + 7);
    std::string sealed = "prefix";  // Encrypt appends
    ASSERT_TRUE(aead->Encrypt(pt, "aad", &sealed)) << n;
    ASSERT_EQ(sealed.size(), 6 + n + Aead::kOverhead);
    EXPECT_EQ(sealed.substr(0, 6), "prefix");
    std::string back;
    ASSERT_TRUE(aead->Decrypt(std::string_view(sealed).substr(6), "aad", &back)) << n;
    EXPECT_EQ(back, pt);
  }
  EXPECT_EQ(aead->encryptions(), 8u);
}

// The wire format is plain GCM: nonce || ct || tag.  Test Case 16 of the GCM
// specification (McGrew & Viega), AES-256 with a 96-bit IV and AAD.
TEST(Aead, DecryptsGcmSpecTestCase16) {
  SecretBytes key = Key(Unhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"));
  std::string iv = Unhex("cafebabefacedbaddecaf888");
  std::string aad = Unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
  std::string pt = Unhex(
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6"
      "b525b16aedf5aa0de657ba637b39");
  std::string ct = Unhex(
      "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056"
      "828838c5f61e6393ba7a0abcc9f662");
  std::string tag = Unhex("76fc6ece0f4e1768cddf8853bb2d551b");
  auto aead = Aead::Create(key);
  ASSERT_NE(aead, nullptr);
  std::string out;
  ASSERT_TRUE(aead->Decrypt(iv + ct + tag, aad, &out));
  EXPECT_EQ(out, pt);
  tag[15] ^= 1;
  EXPECT_FALSE(aead->Decrypt(iv + ct + tag, aad, &out));
}

TEST(Aead, AnyBitFlipInNonceCiphertextTagOrAadFails) {
  auto aead = Aead::Create(SecretBytes::Random(32));
  const std::string pt = "a 40-byte plaintext for the flip sweep!!";
  const std::string aad = "record-id|retain-until";
  std::string sealed;
  ASSERT_TRUE(aead->Encrypt(pt, aad, &sealed));
  std::string out;
  ASSERT_TRUE(aead->Decrypt(sealed, aad, &out));

  size_t rejected = 0;
  for (size_t bit = 0; bit < sealed.size() * 8; ++bit) {
    std::string bad = sealed;
    bad[bit / 8] ^= static_cast<char>(1 << (bit % 8));
    out = "untouched";
    if (!aead->Decrypt(bad, aad, &out)) ++rejected;
    EXPECT_EQ(out, "untouched") << "bit " << bit;
  }
  EXPECT_EQ(rejected, sealed.size() * 8);  // covers nonce, ciphertext and tag

  rejected = 0;
  for (size_t bit = 0; bit < aad.size() * 8; ++bit) {
    std::string bad = aad;
    bad[bit / 8] ^= static_cast<char>(1 << (bit % 8));
    if (!aead->Decrypt(sealed, bad, &out)) ++rejected;
  }
  EXPECT_EQ(rejected, aad.size() * 8);

  EXPECT_FALSE(aead->Decrypt(sealed, "", &out));
  EXPECT_FALSE(aead->Decrypt(sealed, aad + "x", &out));
  EXPECT_FALSE(aead->Decrypt(sealed.substr(0, sealed.size() - 1), aad, &out));
  EXPECT_FALSE(aead->Decrypt(sealed + "x", aad, &out));
  EXPECT_FALSE(aead->Decrypt(sealed.substr(0, Aead::kOverhead - 1), aad, &out));
}

TEST(Aead, WrongKeyFails) {
  auto a = Aead::Create(SecretBytes::Random(32));
  auto b = Aead::Create(SecretBytes::Random(32));
  std::string sealed, out;
  ASSERT_TRUE(a->Encrypt("payload", "aad", &sealed));
  EXPECT_FALSE(b->Decrypt(sealed, "aad", &out));
  EXPECT_TRUE(a->Decrypt(sealed, "aad", &out));
}

TEST(Aead, NoncesAreUniqueOver100kEncryptions) {
  auto aead = Aead::Create(SecretBytes::Random(32));
  std::unordered_set<std::string> nonces;
  nonces.reserve(100000);
  std::string sealed;
  for (int i = 0; i < 100000; ++i) {
    sealed.clear();
    ASSERT_TRUE(aead->Encrypt("same plaintext", "same aad", &sealed));
    nonces.insert(sealed.substr(0, Aead::kNonceBytes));
  }
  EXPECT_EQ(nonces.size(), 100000u);
  EXPECT_EQ(aead->encryptions(), 100000u);
}

}  // namespace
}  // namespace callvault
