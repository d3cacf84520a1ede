#include "module/config/config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>

namespace callvault {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cv-config-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    keyring_ = dir_ / "keyring";
    std::ofstream(keyring_) << "callvault-keyring 1\n";
    ::chmod(keyring_.c_str(), 0600);
    example_ = ReadFile(fs::path(CV_SOURCE_DIR) / "config/callvault.yaml");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes yaml as callvault.yaml next to the keyring and loads it.
  bool Load(const std::string& yaml, Config* cfg, std::string* err) {
    const fs::path p = dir_ / "callvault.yaml";
    std::ofstream(p) << yaml;
    return LoadConfig(p.string(), cfg, err);
  }
  std::string Replace(const std::string& from, const std::string& to) {
    std::string s = example_;
    auto at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
  }

  fs::path dir_, keyring_;
  std::string example_;
};

TEST_F(ConfigTest, ExampleConfigLoadsWithPathsRelativeToIt) {
  Config cfg;
  std::string err;
  ASSERT_TRUE(Load(example_, &cfg, &err)) << err;
  EXPECT_EQ(cfg.node_id, "demo-node-1");
  EXPECT_EQ(cfg.keyring, (dir_ / "keyring").string());
  EXPECT_EQ(cfg.journal.dir, (dir_ / "journal").string());
  EXPECT_EQ(cfg.capture.state_dir, cfg.journal.dir);
  EXPECT_EQ(cfg.capture.shm_name, "/callvault-demo-node-1");
  ASSERT_EQ(cfg.trunks.size(), 3u);
  EXPECT_EQ(cfg.RetentionFor("carrier-b").days, 1095);
  EXPECT_EQ(cfg.RetentionFor("nope").days, 730);
  EXPECT_EQ(cfg.RetentionFor("uk-wholesale").days, 365);
  ASSERT_EQ(cfg.analytics.sinks.size(), 1u);
  EXPECT_EQ(cfg.analytics.sinks[0].path, (dir_ / "analytics/events.jsonl").string());
}

TEST_F(ConfigTest, UnknownKeyIsRefusedWithFileKeyAndLine) {
  Config cfg;
  std::string err;
  EXPECT_FALSE(Load(Replace("  group_commit_ms: 5", "  group_commit_ms: 5\n  fsync: never"), &cfg, &err));
  EXPECT_NE(err.find("callvault.yaml: journal.fsync (line"), std::string::npos) << err;
  EXPECT_NE(err.find("unknown key"), std::string::npos) << err;
}

TEST_F(ConfigTest, WrongTypeIsRefused) {
  Config cfg;
  std::string err;
  EXPECT_FALSE(Load(Replace("slots: 32768", "slots: many"), &cfg, &err));
  EXPECT_NE(err.find("capture.slots"), std::string::npos) << err;
  EXPECT_NE(err.find("must be an integer"), std::string::npos) << err;
  EXPECT_FALSE(Load(Replace("enabled: false                # ship", "enabled: maybe #"), &cfg, &err));
  EXPECT_NE(err.find("database.enabled"), std::string::npos) << err;
}

TEST_F(ConfigTest, RetentionBelowStatutoryMinimumNamesTrunkAndMinimum) {
  Config cfg;
  std::string err;
  EXPECT_FALSE(Load(Replace("days: 1095", "days: 400"), &cfg, &err));
  EXPECT_NE(err.find("trunks[1].retention.days"), std::string::npos) << err;
  EXPECT_NE(err.find("'carrier-b'"), std::string::npos) << err;
  EXPECT_NE(err.find("730"), std::string::npos) << err;
}

TEST_F(ConfigTest, AnotherJurisdictionMayGoBelowTheIndianMinimum) {
  Config cfg;
  std::string err;
  ASSERT_TRUE(Load(Replace("days: 1095", "days: 400"), &cfg, &err) == false);
  std::string yaml = Replace("    default_region: IN\n    retention: { class: cdr, days: 1095",
                             "    default_region: IN\n    jurisdiction: AE\n    retention: { class: cdr, days: 400");
  EXPECT_TRUE(Load(yaml, &cfg, &err)) << err;
}

TEST_F(ConfigTest, KeyringReadableByOthersIsRefused) {
  ::chmod(keyring_.c_str(), 0644);
  Config cfg;
  std::string err;
  EXPECT_FALSE(Load(example_, &cfg, &err));
  EXPECT_NE(err.find(keyring_.string()), std::string::npos) << err;
  EXPECT_NE(err.find("0644"), std::string::npos) << err;
}

TEST_F(ConfigTest, MissingKeyringAndMissingConfigAreNamed) {
  fs::remove(keyring_);
  Config cfg;
  std::string err;
  EXPECT_FALSE(Load(example_, &cfg, &err));
  EXPECT_NE(err.find("keyring"), std::string::npos) << err;
  EXPECT_NE(err.find("does not exist"), std::string::npos) << err;
  EXPECT_FALSE(LoadConfig((dir_ / "absent.yaml").string(), &cfg, &err));
  EXPECT_NE(err.find("absent.yaml: cannot open"), std::string::npos) << err;
}

TEST_F(ConfigTest, SyntaxErrorGivesLine) {
  Config cfg;
  std::string err;
  EXPECT_FALSE(Load("node_id: a\ncapture: [1, 2\n", &cfg, &err));
  EXPECT_NE(err.find("YAML syntax error"), std::string::npos) << err;
  EXPECT_NE(err.find("line "), std::string::npos) << err;
}

TEST_F(ConfigTest, GeometryAndEnumsAreChecked) {
  Config cfg;
  std::string err;
  EXPECT_FALSE(Load(Replace("slots: 32768", "slots: 30000"), &cfg, &err));
  EXPECT_NE(err.find("power of two"), std::string::npos) << err;
  EXPECT_FALSE(Load(Replace("ip_mode: cryptopan", "ip_mode: hash"), &cfg, &err));
  EXPECT_NE(err.find("analytics.ip_mode"), std::string::npos) << err;
  EXPECT_FALSE(Load(Replace("node_id: demo-node-1", "node_id: \"bad id!\""), &cfg, &err));
  EXPECT_NE(err.find("node_id"), std::string::npos) << err;
  EXPECT_FALSE(Load(Replace("  - name: carrier-b", "  - name: pstn-in"), &cfg, &err));
  EXPECT_NE(err.find("duplicate trunk"), std::string::npos) << err;
  EXPECT_FALSE(Load(Replace("background_nice: 10", "background_nice: 20"), &cfg, &err));
  EXPECT_NE(err.find("capture.background_nice"), std::string::npos) << err;
}

}  // namespace
}  // namespace callvault
