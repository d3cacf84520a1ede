#include "module/crypto/aead.h"

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

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
  // The kept cipher context is fine after all those failures.
  ASSERT_TRUE(aead->Decrypt(sealed, aad, &out));
  EXPECT_EQ(out, pt);
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

// Several threads on one instance (run under TSan in CI): every record
// round-trips and no nonce repeats across threads.
TEST(Aead, ConcurrentCallersOnOneInstance) {
  auto aead = Aead::Create(SecretBytes::Random(32));
  constexpr int kThreads = 4, kEach = 2000;
  std::vector<std::vector<std::string>> nonces(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const std::string pt = "record " + std::to_string(t) + "/" + std::to_string(i);
        std::string sealed, out;
        if (!aead->Encrypt(pt, "aad", &sealed) || !aead->Decrypt(sealed, "aad", &out) ||
            out != pt) {
          failures.fetch_add(1);
        }
        nonces[t].push_back(sealed.substr(0, Aead::kNonceBytes));
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  std::unordered_set<std::string> all;
  for (const auto& v : nonces) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kEach));
}

// Nonces come from a per-thread block of random bytes; a forked child must
// not reuse what the parent has yet to use.
TEST(Aead, ForkedChildDrawsOtherNoncesThanItsParent) {
  auto aead = Aead::Create(SecretBytes::Random(32));
  std::string sealed;
  ASSERT_TRUE(aead->Encrypt("x", "", &sealed));  // the parent's block is now in use
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::string s;
    const bool ok = aead->Encrypt("x", "", &s);
    const ssize_t n = ok ? ::write(fds[1], s.data(), Aead::kNonceBytes) : 0;
    ::_exit(n == static_cast<ssize_t>(Aead::kNonceBytes) ? 0 : 1);
  }
  ::close(fds[1]);
  std::string child_nonce(Aead::kNonceBytes, '\0');
  ASSERT_EQ(::read(fds[0], child_nonce.data(), child_nonce.size()),
            static_cast<ssize_t>(Aead::kNonceBytes));
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_EQ(status, 0);
  sealed.clear();
  ASSERT_TRUE(aead->Encrypt("x", "", &sealed));
  EXPECT_NE(sealed.substr(0, Aead::kNonceBytes), child_nonce);
}

}  // namespace
}  // namespace callvault
