#include "module/analytics/epoch_key_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "module/analytics/keyed_hash.h"
#include "module/analytics/number_pseudonymiser.h"
#include "module/crypto/base64.h"
#include "tests/module/analytics/test_util.h"

namespace callvault {
namespace {

using testing::ReadText;
using testing::TempDir;

std::string TokenOf(EpochKeyStore& store, const std::string& epoch, const std::string& number) {
  SecretBytes key;
  std::string error;
  EXPECT_EQ(store.Key(epoch, &key, &error), EpochKeyStore::Status::kOk) << error;
  auto hash = KeyedHash::Create(key);
  NumberNormaliser n;
  return PseudonymiseNumber(n.Normalise(number, "IN", false), false, hash.get()).token;
}

TEST(EpochKeyStore, CreatesOnFirstUsePrivatelyAndStaysStable) {
  TempDir dir;
  const Keyring keyring = Keyring::Generate();
  const std::string path = dir / "analytics-epochs";
  std::string error;
  auto store = EpochKeyStore::Open(path, keyring, &error);
  ASSERT_NE(store, nullptr) << error;
  EXPECT_FALSE(std::filesystem::exists(path));  // nothing until first use

  const std::string t1 = TokenOf(*store, "2026-11", "+919876543210");
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(TokenOf(*store, "2026-11", "09876543210"), t1);

  // A second process (another store on the same file and keyring) derives
  // the same key: tokens are stable within the epoch across restarts.
  auto again = EpochKeyStore::Open(path, keyring, &error);
  ASSERT_NE(again, nullptr) << error;
  EXPECT_EQ(TokenOf(*again, "2026-11", "+919876543210"), t1);

  // Across epochs, unlinkable.
  EXPECT_NE(TokenOf(*store, "2026-12", "+919876543210"), t1);
  EpochKeyStore::Listing listing;
  ASSERT_TRUE(EpochKeyStore::List(path, &listing, &error)) << error;
  EXPECT_EQ(listing.live, (std::vector<std::string>{"2026-11", "2026-12"}));
  EXPECT_TRUE(listing.retired.empty());
}

TEST(EpochKeyStore, KeyNeedsBothTheFileAndThePseudonymSecret) {
  TempDir dir;
  Keyring keyring = Keyring::Generate();
  const std::string path = dir / "analytics-epochs";
  std::string error;
  auto store = EpochKeyStore::Open(path, keyring, &error);
  const std::string t1 = TokenOf(*store, "2026-11", "+919876543210");

  // Same file, same KEKs, other pseudonym secret: other key.
  Keyring other = keyring;
  other.SetSecret("pseudonym", SecretBytes::Random(32));
  auto store2 = EpochKeyStore::Open(path, other, &error);
  ASSERT_NE(store2, nullptr) << error;
  EXPECT_NE(TokenOf(*store2, "2026-11", "+919876543210"), t1);

  // No pseudonym secret at all: refused.
  Keyring none = keyring;
  none.RemoveSecret("pseudonym");
  EXPECT_EQ(EpochKeyStore::Open(path, none, &error), nullptr);
  EXPECT_NE(error.find("pseudonym"), std::string::npos);

  // A keyring without the KEK that wrapped the salt cannot open the epoch.
  auto foreign = EpochKeyStore::Open(path, Keyring::Generate(), &error);
  ASSERT_NE(foreign, nullptr);
  SecretBytes key;
  EXPECT_EQ(foreign->Key("2026-11", &key, &error), EpochKeyStore::Status::kError);
  EXPECT_NE(error.find("cannot unwrap"), std::string::npos) << error;
}

TEST(EpochKeyStore, RefusesLooseFilePermissionsAndDamage) {
  TempDir dir;
  const std::string path = dir / "analytics-epochs";
  std::string error;
  {
    auto store = EpochKeyStore::Open(path, Keyring::Generate(), &error);
    SecretBytes key;
    ASSERT_EQ(store->Key("2026-11", &key, &error), EpochKeyStore::Status::kOk);
  }
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  EXPECT_EQ(EpochKeyStore::Open(path, Keyring::Generate(), &error), nullptr);
  EXPECT_NE(error.find("mode 0644"), std::string::npos) << error;
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  {
    std::ofstream out(path, std::ios::app);
    out << "epoch 2026-12 1 not-base64!\n";
  }
  EXPECT_EQ(EpochKeyStore::Open(path, Keyring::Generate(), &error), nullptr);
  EXPECT_NE(error.find("analytics-epochs:3:"), std::string::npos) << error;
}

TEST(EpochKeyStore, RetiredEpochCannotBeRecomputedOrRecreated) {
  TempDir dir;
  const Keyring keyring = Keyring::Generate();
  const std::string path = dir / "analytics-epochs";
  std::string error;
  auto store = EpochKeyStore::Open(path, keyring, &error);
  ASSERT_NE(store, nullptr);
  const std::string before = TokenOf(*store, "2026-10", "+919876543210");
  const std::string keep = TokenOf(*store, "2026-11", "+919876543210");
  // The wrapped salt as it sits in the file.
  const std::string file_before = ReadText(path);
  const size_t at = file_before.find("epoch 2026-10 ");
  ASSERT_NE(at, std::string::npos);
  const std::string salt_line = file_before.substr(at, file_before.find('\n', at) - at);

  EpochKeyStore::RetireResult result;
  ASSERT_TRUE(EpochKeyStore::Retire(path, "2026-10", 1795813384, &result, &error)) << error;
  EXPECT_TRUE(result.had_key);
  EXPECT_FALSE(result.already_retired);

  // The salt is gone from the file, the retirement recorded.
  const std::string file_after = ReadText(path);
  EXPECT_EQ(file_after.find(salt_line), std::string::npos);
  EXPECT_NE(file_after.find("retired 2026-10 1795813384"), std::string::npos);
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // A fresh process with the full keyring cannot get the key back, nor
  // create a new one under the same id.
  auto fresh = EpochKeyStore::Open(path, keyring, &error);
  ASSERT_NE(fresh, nullptr);
  SecretBytes key;
  EXPECT_EQ(fresh->Key("2026-10", &key, &error), EpochKeyStore::Status::kRetired);
  EXPECT_EQ(fresh->Key("2026-10", &key, &error), EpochKeyStore::Status::kRetired);
  EXPECT_EQ(ReadText(path), file_after);  // not recreated
  // Other epochs are untouched.
  EXPECT_EQ(TokenOf(*fresh, "2026-11", "+919876543210"), keep);

  // The running store that had the key cached notices and forgets it.
  EXPECT_EQ(store->Refresh(), 1u);
  EXPECT_EQ(store->Key("2026-10", &key, &error), EpochKeyStore::Status::kRetired);
  EXPECT_EQ(TokenOf(*store, "2026-11", "+919876543210"), keep);

  // Retiring twice is harmless; retiring an epoch that never existed is
  // recorded too, so it can never be created.
  ASSERT_TRUE(EpochKeyStore::Retire(path, "2026-10", 1795813390, &result, &error));
  EXPECT_TRUE(result.already_retired);
  ASSERT_TRUE(EpochKeyStore::Retire(path, "2026-W01", 1795813390, &result, &error));
  EXPECT_FALSE(result.had_key);
  EXPECT_FALSE(result.already_retired);
  auto third = EpochKeyStore::Open(path, keyring, &error);
  EXPECT_EQ(third->Key("2026-W01", &key, &error), EpochKeyStore::Status::kRetired);
  EXPECT_FALSE(before.empty());

  EpochKeyStore::Listing listing;
  ASSERT_TRUE(EpochKeyStore::List(path, &listing, &error));
  EXPECT_EQ(listing.live, (std::vector<std::string>{"2026-11"}));
  ASSERT_EQ(listing.retired.size(), 2u);
  EXPECT_FALSE(EpochKeyStore::Retire(path, "../../etc", 0, &result, &error));
}

}  // namespace
}  // namespace callvault
