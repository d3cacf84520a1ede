#include "tests/module/store/store_fixture.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include <pqxx/pqxx>

#include "module/cdr/cdr_json.h"
#include "module/journal/journal.h"
#include "module/store/migrate.h"

namespace callvault::testing {
namespace {

constexpr int64_t kBaseMs = 1795803784123;  // 2026-11-27T18:23:04.123Z

void CreateLoginRoles(PgCluster& pg) {
  // The group roles come from the migrations: migrate a scratch database
  // first, then add one login per group (as ops would).
  pg.Exec("postgres", "CREATE DATABASE bootstrap");
  pqxx::connection c(pg.SuperConnInfo("bootstrap"));
  MigrateResult r;
  std::string err;
  if (!MigrateDatabase(c, &r, &err)) {
    std::fprintf(stderr, "bootstrap migrate failed: %s\n", err.c_str());
    std::abort();
  }
  pg.Exec("postgres",
          std::string("CREATE ROLE cv_writer LOGIN PASSWORD '") + kWriterPassword +
              "' IN ROLE callvault_writer;"
              "CREATE ROLE cv_ops LOGIN PASSWORD '" + kOpsPassword +
              "' IN ROLE callvault_ops;"
              "CREATE ROLE cv_reader LOGIN PASSWORD '" + kReaderPassword +
              "' IN ROLE callvault_reader;"
              "CREATE ROLE cv_nobody LOGIN PASSWORD '" + kNobodyPassword + "'");
}

}  // namespace

PgCluster& Cluster() {
  static PgCluster* pg = [] {
    auto* p = new PgCluster();
    CreateLoginRoles(*p);
    // Stopped at exit (and on ctest timeouts, the temp dir names the cluster).
    std::atexit([] { delete pg; });
    return p;
  }();
  return *pg;
}

std::string RecordId(int i) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012d", i);
  return buf;
}

std::string CallerOf(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "+91984%07d", i);
  return buf;
}

std::string CalleeOf(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0981%07d", i);
  return buf;
}

Cdr MakeCdr(int i, const std::string& trunk) {
  Cdr c;
  c.record_id = RecordId(i);
  c.node_id = "node-1";
  c.call_id = "call-" + std::to_string(i) + "@10.0.0.1";
  c.ingress_trunk = trunk;
  c.egress_trunk = "core";
  c.caller = CallerOf(i);
  c.callee = CalleeOf(i);
  c.callee_to = c.callee;
  c.caller_host = "10.0.0.1";
  c.callee_host = "10.0.0.2";
  c.src_addr = "10.0.0.1:5060";
  c.dst_addr = "10.0.0.2:5060";
  c.caller_ua = "sipp";
  c.callee_ua = "sipp";
  // Spread over two months so several partitions and data keys are used.
  c.invite_time_ms = kBaseMs - static_cast<int64_t>(i % 40) * 86400000;
  c.ring_time_ms = c.invite_time_ms + 120;
  c.answer_time_ms = c.invite_time_ms + 2000;
  c.end_time_ms = c.answer_time_ms + 60000;
  c.post_dial_delay_ms = 120;
  c.duration_ms = 60000;
  c.billable_seconds = 60;
  c.final_status = 200;
  c.released_by = ReleasedBy::kCaller;
  c.disposition = Disposition::kAnswered;
  c.codecs_offered = "PCMU,PCMA";
  c.codecs_answered = "PCMU";
  return c;
}

void StoreTest::SetUp() {
  static int n = 0;
  db_ = "t" + std::to_string(::getpid()) + "_" + std::to_string(++n);
  PgCluster& pg = Cluster();
  pg.Exec("postgres", "CREATE DATABASE " + db_);
  pqxx::connection c(pg.SuperConnInfo(db_));
  MigrateResult r;
  std::string err;
  ASSERT_TRUE(MigrateDatabase(c, &r, &err)) << err;

  char tmpl[] = "/tmp/cv-store-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  tmp_ = tmpl;
  keyring_ = Keyring::Generate();
  cfg_ = Config{};
  cfg_.node_id = "node-1";
  cfg_.journal.dir = tmp_ + "/journal";
  std::filesystem::create_directories(cfg_.journal.dir);
  cfg_.database.enabled = true;
  cfg_.database.conninfo = Writer();
  cfg_.database.batch_size = 1000;
  cfg_.database.retry_ms = 50;
  TrunkConfig a;
  a.name = "carrier-a";
  a.retention.days = 800;
  TrunkConfig b;
  b.name = "carrier-b";
  b.default_region = "DE";
  b.jurisdiction = "DE";
  b.retention.days = 180;
  b.retention.legal_basis = "contract: billing disputes";
  cfg_.trunks = {a, b};
}

void StoreTest::TearDown() {
  std::error_code ec;
  std::filesystem::remove_all(tmp_, ec);
  // Terminate leftovers (a dropped shipper's backend) before dropping.
  Cluster().Exec("postgres", "DROP DATABASE IF EXISTS " + db_ + " WITH (FORCE)");
}

void StoreTest::Journal(int from, int count, const std::string& trunk) {
  JournalOptions o;
  o.dir = cfg_.journal.dir;
  std::string err;
  auto w = JournalWriter::Open(o, keyring_, &err);
  ASSERT_TRUE(w) << err;
  JournalPosition at;
  for (int i = from; i < from + count; ++i) {
    ASSERT_TRUE(w->Append(RecordType::kCdr, CdrToJson(MakeCdr(i, trunk)), &at, &err)) << err;
  }
  ASSERT_TRUE(w->Sync(&err)) << err;
}

void StoreTest::JournalRaw(const std::string& payload) {
  JournalOptions o;
  o.dir = cfg_.journal.dir;
  std::string err;
  auto w = JournalWriter::Open(o, keyring_, &err);
  ASSERT_TRUE(w) << err;
  JournalPosition at;
  ASSERT_TRUE(w->Append(RecordType::kCdr, payload, &at, &err)) << err;
  ASSERT_TRUE(w->Sync(&err)) << err;
}

void StoreTest::Drain(Shipper& s) {
  for (int guard = 0; guard < 100000; ++guard) {
    size_t n = 0;
    std::string err;
    ASSERT_TRUE(s.RunOnce(1u << 30, &err, &n)) << err;
    if (n == 0) return;
  }
  FAIL() << "journal never drained";
}

int64_t StoreTest::Count(const std::string& sql) const {
  const std::string v = Cluster().Query(db_, sql);
  return v.empty() ? -1 : std::stoll(v);
}

}  // namespace callvault::testing
