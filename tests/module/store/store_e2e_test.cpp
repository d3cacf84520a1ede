// The CDR store against a real PostgreSQL 15 cluster (scripts/pg-cluster),
// over TLS with verify-full: migrations, privileges, exactly-once shipping
// across restarts, crashes and replays, quarantine, key rotation, search,
// tamper detection, TLS failures and a stopped or frozen server.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "module/cdr/cdr_json.h"
#include "module/store/blind_index.h"
#include "module/store/key_rotation.h"
#include "module/store/migrate.h"
#include "module/store/pg_conn.h"
#include "module/store/record_store.h"
#include "module/store/shipper.h"
#include "tests/module/store/store_fixture.h"

namespace callvault::testing {
namespace {

// ---------------------------------------------------------------- migrations

TEST_F(StoreTest, MigrateIsIdempotentAndRefusesANewerSchema) {
  pqxx::connection c(Cluster().SuperConnInfo(db_));
  MigrateResult r;
  std::string err;
  ASSERT_TRUE(MigrateDatabase(c, &r, &err)) << err;
  EXPECT_EQ(r.from_version, LatestEmbeddedVersion());
  EXPECT_EQ(r.to_version, LatestEmbeddedVersion());
  EXPECT_TRUE(r.applied.empty());
  EXPECT_EQ(Count("SELECT count(*) FROM callvault.schema_migrations"), LatestEmbeddedVersion());
  EXPECT_EQ(RecordedSchemaVersion(c, &err), LatestEmbeddedVersion());

  const int newer = LatestEmbeddedVersion() + 7;
  Cluster().Exec(db_, "INSERT INTO callvault.schema_migrations (version, name, checksum) VALUES (" +
                          std::to_string(newer) + ", 'future', 'x')");
  EXPECT_FALSE(MigrateDatabase(c, &r, &err));
  EXPECT_EQ(err, "database schema is at version " + std::to_string(newer) +
                     ", newer than version " + std::to_string(LatestEmbeddedVersion()) +
                     " known to this callvaultctl; use a newer callvaultctl");
  Cluster().Exec(db_, "DELETE FROM callvault.schema_migrations WHERE version = " +
                          std::to_string(newer));

  // An applied migration edited afterwards is refused too.
  Cluster().Exec(db_, "UPDATE callvault.schema_migrations SET checksum = 'edited' WHERE version = 2");
  EXPECT_FALSE(MigrateDatabase(c, &r, &err));
  EXPECT_NE(err.find("migration 2 (cdr_store) differs"), std::string::npos) << err;
}

TEST_F(StoreTest, MigrateFromEmptyRecordsEveryVersion) {
  Cluster().Exec("postgres", "CREATE DATABASE " + db_ + "_fresh");
  {
    pqxx::connection c(Cluster().SuperConnInfo(db_ + "_fresh"));
    MigrateResult r;
    std::string err;
    EXPECT_EQ(RecordedSchemaVersion(c, &err), 0);
    ASSERT_TRUE(MigrateDatabase(c, &r, &err)) << err;
    EXPECT_EQ(r.from_version, 0);
    EXPECT_EQ(static_cast<int>(r.applied.size()), LatestEmbeddedVersion());
  }
  Cluster().Exec("postgres", "DROP DATABASE " + db_ + "_fresh");
}

// ---------------------------------------------------------------- privileges

// Returns the SQLSTATE of running sql as the given login ("" = success).
std::string TryAs(const std::string& conninfo, const std::string& sql) {
  try {
    pqxx::connection c(conninfo);
    pqxx::work tx(c);
    tx.exec(sql);
    tx.commit();
    return "";
  } catch (const pqxx::sql_error& e) {
    return SqlState(e);
  }
}

TEST_F(StoreTest, RolesAreLeastPrivilege) {
  Journal(0, 10);
  Shipper s(cfg_, keyring_);
  Drain(s);
  const std::string writer = Writer();
  const std::string ops = Cluster().TlsConnInfo(db_, "cv_ops", kOpsPassword);
  const std::string reader = Reader();
  const std::string nobody = Cluster().TlsConnInfo(db_, "cv_nobody", kNobodyPassword);
  const std::string denied = "42501";

  // The writer appends but cannot read anything back, payloads least of all.
  EXPECT_EQ(TryAs(writer, "SELECT payload FROM cdr.records"), denied);
  EXPECT_EQ(TryAs(writer, "SELECT count(*) FROM cdr.records"), denied);
  EXPECT_EQ(TryAs(writer, "UPDATE cdr.data_keys SET kek_version = 9"), denied);
  EXPECT_EQ(TryAs(writer, "DELETE FROM cdr.records"), denied);
  EXPECT_EQ(TryAs(writer, "DROP TABLE cdr.records_" +
                              Cluster().Query(db_, "SELECT to_char(now(), 'YYYYMM')")),
            denied);
  EXPECT_EQ(TryAs(writer, "SELECT count(*) FROM cdr.data_keys"), "");
  // Ops: metadata and blind indexes, rotation; no payloads.
  EXPECT_EQ(TryAs(ops, "SELECT record_id, retain_until, caller_bi FROM cdr.records"), "");
  EXPECT_EQ(TryAs(ops, "SELECT payload FROM cdr.records"), denied);
  EXPECT_EQ(TryAs(ops, "UPDATE cdr.data_keys SET rotated_at = now()"), "");
  EXPECT_EQ(TryAs(ops, "UPDATE cdr.data_keys SET trunk = 'x'"), denied);
  EXPECT_EQ(TryAs(ops, "INSERT INTO cdr.quarantine (node_id, journal_position, reason) "
                       "VALUES ('n', '0:0', 'x')"),
            denied);
  // The reader (subject requests) reads payloads and wrapped keys only.
  EXPECT_EQ(TryAs(reader, "SELECT payload FROM cdr.records"), "");
  EXPECT_EQ(TryAs(reader, "SELECT wrapped FROM cdr.data_keys"), "");
  EXPECT_EQ(TryAs(reader, "DELETE FROM cdr.records"), denied);
  // Anyone else (e.g. an analytics login) sees nothing of the CDR schema.
  EXPECT_EQ(TryAs(nobody, "SELECT count(*) FROM cdr.records"), denied);
  EXPECT_EQ(TryAs(nobody, "SELECT count(*) FROM cdr.data_keys"), denied);
  EXPECT_EQ(TryAs(nobody, "SELECT cdr.ensure_month(current_date)"), denied);
  if (!Cluster().Query(db_, "SELECT 1 FROM pg_roles WHERE rolname = 'callvault_analytics'").empty()) {
    EXPECT_EQ(Cluster().Query(db_, "SELECT has_schema_privilege('callvault_analytics', 'cdr', "
                                   "'USAGE')"),
              "f");
  }
}

// ---------------------------------------------------------------- shipping

TEST_F(StoreTest, ShipsTenThousandRecordsExactlyOnce) {
  Journal(0, 10000);
  Shipper s(cfg_, keyring_);
  Drain(s);
  EXPECT_EQ(Count("SELECT count(*) FROM cdr.records"), 10000);
  EXPECT_EQ(Count("SELECT count(DISTINCT record_id) FROM cdr.records"), 10000);
  EXPECT_EQ(Count("SELECT count(*) FROM cdr.quarantine"), 0);
  const ShipperStats st = s.stats();
  EXPECT_EQ(st.shipped, 10000u);
  EXPECT_EQ(st.duplicates, 0u);
  EXPECT_EQ(st.batches, 10u);
  EXPECT_EQ(Cluster().Query(db_, "SELECT position FROM cdr.ship_positions WHERE node_id = 'node-1'"),
            st.position);
  EXPECT_EQ(Count("SELECT shipped FROM cdr.ship_positions"), 10000);
  // One data key per trunk and month, two months of calls.
  EXPECT_EQ(Count("SELECT count(*) FROM cdr.data_keys"), 2);
  EXPECT_EQ(Count("SELECT count(*) FROM pg_inherits WHERE inhparent = 'cdr.records'::regclass"),
            Count("SELECT count(DISTINCT date_trunc('month', call_day)) FROM cdr.records") +
                (Count("SELECT count(*) FROM cdr.records WHERE date_trunc('month', call_day) = "
                       "date_trunc('month', current_date)") > 0
                     ? 1
                     : 2) -
                0);
  // Clear columns: retention computed at write, nothing identifying.
  EXPECT_EQ(Count("SELECT count(*) FROM cdr.records WHERE retain_until <> call_day + 800"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM cdr.records WHERE position('\\x3938343030' in "
                  "payload::text) > 0"),
            0);
  // Nothing new: a further run is a no-op.
  size_t n = 1;
  std::string err;
  ASSERT_TRUE(s.RunOnce(1000, &err, &n)) << err;
  EXPECT_EQ(n, 0u);
}

TEST_F(StoreTest, RestartsCrashesAndReplaysNeverDuplicate) {
  Journal(0, 10000);
  {
    // Killed between batches.
    Shipper s(cfg_, keyring_);
    std::string err;
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(s.RunOnce(1000, &err)) << err;
  }
  EXPECT_EQ(Count("SELECT count(*) FROM cdr.records"), 3000);
  {
    // Crash after COPY and the checkpoint update, before COMMIT.
    ShipperOptions o;
    int calls = 0;
    o.before_commit = [&calls] { return ++calls < 2; };
    Shipper s(cfg_, keyring_, o);
    std::string err;
    ASSERT_TRUE(s.RunOnce(1000, &err)) << err;
    EXPECT_FALSE(s.RunOnce(1000, &err));
    EXPECT_EQ(err, "injected failure before commit");
  }
  EXPECT_EQ(Count("SELECT count(*) FROM cdr.records"), 4000);
  // A proxy crash replays part of the capture ring: the same CDRs (same
  // record ids) reach the journal a second time.
  Journal(2500, 700);
  Journal(9900, 100);
  Shipper s(cfg_, keyring_);
  Drain(s);
  EXPECT_EQ(Count("SELECT count(*) FROM cdr.records"), 10000);
  EXPECT_EQ(Count("SELECT count(DISTINCT record_id) FROM cdr.records"), 10000);
  EXPECT_EQ(s.stats().duplicates, 800u);
  EXPECT_EQ(s.stats().shipped, 6000u);
  EXPECT_EQ(Count("SELECT count(*) FROM cdr.quarantine"), 0);
}

TEST_F(StoreTest, RefusedRecordIsQuarantinedAndTheRestLand) {
  Journal(0, 500);
  // A trunk name longer than the schema allows: the database refuses the row.
  Journal(500, 1, std::string(200, 't'));
  Journal(501, 499);
  JournalRaw("{not json");  // undecodable
  Cdr bad = MakeCdr(1000);
  bad.record_id = "not-a-uuid";
  JournalRaw(CdrToJson(bad));
  Journal(1001, 9);
  Shipper s(cfg_, keyring_);
  Drain(s);
  EXPECT_EQ(Count("SELECT count(*) FROM cdr.records"), 1008);
  EXPECT_EQ(Count("SELECT count(*) FROM cdr.quarantine"), 3);
  EXPECT_EQ(Cluster().Query(db_, "SELECT reason FROM cdr.quarantine WHERE record_id = '" +
                                     RecordId(500) + "'"),
            "record " + RecordId(500) +
                ": ERROR:  new row for relation \"records_" +
                Cluster().Query(db_, "SELECT to_char(DATE '2026-11-27' - " +
                                         std::to_string(500 % 40) + ", 'YYYYMM')") +
                "\" violates check constraint \"records_trunk_check\"");
  EXPECT_EQ(Count("SELECT count(*) FROM cdr.quarantine WHERE record_id IS NULL AND reason LIKE "
                  "'not a CDR: %'"),
            1);
  EXPECT_EQ(Count("SELECT count(*) FROM cdr.quarantine WHERE reason = 'record id is not a UUID'"),
            1);
  EXPECT_EQ(s.stats().quarantined, 3u);
  EXPECT_GE(s.stats().row_fallbacks, 1u);
  // Reasons never echo record content.
  EXPECT_EQ(Count("SELECT count(*) FROM cdr.quarantine WHERE reason ~ '98400|10\\.0\\.0'"), 0);
}

// ---------------------------------------------------------------- keys and reads

std::unique_ptr<pqxx::connection> Connect(const std::string& conninfo) {
  return std::make_unique<pqxx::connection>(conninfo);
}

TEST_F(StoreTest, KeyRotationRewrapsWithoutTouchingPayloads) {
  Journal(0, 200);
  Shipper s(cfg_, keyring_);
  Drain(s);
  const std::string payloads = "SELECT md5(string_agg(payload::text, '' ORDER BY record_id)) "
                               "FROM cdr.records";
  const std::string before = Cluster().Query(db_, payloads);
  const std::string wrapped_before =
      Cluster().Query(db_, "SELECT string_agg(wrapped::text, '' ORDER BY key_id) FROM cdr.data_keys");
  EXPECT_EQ(Count("SELECT count(*) FROM cdr.data_keys WHERE kek_version = 1"), 2);

  const std::string keyring_path = tmp_ + "/keyring";
  std::string err;
  ASSERT_TRUE(keyring_.Save(keyring_path, &err)) << err;
  Keyring rotated;
  ASSERT_TRUE(Keyring::Load(keyring_path, &rotated, &err)) << err;
  EXPECT_EQ(rotated.AddKek(), 2u);
  ASSERT_TRUE(rotated.Save(keyring_path, &err)) << err;
  auto ops = Connect(Cluster().TlsConnInfo(db_, "cv_ops", kOpsPassword));
  RewrapResult rr;
  ASSERT_TRUE(RewrapDataKeys(*ops, rotated, &rr, &err)) << err;
  EXPECT_EQ(rr.kek_version, 2u);
  EXPECT_EQ(rr.rewrapped, 2u);
  ASSERT_TRUE(RewrapDataKeys(*ops, rotated, &rr, &err)) << err;
  EXPECT_EQ(rr.rewrapped, 0u);
  EXPECT_EQ(rr.already_current, 2u);

  EXPECT_EQ(Count("SELECT count(*) FROM cdr.data_keys WHERE kek_version = 2"), 2);
  EXPECT_NE(Cluster().Query(db_, "SELECT string_agg(wrapped::text, '' ORDER BY key_id) FROM "
                                 "cdr.data_keys"),
            wrapped_before);
  EXPECT_EQ(Cluster().Query(db_, payloads), before);

  // Everything still decrypts with the rotated keyring, even with KEK 1 gone
  // from the comparison: the rows now name version 2.
  Keyring reloaded;
  ASSERT_TRUE(Keyring::Load(keyring_path, &reloaded, &err)) << err;
  auto rd = Connect(Reader());
  RecordStore store(*rd, reloaded);
  for (int i = 0; i < 200; ++i) {
    RecordRow row;
    bool found = false;
    ASSERT_TRUE(store.Fetch(RecordId(i), &row, &found, &err)) << err;
    ASSERT_TRUE(found);
    Cdr cdr;
    ASSERT_TRUE(store.Decrypt(row, &cdr, &err)) << err;
    EXPECT_EQ(cdr.caller, CallerOf(i));
  }
  // A shipper with the new keyring keeps writing under the same data keys.
  Journal(200, 10);
  Shipper s2(cfg_, reloaded);
  Drain(s2);
  EXPECT_EQ(Count("SELECT count(*) FROM cdr.records"), 210);
  EXPECT_EQ(Count("SELECT count(*) FROM cdr.data_keys"), 2);
}

TEST_F(StoreTest, SearchByBlindIndexAndTamperDetection) {
  Journal(0, 300);
  Journal(300, 20, "carrier-b");
  Shipper s(cfg_, keyring_);
  Drain(s);
  auto rd = Connect(Reader());
  RecordStore store(*rd, keyring_);
  std::string err;
  auto bi = BlindIndexer::Create(keyring_, &err);
  ASSERT_TRUE(bi);
  const auto regions = SearchRegions(cfg_);
  std::vector<RecordRow> rows;

  // Caller stored in international form, searched in national form.
  ASSERT_TRUE(store.Search(NumberField::kCaller, bi->SearchIndexes("0984" + CallerOf(42).substr(6), regions),
                           "", "", &rows, &err))
      << err;
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].record_id, RecordId(42));
  Cdr cdr;
  ASSERT_TRUE(store.Decrypt(rows[0], &cdr, &err)) << err;
  EXPECT_EQ(cdr.callee, CalleeOf(42));
  // Callee stored in national form, searched in international form.
  ASSERT_TRUE(store.Search(NumberField::kCallee,
                           bi->SearchIndexes("+91" + CalleeOf(43).substr(1), regions), "", "",
                           &rows, &err));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].record_id, RecordId(43));
  // Date window: record 43 is 3 days before 2026-11-27.
  ASSERT_TRUE(store.Search(NumberField::kCallee,
                           bi->SearchIndexes("+91" + CalleeOf(43).substr(1), regions),
                           "2026-11-25", "2026-11-27", &rows, &err));
  EXPECT_EQ(rows.size(), 0u);
  ASSERT_TRUE(store.Search(NumberField::kCallee,
                           bi->SearchIndexes("+91" + CalleeOf(43).substr(1), regions),
                           "2026-11-24", "2026-11-24", &rows, &err));
  EXPECT_EQ(rows.size(), 1u);
  // The same callee digits on the DE trunk are another subscriber (+49...).
  ASSERT_TRUE(store.Search(NumberField::kCallee, bi->SearchIndexes("+49" + CalleeOf(305).substr(1), regions),
                           "", "", &rows, &err));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].record_id, RecordId(305));
  EXPECT_EQ(rows[0].retain_until, [&] {
    int64_t d = 0;
    ParseDay(rows[0].call_day, &d);
    return FormatDay(d + 180);
  }());
  EXPECT_EQ(rows[0].legal_basis, "contract: billing disputes");

  // Flip one payload byte of record 7: show fails naming the record.
  const std::string want7 = "record " + RecordId(7) +
                            ": payload authentication failed (retention metadata or payload "
                            "altered)";
  Cluster().Exec(db_, "UPDATE cdr.records SET payload = set_byte(payload, 40, get_byte(payload, "
                      "40) # 1) WHERE record_id = '" + RecordId(7) + "'");
  RecordRow row;
  bool found = false;
  ASSERT_TRUE(store.Fetch(RecordId(7), &row, &found, &err));
  ASSERT_TRUE(found);
  EXPECT_FALSE(store.Decrypt(row, &cdr, &err));
  EXPECT_EQ(err, want7);
  // Extend retain_until of record 8 by a day: same.
  Cluster().Exec(db_, "UPDATE cdr.records SET retain_until = retain_until + 1 WHERE record_id = '" +
                          RecordId(8) + "'");
  ASSERT_TRUE(store.Fetch(RecordId(8), &row, &found, &err));
  EXPECT_FALSE(store.Decrypt(row, &cdr, &err));
  EXPECT_EQ(err, "record " + RecordId(8) +
                     ": payload authentication failed (retention metadata or payload altered)");
  // Move record 9's payload onto record 10's row: same.
  Cluster().Exec(db_, "UPDATE cdr.records SET payload = (SELECT payload FROM cdr.records WHERE "
                      "record_id = '" + RecordId(9) + "') WHERE record_id = '" + RecordId(10) + "'");
  ASSERT_TRUE(store.Fetch(RecordId(10), &row, &found, &err));
  EXPECT_FALSE(store.Decrypt(row, &cdr, &err));
  EXPECT_NE(err.find("record " + RecordId(10) + ": "), std::string::npos) << err;
  // Untouched neighbours still open.
  ASSERT_TRUE(store.Fetch(RecordId(11), &row, &found, &err));
  EXPECT_TRUE(store.Decrypt(row, &cdr, &err)) << err;
  ASSERT_TRUE(store.Fetch("00000000-0000-4000-8000-999999999999", &row, &found, &err));
  EXPECT_FALSE(found);
}

// ---------------------------------------------------------------- TLS and faults

TEST_F(StoreTest, TlsVerifyFullRefusesWrongCaAndHostWhileJournalKeepsRecords) {
  Journal(0, 100);
  // A CA that did not sign the server certificate.
  const std::string other_ca = tmp_ + "/other-ca.crt";
  std::string out;
  ASSERT_EQ(RunCommand("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                       "-keyout " + tmp_ + "/other-ca.key -out " + other_ca +
                       " -days 1 -subj /CN=other",
                       &out),
            0)
      << out;
  Config wrong_ca = cfg_;
  wrong_ca.database.conninfo = Cluster().TlsConnInfo(db_, "cv_writer", kWriterPassword, other_ca);
  Config wrong_host = cfg_;
  wrong_host.database.conninfo =
      Cluster().TlsConnInfo(db_, "cv_writer", kWriterPassword, "", "db.wrong.invalid");
  for (const Config* c : {&wrong_ca, &wrong_host}) {
    Shipper s(*c, keyring_);
    std::string err;
    EXPECT_FALSE(s.RunOnce(1000, &err));
    EXPECT_NE(err.find(c == &wrong_ca ? "certificate verify failed" : "does not match host name"),
              std::string::npos)
        << err;
    EXPECT_EQ(err.find("127.0.0.1"), std::string::npos) << err;
    EXPECT_EQ(s.stats().failures, 1u);
  }
  EXPECT_EQ(Count("SELECT count(*) FROM cdr.records"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM cdr.ship_positions"), 0);
  // Fixed configuration: everything the journal kept arrives.
  Shipper s(cfg_, keyring_);
  Drain(s);
  EXPECT_EQ(Count("SELECT count(*) FROM cdr.records"), 100);
  // And TLS really was used.
  EXPECT_EQ(Count("SELECT count(*) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) WHERE ssl "
                  "AND application_name = 'callvault-shipper'"),
            1);
}

TEST_F(StoreTest, StoppedOrFrozenServerDelaysButNeverLoses) {
  Journal(0, 2000);
  ShipperOptions o;
  o.io_timeout_ms = 1500;
  o.connect_timeout_s = 2;
  Shipper s(cfg_, keyring_, o);
  std::string err;
  ASSERT_TRUE(s.RunOnce(1000, &err)) << err;
  EXPECT_EQ(Count("SELECT count(*) FROM cdr.records"), 1000);

  // Frozen (SIGSTOP): the call returns within the watchdog bound.
  Cluster().Freeze(true);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(s.RunOnce(1000, &err));
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, std::chrono::seconds(4)) << err;
  EXPECT_NE(err.find("did not answer within 1500 ms"), std::string::npos) << err;
  // Reconnecting to a frozen server is bounded by connect_timeout.
  t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(s.RunOnce(1000, &err));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5)) << err;
  Cluster().Freeze(false);
  Journal(2000, 500);
  Drain(s);
  EXPECT_EQ(Count("SELECT count(*) FROM cdr.records"), 2500);

  // Stopped: fails fast, ships after the restart.
  Journal(2500, 500);
  Cluster().Stop();
  EXPECT_FALSE(s.RunOnce(1000, &err));
  EXPECT_EQ(err.find("127.0.0.1"), std::string::npos) << err;
  Cluster().Start();
  Drain(s);
  EXPECT_EQ(Count("SELECT count(*) FROM cdr.records"), 3000);
  EXPECT_EQ(Count("SELECT count(DISTINCT record_id) FROM cdr.records"), 3000);
}

TEST_F(StoreTest, RunLoopShipsUntilStopped) {
  Journal(0, 1500);
  Shipper s(cfg_, keyring_);
  std::jthread t([&s](std::stop_token st) { s.Run(st); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (s.stats().shipped < 1500 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Journal(1500, 10);
  while (s.stats().shipped < 1510 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  t.request_stop();
  t.join();
  EXPECT_EQ(Count("SELECT count(*) FROM cdr.records"), 1510);
}

TEST_F(StoreTest, StopAgainstAFrozenServerDoesNotWaitForTheWatchdog) {
  Journal(0, 100);
  Shipper s(cfg_, keyring_);  // production watchdog: 20 s per batch
  std::jthread t([&s](std::stop_token st) { s.Run(st); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (s.stats().shipped < 100 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(s.stats().shipped, 100u);
  // A batch goes out on the open connection and the server never answers.
  Cluster().Freeze(true);
  Journal(100, 100);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const auto t0 = std::chrono::steady_clock::now();
  t.request_stop();
  t.join();
  const auto took = std::chrono::steady_clock::now() - t0;
  Cluster().Freeze(false);
  EXPECT_LT(took, std::chrono::seconds(4)) << "close waited for the 20 s watchdog";
  // Nothing was committed for the cut batch; the next shipper lands it once.
  Shipper again(cfg_, keyring_);
  Drain(again);
  EXPECT_EQ(Count("SELECT count(*) FROM cdr.records"), 200);
  EXPECT_EQ(Count("SELECT count(DISTINCT record_id) FROM cdr.records"), 200);
}

}  // namespace
}  // namespace callvault::testing
