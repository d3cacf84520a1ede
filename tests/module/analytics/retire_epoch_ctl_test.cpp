// `callvaultctl analytics retire-epoch`, run through its command function
// against a real config, keyring and epoch file.
#include <gtest/gtest.h>

#include <ctime>
#include <fstream>

#include "module/analytics/epoch.h"
#include "module/analytics/epoch_key_store.h"
#include "module/analytics/keyed_hash.h"
#include "module/ctl/commands.h"
#include "tests/module/analytics/test_util.h"

namespace callvault {
namespace {

using testing::ReadText;
using testing::TempDir;

TEST(RetireEpochCommand, DestroysTheKeyForGood) {
  TempDir dir;
  const Keyring keyring = Keyring::Generate();
  std::string error;
  ASSERT_TRUE(keyring.Save(dir / "keyring", &error)) << error;
  const std::string config = dir / "callvault.yaml";
  {
    std::ofstream out(config);
    out << "node_id: node-a\nkeyring: keyring\njournal:\n  dir: " << dir.path() << "\n";
  }
  const std::string epochs = dir / "analytics-epochs";
  std::string token_before;
  {
    auto store = EpochKeyStore::Open(epochs, keyring, &error);
    SecretBytes key;
    ASSERT_EQ(store->Key("2026-10", &key, &error), EpochKeyStore::Status::kOk) << error;
    token_before = KeyedHash::Create(key)->Token("num", "919876543210");
  }

  EXPECT_EQ(ctl::AnalyticsRetireEpoch({"2026-10", "--config", config}), 0);
  EXPECT_NE(ReadText(epochs).find("retired 2026-10 "), std::string::npos);
  EXPECT_EQ(ReadText(epochs).find("epoch 2026-10 "), std::string::npos);

  // The token of that epoch can no longer be recomputed: the key is gone
  // and the epoch will not be created again.
  auto store = EpochKeyStore::Open(epochs, keyring, &error);
  SecretBytes key;
  EXPECT_EQ(store->Key("2026-10", &key, &error), EpochKeyStore::Status::kRetired);
  EXPECT_TRUE(key.empty());
  EXPECT_FALSE(token_before.empty());

  // Again: fine, nothing changes.
  EXPECT_EQ(ctl::AnalyticsRetireEpoch({"2026-10", "--config", config}), 0);

  // The current epoch only with --force; usage errors are exit code 2.
  const std::string current = EpochIdFor(int64_t{std::time(nullptr)} * 1000, EpochGranularity::kMonth);
  EXPECT_EQ(ctl::AnalyticsRetireEpoch({current, "--config", config}), 1);
  EXPECT_EQ(ReadText(epochs).find("retired " + current), std::string::npos);
  EXPECT_EQ(ctl::AnalyticsRetireEpoch({current, "--config", config, "--force"}), 0);
  EXPECT_NE(ReadText(epochs).find("retired " + current), std::string::npos);
  EXPECT_EQ(ctl::AnalyticsRetireEpoch({"november", "--config", config}), 2);
  EXPECT_EQ(ctl::AnalyticsRetireEpoch({"2026-10"}), 2);
  EXPECT_EQ(ctl::AnalyticsRetireEpoch({"2026-10", "--config", dir / "missing.yaml"}), 1);
}

}  // namespace
}  // namespace callvault
