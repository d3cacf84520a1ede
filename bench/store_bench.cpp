// Store throughput: CDRs/s from the journal into PostgreSQL, encryption
// included (decrypt journal record, parse, blind-index, seal, COPY, commit).
// Driven by scripts/bench-store, which provides a private cluster.
//
//   store_bench --admin-conninfo C --conninfo C --dir D [--records N] [--batch B]
//
// Migrates the database (admin), fills a fresh journal in D with N generated
// CDRs (not timed), drains it with the Shipper (timed), checks that exactly N
// rows landed and prints "metric store_cdrs_per_s <value> CDR/s".  Callers
// and callees are drawn from 20,000 subscribers each (see MakeCdr).
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <pqxx/pqxx>

#include "module/cdr/cdr_json.h"
#include "module/config/config.h"
#include "module/crypto/keyring.h"
#include "module/journal/journal.h"
#include "module/store/migrate.h"
#include "module/store/shipper.h"

namespace {

using callvault::Cdr;

constexpr long kSubscribers = 20000;

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "store_bench: %s\n", what.c_str());
  return 1;
}

Cdr MakeCdr(long i, int64_t now_ms) {
  char id[64], caller[32], callee[32];
  std::snprintf(id, sizeof id, "%08lx-0000-4000-8000-%012ld", static_cast<long>(now_ms / 1000) & 0xffffffffL, i);
  // Numbers come from a population of kSubscribers callers and as many
  // callees, the callers in international form, the callees national (so
  // the national ones go through libphonenumber on first sight).
  std::snprintf(caller, sizeof caller, "+9198%08ld", (i * 7) % kSubscribers);
  std::snprintf(callee, sizeof callee, "0981%07ld", (i * 7919) % kSubscribers);
  Cdr c;
  c.record_id = id;
  c.node_id = "bench-node";
  c.call_id = "a84b4c76e66710-" + std::to_string(i) + "@192.0.2.4";
  c.ingress_trunk = i % 4 == 0 ? "carrier-b" : "carrier-a";
  c.egress_trunk = "core";
  c.caller = caller;
  c.caller_pai = caller;
  c.callee = callee;
  c.callee_to = callee;
  c.caller_host = "192.0.2.4";
  c.callee_host = "198.51.100.7";
  c.src_addr = "192.0.2.4:5060";
  c.dst_addr = "198.51.100.7:5060";
  c.caller_ua = "Linphone/5.2.0 (belle-sip/5.2.0)";
  c.callee_ua = "Asterisk PBX 20.5.0";
  c.invite_time_ms = now_ms - (i % 3600) * 1000;
  c.ring_time_ms = c.invite_time_ms + 180;
  c.answer_time_ms = c.invite_time_ms + 4200;
  c.end_time_ms = c.answer_time_ms + 93000;
  c.post_dial_delay_ms = 180;
  c.duration_ms = 93000;
  c.billable_seconds = 93;
  c.final_status = 200;
  c.reason = "Q.850;cause=16";
  c.q850_cause = 16;
  c.released_by = callvault::ReleasedBy::kCaller;
  c.disposition = callvault::Disposition::kAnswered;
  c.codecs_offered = "PCMU,PCMA,opus,telephone-event";
  c.codecs_answered = "PCMU,telephone-event";
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  std::string admin, conninfo, dir;
  long records = 300000;
  unsigned batch = 2000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--admin-conninfo") admin = v;
    else if (k == "--conninfo") conninfo = v;
    else if (k == "--dir") dir = v;
    else if (k == "--records") records = std::atol(v.c_str());
    else if (k == "--batch") batch = static_cast<unsigned>(std::atol(v.c_str()));
    else return Fail("unknown flag " + k);
  }
  if (admin.empty() || conninfo.empty() || dir.empty() || records <= 0) {
    return Fail("usage: store_bench --admin-conninfo C --conninfo C --dir D [--records N] [--batch B]");
  }
  std::string err;
  try {
    pqxx::connection c(admin);
    callvault::MigrateResult r;
    if (!callvault::MigrateDatabase(c, &r, &err)) return Fail(err);
  } catch (const std::exception& e) {
    return Fail(e.what());
  }

  callvault::Keyring keyring = callvault::Keyring::Generate();
  callvault::Config cfg;
  cfg.node_id = "bench-node";
  cfg.journal.dir = dir + "/journal";
  std::filesystem::remove_all(cfg.journal.dir);
  std::filesystem::create_directories(cfg.journal.dir);
  cfg.database.enabled = true;
  cfg.database.conninfo = conninfo;
  cfg.database.batch_size = batch;
  callvault::TrunkConfig a, b;
  a.name = "carrier-a";
  b.name = "carrier-b";
  b.default_region = "DE";
  b.jurisdiction = "DE";
  b.retention.days = 365;
  cfg.trunks = {a, b};

  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  {
    callvault::JournalOptions o;
    o.dir = cfg.journal.dir;
    auto w = callvault::JournalWriter::Open(o, keyring, &err);
    if (!w) return Fail(err);
    callvault::JournalPosition at;
    for (long i = 0; i < records; ++i) {
      if (!w->Append(callvault::RecordType::kCdr, callvault::CdrToJson(MakeCdr(i, now_ms)), &at,
                     &err)) {
        return Fail(err);
      }
    }
    if (!w->Sync(&err)) return Fail(err);
  }

  callvault::Shipper shipper(cfg, keyring);
  std::fprintf(stderr, "store_bench: journal filled, shipping\n");
  const double cpu0 = CpuSeconds();
  const auto t0 = std::chrono::steady_clock::now();
  for (;;) {
    size_t n = 0;
    if (!shipper.RunOnce(batch, &err, &n)) return Fail(err);
    if (n == 0) break;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = CpuSeconds() - cpu0;
  const callvault::ShipperStats st = shipper.stats();
  if (st.shipped != static_cast<uint64_t>(records) || st.quarantined != 0) {
    return Fail("shipped " + std::to_string(st.shipped) + " of " + std::to_string(records) +
                " (quarantined " + std::to_string(st.quarantined) + ")");
  }
  try {
    pqxx::connection c(admin);
    pqxx::nontransaction tx(c);
    const long rows = tx.exec("SELECT count(*) FROM cdr.records")[0][0].as<long>();
    if (rows != records) return Fail("table holds " + std::to_string(rows) + " rows");
  } catch (const std::exception& e) {
    return Fail(e.what());
  }
  std::printf("store: %ld CDRs in %.2f s (batch %u); shipper CPU %.1f us/CDR\n", records, secs,
              batch, cpu * 1e6 / records);
  std::printf("metric store_cdrs_per_s %.0f CDR/s\n", records / secs);
  return 0;
}
