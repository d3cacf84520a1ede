// callvaultctl's store commands end to end, as ops run them: a YAML config
// and a 0600 keyring on disk, the binary run as a child process against the
// private cluster.  db migrate, cdr show / search (table and jsonl), tamper
// detection, keys rotate and TLS failures.
#include <sys/stat.h>

#include <fstream>

#include <gtest/gtest.h>

#include "module/config/config.h"
#include "module/store/migrate.h"
#include "module/store/shipper.h"
#include "tests/module/store/store_fixture.h"

namespace callvault::testing {
namespace {

class CtlTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    keyring_path_ = tmp_ + "/keyring";
    std::string err;
    ASSERT_TRUE(keyring_.Save(keyring_path_, &err)) << err;
    config_path_ = tmp_ + "/callvault.yaml";
    std::ofstream y(config_path_);
    y << "node_id: node-1\n"
      << "keyring: " << keyring_path_ << "\n"
      << "journal:\n  dir: " << cfg_.journal.dir << "\n"
      << "database:\n  enabled: true\n  conninfo: \"" << Writer() << "\"\n"
      << "trunks:\n"
      << "  - name: carrier-a\n    default_region: IN\n"
      << "    retention: { class: cdr, days: 800, legal_basis: \"statutory\" }\n";
    y.close();
    ::chmod(config_path_.c_str(), 0600);
    ASSERT_TRUE(LoadConfig(config_path_, &loaded_, &err)) << err;
  }

  // Runs callvaultctl with args; returns its exit code, output in *out.
  int Ctl(const std::string& args, std::string* out) {
    return RunCommand(std::string(CV_CTL_BINARY) + " " + args, out);
  }
  std::string Common(const std::string& conninfo) {
    return "--config " + config_path_ + " --conninfo '" + conninfo + "'";
  }

  std::string keyring_path_, config_path_;
  Config loaded_;
};

TEST_F(CtlTest, DbMigrateIsIdempotentAndRefusesNewer) {
  const std::string fresh = db_ + "_ctl";
  Cluster().Exec("postgres", "CREATE DATABASE " + fresh);
  // The admin conninfo is all it needs: no module config on the DBA's machine.
  const std::string admin = "--admin-conninfo '" + Cluster().SuperConnInfo(fresh) + "'";
  std::string out;
  EXPECT_EQ(Ctl("db migrate", &out), 2);
  EXPECT_NE(out.find("missing --admin-conninfo or --config"), std::string::npos) << out;
  ASSERT_EQ(Ctl("db migrate " + admin, &out), 0) << out;
  EXPECT_NE(out.find("schema version 0 -> " + std::to_string(LatestEmbeddedVersion())),
            std::string::npos)
      << out;
  ASSERT_EQ(Ctl("db migrate " + admin, &out), 0) << out;
  EXPECT_NE(out.find("schema already at version " + std::to_string(LatestEmbeddedVersion())),
            std::string::npos)
      << out;
  EXPECT_EQ(Cluster().Query(fresh, "SELECT count(*) FROM pg_inherits WHERE inhparent = "
                                   "'cdr.records'::regclass"),
            "2");  // this month and the next
  Cluster().Exec(fresh, "INSERT INTO callvault.schema_migrations VALUES (42, 'x', 'y')");
  EXPECT_EQ(Ctl("db migrate " + admin, &out), 1);
  EXPECT_NE(out.find("database schema is at version 42, newer than version " +
                     std::to_string(LatestEmbeddedVersion())),
            std::string::npos)
      << out;
  Cluster().Exec("postgres", "DROP DATABASE " + fresh);
}

TEST_F(CtlTest, ShowSearchTamperRotate) {
  Journal(0, 50);
  Shipper shipper(loaded_, keyring_);
  Drain(shipper);
  ASSERT_EQ(Count("SELECT count(*) FROM cdr.records"), 50);
  const std::string reader = Common(Reader());
  std::string out;

  ASSERT_EQ(Ctl("cdr show " + RecordId(5) + " " + reader + " --format jsonl", &out), 0) << out;
  EXPECT_NE(out.find("\"record_id\":\"" + RecordId(5) + "\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"caller\":\"" + CallerOf(5) + "\""), std::string::npos) << out;
  ASSERT_EQ(Ctl("cdr show " + RecordId(5) + " " + reader, &out), 0) << out;
  EXPECT_NE(out.find("retain_until"), std::string::npos) << out;

  // National form of an international caller; international form of a national callee.
  ASSERT_EQ(Ctl("cdr search --caller 0984" + CallerOf(6).substr(6) + " " + reader +
                    " --format jsonl",
                &out),
            0)
      << out;
  EXPECT_NE(out.find("\"record_id\":\"" + RecordId(6) + "\""), std::string::npos) << out;
  EXPECT_NE(out.find("1 record(s), 0 failed"), std::string::npos) << out;
  ASSERT_EQ(Ctl("cdr search --callee +91" + CalleeOf(7).substr(1) + " " + reader, &out), 0)
      << out;
  EXPECT_NE(out.find(RecordId(7).substr(24)), std::string::npos) << out;
  ASSERT_EQ(Ctl("cdr search --callee +91" + CalleeOf(7).substr(1) + " --from 2020-01-01 --to "
                "2020-12-31 " + reader, &out), 0) << out;
  EXPECT_NE(out.find("0 record(s)"), std::string::npos) << out;
  EXPECT_EQ(Ctl("cdr search --caller 1 --callee 2 " + reader, &out), 2);

  // Writer credentials (the config's) cannot read payloads back.
  EXPECT_EQ(Ctl("cdr show " + RecordId(5) + " --config " + config_path_, &out), 1);
  EXPECT_NE(out.find("permission denied"), std::string::npos) << out;

  // Tampering fails loudly, naming the record.
  Cluster().Exec(db_, "UPDATE cdr.records SET payload = set_byte(payload, 20, get_byte(payload, "
                      "20) # 128) WHERE record_id = '" + RecordId(9) + "'");
  EXPECT_EQ(Ctl("cdr show " + RecordId(9) + " " + reader, &out), 1);
  EXPECT_NE(out.find("record " + RecordId(9) +
                     ": payload authentication failed (retention metadata or payload altered)"),
            std::string::npos)
      << out;
  Cluster().Exec(db_, "UPDATE cdr.records SET retain_until = retain_until + 365 WHERE record_id "
                      "= '" + RecordId(10) + "'");
  EXPECT_EQ(Ctl("cdr show " + RecordId(10) + " " + reader + " --format jsonl", &out), 1);
  EXPECT_NE(out.find("record " + RecordId(10) + ": payload authentication failed"),
            std::string::npos)
      << out;
  EXPECT_EQ(Ctl("cdr search --caller " + CallerOf(10) + " " + reader, &out), 1);
  EXPECT_NE(out.find("0 record(s), 1 failed"), std::string::npos) << out;

  // Rotation: new KEK version in the file, data keys rewrapped, payloads untouched.
  const std::string payloads =
      "SELECT md5(string_agg(payload::text, '' ORDER BY record_id)) FROM cdr.records";
  const std::string before = Cluster().Query(db_, payloads);
  ASSERT_EQ(Ctl("keys rotate " + Common(Cluster().TlsConnInfo(db_, "cv_ops", kOpsPassword)), &out),
            0)
      << out;
  EXPECT_NE(out.find("KEK version 2 added"), std::string::npos) << out;
  EXPECT_NE(out.find("2 data key(s) rewrapped under KEK version 2"), std::string::npos) << out;
  EXPECT_EQ(Cluster().Query(db_, payloads), before);
  EXPECT_EQ(Count("SELECT count(*) FROM cdr.data_keys WHERE kek_version = 2"), 2);
  struct stat st{};
  ASSERT_EQ(::stat(keyring_path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(Ctl("cdr show " + RecordId(5) + " " + reader + " --format jsonl", &out), 0) << out;
  ASSERT_EQ(Ctl("keys rotate --rewrap-only " +
                    Common(Cluster().TlsConnInfo(db_, "cv_ops", kOpsPassword)),
                &out),
            0)
      << out;
  EXPECT_NE(out.find("0 data key(s) rewrapped under KEK version 2, 2 already were"),
            std::string::npos)
      << out;
  // The writer may not rewrap.
  EXPECT_EQ(Ctl("keys rotate --rewrap-only --config " + config_path_, &out), 1);
  EXPECT_NE(out.find("permission denied"), std::string::npos) << out;
}

TEST_F(CtlTest, TlsFailuresAreClearAndNameNoAddress) {
  std::string out;
  const std::string wrong_host = Common(
      Cluster().TlsConnInfo(db_, "cv_reader", kReaderPassword, "", "db.wrong.invalid"));
  EXPECT_EQ(Ctl("cdr show " + RecordId(1) + " " + wrong_host, &out), 1);
  EXPECT_NE(out.find("does not match host name"), std::string::npos) << out;
  EXPECT_EQ(out.find("127.0.0.1"), std::string::npos) << out;
  const std::string no_ca = Common(
      Cluster().TlsConnInfo(db_, "cv_reader", kReaderPassword, tmp_ + "/missing-ca.crt"));
  EXPECT_EQ(Ctl("cdr show " + RecordId(1) + " " + no_ca, &out), 1);
  EXPECT_NE(out.find("root certificate file"), std::string::npos) << out;
}

}  // namespace
}  // namespace callvault::testing
