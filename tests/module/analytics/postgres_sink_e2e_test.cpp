// The PostgreSQL analytics sink against a real private cluster: schema and
// role separation both ways, idempotent inserts, reconnect after a restart,
// and a frozen server that can neither block writers nor hang shutdown.
#include <gtest/gtest.h>

#include <chrono>
#include <pqxx/pqxx>
#include <thread>

#include "module/analytics/epoch_key_store.h"
#include "module/analytics/event_builder.h"
#include "module/analytics/postgres_sink.h"
#include "module/store/migrate.h"
#include "tests/module/analytics/test_util.h"
#include "tests/module/store/pg_cluster.h"

namespace callvault {
namespace {

using testing::SampleCdr;
using testing::TempDir;

constexpr char kDb[] = "callvault";

class PostgresSinkTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cluster_ = new testing::PgCluster();
    cluster_->Exec("postgres", std::string("create database ") + kDb);
    // The real migrations (CDR store and analytics), twice: `db migrate`
    // runs on every upgrade and must be harmless when there is nothing new.
    for (int run = 0; run < 2; ++run) {
      pqxx::connection admin(cluster_->SuperConnInfo(kDb));
      MigrateResult result;
      std::string err;
      ASSERT_TRUE(MigrateDatabase(admin, &result, &err)) << err;
    }
    cluster_->Exec(kDb, "create role cv_test_writer login password 'writer-pw' "
                        "in role callvault_writer");
    cluster_->Exec(kDb, "alter role callvault_analytics login password 'analytics-pw'");
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }

  static std::string AnalyticsConnInfo() {
    return cluster_->TlsConnInfo(kDb, "callvault_analytics", "analytics-pw");
  }
  static uint64_t Rows() {
    return std::stoull(cluster_->Query(kDb, "select count(*) from analytics.call_events"));
  }
  static bool WaitWritten(const PostgresSink& sink, uint64_t n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (sink.stats().written < n && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return sink.stats().written >= n;
  }

  // Events built the real way, distinct record ids.
  std::vector<std::string> Events(int first, int count) {
    std::vector<std::string> out;
    EventBuilder builder(EventBuilderOptions(), store_.get());
    for (int i = first; i < first + count; ++i) {
      Cdr c = SampleCdr();
      c.record_id = "rec-" + std::to_string(i);
      std::string line, error;
      EXPECT_EQ(builder.Build(c, &line, &error), EventBuilder::Result::kOk) << error;
      out.push_back(line);
    }
    return out;
  }

  void SetUp() override {
    std::string error;
    store_ = EpochKeyStore::Open(dir_ / "analytics-epochs", keyring_, &error);
    ASSERT_NE(store_, nullptr) << error;
  }

  static testing::PgCluster* cluster_;
  TempDir dir_;
  Keyring keyring_ = Keyring::Generate();
  std::unique_ptr<EpochKeyStore> store_;
};
testing::PgCluster* PostgresSinkTest::cluster_ = nullptr;

TEST_F(PostgresSinkTest, RolesAreSeparatedBothWays) {
  auto denied = [](const std::string& conninfo, const std::string& sql) {
    try {
      pqxx::connection c(conninfo);
      pqxx::work tx(c);
      tx.exec(sql);
      return false;
    } catch (const pqxx::insufficient_privilege&) {
      return true;
    }
  };
  EXPECT_TRUE(denied(AnalyticsConnInfo(), "select * from cdr.records"));
  EXPECT_TRUE(denied(cluster_->TlsConnInfo(kDb, "cv_test_writer", "writer-pw"),
                     "select * from analytics.call_events"));
  EXPECT_TRUE(denied(cluster_->TlsConnInfo(kDb, "cv_test_writer", "writer-pw"),
                     "insert into analytics.call_events values ('x', 'e', '{}', now())"));
  // The analytics role can read what it wrote.
  pqxx::connection c(AnalyticsConnInfo());
  pqxx::work tx(c);
  EXPECT_NO_THROW(tx.exec("select count(*) from analytics.call_events"));
}

TEST_F(PostgresSinkTest, InsertsOnceReconnectsAndSurvivesAFrozenServer) {
  cluster_->Exec(kDb, "truncate analytics.call_events");
  PostgresSinkOptions o;
  o.conninfo = AnalyticsConnInfo();
  o.retry_ms = 100;
  o.shutdown_grace_ms = 500;
  auto sink = std::make_unique<PostgresSink>(o);

  const auto events = Events(1, 5);
  for (const auto& e : events) ASSERT_TRUE(sink->Write(e));
  ASSERT_TRUE(sink->Write(events[0]));  // a replay: same event_id
  sink->Flush();
  ASSERT_TRUE(WaitWritten(*sink, 6));
  EXPECT_EQ(Rows(), 5u);
  EXPECT_EQ(cluster_->Query(kDb, "select count(distinct epoch) from analytics.call_events"), "1");
  EXPECT_EQ(cluster_->Query(kDb, "select event->>'schema_version' from analytics.call_events limit 1"),
            "1");

  // Server down: writes are buffered, nothing blocks; back up: delivered.
  cluster_->Stop();
  const auto more = Events(6, 3);
  for (const auto& e : more) ASSERT_TRUE(sink->Write(e));
  sink->Flush();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(sink->stats().written, 6u);
  cluster_->Start();
  for (int i = 0; i < 200 && sink->stats().written < 9; ++i) {
    sink->Flush();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(sink->stats().written, 9u);
  EXPECT_EQ(Rows(), 8u);
  EXPECT_GE(sink->stats().errors, 1u);

  // Server frozen mid-flight: Write and Flush return at once, and destroying
  // the sink does not hang on the stuck connection.
  cluster_->Freeze(true);
  const auto frozen = Events(9, 2);
  const auto t0 = std::chrono::steady_clock::now();
  for (const auto& e : frozen) sink->Write(e);
  sink->Flush();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(50));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto t1 = std::chrono::steady_clock::now();
  sink.reset();
  const auto shutdown = std::chrono::steady_clock::now() - t1;
  cluster_->Freeze(false);
  EXPECT_LT(shutdown, std::chrono::seconds(3));
}

TEST_F(PostgresSinkTest, BufferBoundDropsAndCounts) {
  PostgresSinkOptions o;
  o.conninfo = "host=127.0.0.1 port=1 user=nobody dbname=none connect_timeout=1";
  o.max_buffer_lines = 4;
  o.retry_ms = 60000;
  o.shutdown_grace_ms = 100;
  PostgresSink sink(o);
  int accepted = 0;
  for (const auto& e : Events(20, 10)) accepted += sink.Write(e) ? 1 : 0;
  EXPECT_EQ(accepted, 4);
  EXPECT_EQ(sink.stats().dropped, 6u);
  EXPECT_EQ(sink.stats().written, 0u);
}

}  // namespace
}  // namespace callvault
