#include "module/crypto/keyring.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "module/crypto/aead.h"
#include "module/crypto/base64.h"

namespace callvault {
namespace {

namespace fs = std::filesystem;

std::string Hex(std::string_view raw) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

class KeyringFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "cv-keyring-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text, mode_t mode = 0600) {
    std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    ::chmod(path.c_str(), mode);
    return path;
  }
  // A well-formed keyring body whose line 3 is "kek 1 ...".
  static std::string Good() {
    return "callvault-keyring 1\n# comment\nkek 1 " + Base64Encode(SecretBytes::Random(32).view()) +
           "\nactive-kek 1\n";
  }
  std::string LoadError(const std::string& path) {
    Keyring ring;
    std::string error;
    EXPECT_FALSE(Keyring::Load(path, &ring, &error));
    return error;
  }

  fs::path dir_;
};

// RFC 4231 test cases 1 and 2.
TEST(Hmac, Rfc4231) {
  SecretBytes key1(std::string(20, '\x0b').data(), 20);
  EXPECT_EQ(Hex(HmacSha256(key1, "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  SecretBytes key2("Jefe", 4);
  EXPECT_EQ(Hex(HmacSha256(key2, "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(KeyWrap, RoundTripAndBinding) {
  SecretBytes kek = SecretBytes::Random(32);
  SecretBytes dk = SecretBytes::Random(32);
  std::string wrapped;
  ASSERT_TRUE(WrapKey(kek, dk, "dk:carrier-a:2026-11", &wrapped));
  EXPECT_EQ(wrapped.size(), 32 + Aead::kOverhead);
  EXPECT_EQ(wrapped.find(std::string(dk.view())), std::string::npos);

  SecretBytes back;
  ASSERT_TRUE(UnwrapKey(kek, wrapped, "dk:carrier-a:2026-11", &back));
  EXPECT_TRUE(back.Equals(dk));

  SecretBytes untouched;
  EXPECT_FALSE(UnwrapKey(kek, wrapped, "dk:carrier-b:2026-11", &untouched));
  EXPECT_FALSE(UnwrapKey(SecretBytes::Random(32), wrapped, "dk:carrier-a:2026-11", &untouched));
  std::string bad = wrapped;
  bad[20] ^= 0x40;
  EXPECT_FALSE(UnwrapKey(kek, bad, "dk:carrier-a:2026-11", &untouched));
  EXPECT_TRUE(untouched.empty());
  EXPECT_FALSE(WrapKey(SecretBytes::Random(16), dk, "x", &wrapped));
}

TEST(SecretBytes, WipeCopyMove) {
  SecretBytes a = SecretBytes::Random(32);
  SecretBytes b = a;
  EXPECT_TRUE(a.Equals(b));
  SecretBytes c = std::move(b);
  EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move): moved-from must be empty
  EXPECT_TRUE(c.Equals(a));
  c.Wipe();
  EXPECT_TRUE(c.empty());
  EXPECT_FALSE(c.Equals(a));
  EXPECT_FALSE(SecretBytes::Random(32).Equals(SecretBytes::Random(32)));
}

TEST(Keyring, GenerateAndAddKek) {
  Keyring ring = Keyring::Generate();
  EXPECT_EQ(ring.active_kek_version(), 1u);
  ASSERT_NE(ring.active_kek(), nullptr);
  EXPECT_EQ(ring.active_kek()->size(), 32u);
  for (const char* name : {kSecretBlindIndex, kSecretPseudonym, kSecretLi}) {
    ASSERT_NE(ring.secret(name), nullptr) << name;
    EXPECT_EQ(ring.secret(name)->size(), 32u);
  }
  EXPECT_FALSE(ring.secret(kSecretBlindIndex)->Equals(*ring.secret(kSecretPseudonym)));
  EXPECT_EQ(ring.kek(2), nullptr);

  SecretBytes v1 = *ring.kek(1);
  EXPECT_EQ(ring.AddKek(), 2u);
  EXPECT_EQ(ring.active_kek_version(), 2u);
  ASSERT_NE(ring.kek(1), nullptr);
  EXPECT_TRUE(ring.kek(1)->Equals(v1));
  EXPECT_FALSE(ring.kek(2)->Equals(v1));
  EXPECT_TRUE(ring.RemoveSecret(kSecretLi));
  EXPECT_FALSE(ring.RemoveSecret(kSecretLi));
  EXPECT_EQ(ring.secret(kSecretLi), nullptr);
}

TEST_F(KeyringFileTest, SaveLoadRoundTripWith0600) {
  Keyring ring = Keyring::Generate();
  ring.AddKek();
  ring.SetSecret("extra.key_1", SecretBytes::Random(16));
  std::string path = (dir_ / "keyring").string();
  std::string error;
  ASSERT_TRUE(ring.Save(path, &error)) << error;

  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);

  Keyring back;
  ASSERT_TRUE(Keyring::Load(path, &back, &error)) << error;
  EXPECT_EQ(back.active_kek_version(), 2u);
  EXPECT_EQ(back.keks().size(), 2u);
  for (uint32_t v : {1u, 2u}) EXPECT_TRUE(back.kek(v)->Equals(*ring.kek(v))) << v;
  EXPECT_EQ(back.secrets().size(), 4u);
  for (auto& [name, value] : ring.secrets()) {
    ASSERT_NE(back.secret(name), nullptr) << name;
    EXPECT_TRUE(back.secret(name)->Equals(value)) << name;
  }

  // Replace (rotation) keeps 0600 and the new content.
  back.AddKek();
  ASSERT_TRUE(back.Save(path, &error)) << error;
  Keyring third;
  ASSERT_TRUE(Keyring::Load(path, &third, &error)) << error;
  EXPECT_EQ(third.active_kek_version(), 3u);
}

TEST_F(KeyringFileTest, CreateNewRefusesToOverwrite) {
  std::string path = Write("keyring", Good());
  std::string before;
  {
    std::ifstream in(path);
    before.assign(std::istreambuf_iterator<char>(in), {});
  }
  std::string error;
  EXPECT_FALSE(Keyring::Generate().Save(path, &error, Keyring::SaveMode::kCreateNew));
  EXPECT_EQ(error, "keyring " + path + ": already exists; refusing to overwrite it");
  std::ifstream in(path);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), before);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);

  std::string fresh = (dir_ / "new").string();
  EXPECT_TRUE(Keyring::Generate().Save(fresh, &error, Keyring::SaveMode::kCreateNew)) << error;
}

TEST_F(KeyringFileTest, RefusesGroupOrOtherAccess) {
  std::string path = Write("k644", Good(), 0644);
  EXPECT_EQ(LoadError(path),
            "keyring " + path + ": mode 0644 is readable by group or others; chmod 600 it");
  path = Write("k640", Good(), 0640);
  EXPECT_EQ(LoadError(path),
            "keyring " + path + ": mode 0640 is readable by group or others; chmod 600 it");
  path = Write("k620", Good(), 0620);
  EXPECT_EQ(LoadError(path),
            "keyring " + path + ": mode 0620 is writable by group or others; chmod 600 it");
  path = Write("k400", Good(), 0400);
  Keyring ring;
  std::string error;
  EXPECT_TRUE(Keyring::Load(path, &ring, &error)) << error;
}

TEST_F(KeyringFileTest, RefusesMissingAndNonRegular) {
  std::string missing = (dir_ / "absent").string();
  EXPECT_EQ(LoadError(missing), "keyring " + missing + ": cannot open: No such file or directory");
  fs::create_directory(dir_ / "d");
  ::chmod((dir_ / "d").c_str(), 0700);
  EXPECT_EQ(LoadError((dir_ / "d").string()),
            "keyring " + (dir_ / "d").string() + ": not a regular file");
}

TEST_F(KeyringFileTest, MalformedLinesNameFileAndLine) {
  const std::string k32 = Base64Encode(SecretBytes::Random(32).view());
  const std::string k16 = Base64Encode(SecretBytes::Random(16).view());
  const std::string head = "callvault-keyring 1\n# comment\n\n";  // entries start at line 4
  struct Case {
    std::string body;
    std::string want;
  } cases[] = {
      {head + "kek 2 " + k32.substr(1) + "\n", "line 4: bad base64 in kek 2"},
      {head + "kek 2 " + k16 + "\n", "line 4: kek 2 is 16 bytes, expected 32"},
      {head + "kek 1 " + k32 + "\nkek 1 " + k32 + "\n", "line 5: duplicate kek 1"},
      {head + "kek 0 " + k32 + "\n", "line 4: bad kek version (expected a positive integer)"},
      {head + "kek x1 " + k32 + "\n", "line 4: bad kek version (expected a positive integer)"},
      {head + "kek 1\n", "line 4: kek needs a version and a base64 key"},
      {head + "kek 1 " + k32 + "\nactive-kek 2\n", "line 5: active-kek 2 names no kek in this file"},
      {head + "kek 1 " + k32 + "\nactive-kek 1\nactive-kek 1\n", "line 6: duplicate active-kek"},
      {head + k32 + "\n", "line 4: unknown entry (expected kek, active-kek or secret)"},
      {head + "secret Bad " + k32 + "\n", "line 4: bad secret name (expected [a-z0-9._-]+)"},
      {head + "secret li " + k32 + "x\n", "line 4: bad base64 in secret li"},
      {head + "secret li " + Base64Encode("short") + "\n",
       "line 4: secret li is 5 bytes, expected 16 to 64"},
      {"kek 1 " + k32 + "\n", "line 1: expected 'callvault-keyring 1' as the first entry"},
      {"callvault-keyring 2\n",
       "line 1: unsupported keyring format version (this build reads version 1)"},
  };
  for (const auto& c : cases) {
    std::string path = Write("bad", c.body);
    std::string error = LoadError(path);
    EXPECT_EQ(error, "keyring " + path + ": " + c.want) << c.body;
    EXPECT_EQ(error.find(k32.substr(0, 12)), std::string::npos) << "error quotes key material";
  }
  std::string path = Write("noactive", head + "kek 1 " + k32 + "\n");
  EXPECT_EQ(LoadError(path), "keyring " + path + ": no active-kek line");
  path = Write("empty", "# nothing\n");
  EXPECT_EQ(LoadError(path), "keyring " + path + ": empty (no 'callvault-keyring 1' line)");
}

TEST_F(KeyringFileTest, SaveRefusesWhatLoadWouldRefuse) {
  Keyring ring = Keyring::Generate();
  ring.SetSecret("Upper", SecretBytes::Random(32));
  std::string path = (dir_ / "k").string();
  std::string error;
  EXPECT_FALSE(ring.Save(path, &error));
  EXPECT_EQ(error, "keyring " + path + ": not saved: a secret name is not [a-z0-9._-]+");
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(Keyring().Save(path, &error));
  EXPECT_EQ(error, "keyring " + path + ": not saved: active KEK version 0 is not in the keyring");
}

}  // namespace
}  // namespace callvault
