// Database faults under SIPp load through callvault-proxy with the module and
// its PostgreSQL shipper enabled (issue 3, deliverable 9).  Each test runs a
// private TLS cluster (tests/module/store/pg_cluster.h), migrates it with
// `callvaultctl db migrate`, ships as a login role of callvault_writer over
// sslmode=verify-full, and counts exactly:
//
//   StoppedDatabase   PostgreSQL stopped for 30 s under load, then restarted
//   FrozenDatabase    every cluster process SIGSTOPped for 30 s, then SIGCONT
//   RefusedRecords    a trigger refuses one ingress trunk's rows: exactly those
//                     are quarantined with the reason, the rest land
//   JournalBound      the journal fills to its configured bound while the
//                     database is down: alarm first, then counted refusals,
//                     no SIP failure, no capture drop; all lands afterwards
//
// "Every CDR exactly once" is checked on the decrypted rows: one row per SIPp
// call (Call-ID "<call number>-<pid>@<address>", numbers 1..N), no record id
// twice, the same record ids as the journal, and the module's own counters
// (journal.cdrs_written, store.shipped) agree.
//
// Latency (StoppedDatabase, FrozenDatabase): per-call setup time INVITE ->
// 200 measured by SIPp itself with gettimeofday (sipp-scenarios/
// uac_load_timed.xml, microseconds, one log line per call in completion
// order).  Call k is placed k/rate seconds after the caller starts, which
// assigns it to a phase.  Against the healthy phase, the outage and the
// recovery phases must keep p50 within +1 ms, p99 within +50 % + 2 ms, and
// every call under 500 ms (see ExpectNotSlower for how these bounds were
// calibrated).  The proxy's own latency line (cumulative since start) is
// printed at each phase boundary for reference.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "module/crypto/keyring.h"
#include "module/store/record_store.h"
#include "tests/e2e/deployment.h"
#include "tests/e2e/process.h"
#include "tests/module/store/pg_cluster.h"

namespace callvault::e2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using callvault::testing::PgCluster;

constexpr char kDb[] = "callvault";
constexpr char kShipUser[] = "cv_ship";
constexpr char kShipPassword[] = "faults-ship-pw";
constexpr int kHoldMs = 1000;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

bool WaitForText(const std::string& file, const std::string& text, std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (ReadFile(file).find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

// "name=value" pairs of the proxy's statistics: module_stat lines by name,
// hook_counters fields as "hook.<field>", and the latency line verbatim.
struct ProxyStats {
  std::map<std::string, uint64_t> values;
  std::string latency_line;

  // -1 when the counter is missing, so a renamed counter fails loudly.
  int64_t Get(const std::string& name) const {
    auto it = values.find(name);
    return it == values.end() ? -1 : static_cast<int64_t>(it->second);
  }
};

ProxyStats ParseProxyStats(const std::string& text) {
  ProxyStats s;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string head, word;
    words >> head;
    if (head == "latency_us") s.latency_line = line;
    const std::string prefix = head == "hook_counters" ? "hook." : "";
    if (head != "module_stat" && head != "hook_counters") continue;
    while (words >> word) {
      const size_t eq = word.find('=');
      if (eq == std::string::npos) continue;
      s.values[prefix + word.substr(0, eq)] = std::stoull(word.substr(eq + 1));
    }
  }
  return s;
}

// SIPp's final -trace_stat line, by column name.
std::map<std::string, std::string> ReadSippStat(const std::string& path) {
  std::istringstream in(ReadFile(path));
  std::string header, line, last;
  std::getline(in, header);
  while (std::getline(in, line)) {
    if (!line.empty()) last = line;
  }
  auto split = [](const std::string& s) {
    std::vector<std::string> out;
    std::string field;
    std::istringstream f(s);
    while (std::getline(f, field, ';')) out.push_back(field);
    return out;
  };
  const auto names = split(header), values = split(last);
  std::map<std::string, std::string> out;
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) out[names[i]] = values[i];
  return out;
}

int64_t SippCount(const std::map<std::string, std::string>& stat, const std::string& column) {
  auto it = stat.find(column);
  return it == stat.end() || it->second.empty() ? -1 : std::stoll(it->second);
}

// Per-call setup times (µs) from uac_load_timed.xml's log, in completion order.
std::vector<int64_t> ReadSetupTimes(const std::string& path) {
  std::vector<int64_t> out;
  std::istringstream in(ReadFile(path));
  std::string word;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    int64_t us;
    if (words >> word && word == "setup_us" && words >> us) out.push_back(us);
  }
  return out;
}

int64_t Percentile(std::vector<int64_t> v, double pct) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  const size_t rank = static_cast<size_t>(std::ceil(pct / 100.0 * v.size()));
  return v[std::max<size_t>(rank, 1) - 1];
}

// One SIPp caller: placed calls, stat file and (timed scenario) setup log.
struct Caller {
  Process process;
  std::string stat_path;
  std::string setup_log;  // empty unless timed
  std::string out_path;
};

// A private deployment: PostgreSQL cluster with a migrated database and a
// shipping login, the module configured to ship there over verify-full TLS,
// the proxy routing two ingress trunks (pstn-in from 127.0.0.1, pstn-b from
// 127.0.0.2) to a SIPp callee on carrier-b.
class FaultRig {
 public:
  struct Options {
    std::string journal_extra;  // extra keys of the module's journal section
    uint32_t slots = 16384;
  };

  FaultRig(const std::string& name, Options opts)
      : deployment_(name), dir_(deployment_.dir()), stats_path_((dir_ / "stats.txt").string()) {
    const std::string conninfo = pg_.TlsConnInfo(kDb, kShipUser, kShipPassword);
    // The module config is this test's own (journal bound, capture size, the
    // database section); the keyring and node id come from the Deployment.
    std::ofstream(dir_ / "callvault.yaml")
        << "node_id: " << deployment_.node_id() << "\n"
        << "keyring: keyring\n"
        << "log: { file: callvault.log, level: info }\n"
        << "journal: { dir: journal, group_commit_ms: 2" << opts.journal_extra << " }\n"
        << "capture: { slots: " << opts.slots
        << ", slot_bytes: 4096, checkpoint_interval_ms: 100 }\n"
        << "tracker: { invite_timeout_s: 30, max_call_duration_s: 600, linger_s: 5 }\n"
        << "trunks:\n  - { name: pstn-in }\n  - { name: pstn-b }\n  - { name: carrier-b }\n"
        << "database:\n  enabled: true\n  conninfo: \"" << conninfo << "\"\n";
    pg_.Exec("postgres", std::string("CREATE DATABASE ") + kDb);
    std::string out;
    const int rc = callvault::testing::RunCommand(
        std::string(CV_CTL_BIN) + " db migrate --config " + deployment_.module_config() +
            " --admin-conninfo '" + pg_.SuperConnInfo(kDb) + "'",
        &out);
    EXPECT_EQ(rc, 0) << out;
    pg_.Exec("postgres", std::string("CREATE ROLE ") + kShipUser + " LOGIN PASSWORD '" +
                             kShipPassword + "' IN ROLE callvault_writer");

    proxy_port_ = FreeUdpPort();
    uas_port_ = FreeUdpPort();
    std::ofstream(dir_ / "proxy.yaml")
        << "listen: [\"sip:127.0.0.1:" << proxy_port_ << ";transport=udp\"]\n"
        << "trunks:\n"
        << "  - { name: pstn-in, ingress_cidrs: [\"127.0.0.1/32\"], default_egress: carrier-b }\n"
        << "  - { name: pstn-b, ingress_cidrs: [\"127.0.0.2/32\"], default_egress: carrier-b }\n"
        << "  - { name: carrier-b, next_hop: \"sip:127.0.0.1:" << uas_port_ << "\" }\n"
        << "record_route: true\n"
        << deployment_.proxy_module_yaml();
  }

  ~FaultRig() {
    // Thaw first: a frozen cluster would make every later step wait.
    pg_.Freeze(false);
  }

  PgCluster& pg() { return pg_; }
  const fs::path& dir() const { return dir_; }
  Deployment& deployment() { return deployment_; }

  void StartCalleeAndProxy() {
    uas_ = Process::Start({"sipp", "-sf", Scenarios() + "/uas_load.xml", "-i", "127.0.0.1", "-p",
                           std::to_string(uas_port_), "-nostdin", "-bind_local"},
                          (dir_ / "uas.log").string());
    const std::string out = (dir_ / "proxy.out").string();
    proxy_ = Process::Start({ProxyBinary(), "--config", (dir_ / "proxy.yaml").string()}, out,
                            {{"CV_PROXY_STATS_FILE", stats_path_}});
    ASSERT_TRUE(WaitForText(out, "ready ", 15s)) << ReadFile(out);
    ASSERT_TRUE(WaitForText(out, "module=on", 1s)) << ReadFile(out);
  }

  // A SIPp caller from `address` (127.0.0.1: trunk pstn-in, 127.0.0.2:
  // pstn-b) placing `calls` answered calls at `rate` per second.
  Caller StartCaller(const std::string& tag, const std::string& address, int calls, int rate,
                     bool timed) {
    Caller c;
    c.stat_path = (dir_ / (tag + "_stat.csv")).string();
    c.out_path = (dir_ / (tag + ".out")).string();
    std::vector<std::string> argv = {
        "sipp", "-sf", Scenarios() + (timed ? "/uac_load_timed.xml" : "/uac_load.xml"),
        "-inf", Scenarios() + "/numbers.csv", "127.0.0.1:" + std::to_string(proxy_port_),
        "-i", address, "-p", std::to_string(FreeUdpPort()), "-m", std::to_string(calls),
        "-r", std::to_string(rate), "-d", std::to_string(kHoldMs), "-nostdin",
        "-recv_timeout", "20000", "-timeout", std::to_string(calls / rate + 120) + "s",
        "-trace_stat", "-stf", c.stat_path, "-fd", "5"};
    if (timed) {
      c.setup_log = (dir_ / (tag + "_setup.log")).string();
      argv.insert(argv.end(), {"-trace_logs", "-log_file", c.setup_log});
    }
    c.process = Process::Start(argv, c.out_path);
    return c;
  }

  // Waits for the caller to finish and checks every call succeeded.
  void FinishCaller(Caller& c, int calls) {
    const int rc = c.process.Wait(std::chrono::seconds(calls / 10 + 180));
    EXPECT_EQ(rc, 0) << "SIPp caller exit code (0: every call succeeded)\n" << ReadFile(c.out_path);
    const auto stat = ReadSippStat(c.stat_path);
    EXPECT_EQ(SippCount(stat, "SuccessfulCall(C)"), calls);
    EXPECT_EQ(SippCount(stat, "FailedCall(C)"), 0);
    std::printf("[sipp %s] successful=%lld failed=%lld retransmissions=%lld\n",
                fs::path(c.stat_path).stem().c_str(),
                static_cast<long long>(SippCount(stat, "SuccessfulCall(C)")),
                static_cast<long long>(SippCount(stat, "FailedCall(C)")),
                static_cast<long long>(SippCount(stat, "Retransmissions(C)")));
  }

  // A fresh statistics report from the running proxy (SIGUSR1).
  ProxyStats Snapshot() {
    std::error_code ec;
    fs::remove(stats_path_, ec);
    proxy_.Signal(SIGUSR1);
    const auto deadline = Clock::now() + 5s;
    while (!fs::exists(stats_path_) && Clock::now() < deadline) std::this_thread::sleep_for(10ms);
    EXPECT_TRUE(fs::exists(stats_path_)) << "the proxy wrote no statistics after SIGUSR1";
    return ParseProxyStats(ReadFile(stats_path_));
  }

  // Stops the proxy cleanly; returns its final statistics (written at exit).
  ProxyStats StopProxy() {
    std::error_code ec;
    fs::remove(stats_path_, ec);
    EXPECT_EQ(proxy_.Stop(30s), 0) << ReadFile((dir_ / "proxy.out").string());
    uas_.Stop(5s);
    return ParseProxyStats(ReadFile(stats_path_));
  }

  int64_t Count(const std::string& sql) {
    const std::string v = pg_.Query(kDb, sql);
    return v.empty() ? -1 : std::stoll(v);
  }

  // Polls until cdr.records (and cdr.quarantine) hold the expected counts or
  // the deadline passes; returns how long it took.
  double WaitForStore(int64_t records, int64_t quarantined, std::chrono::seconds limit) {
    const auto start = Clock::now();
    while (Clock::now() - start < limit) {
      if (Count("SELECT count(*) FROM cdr.records") >= records &&
          Count("SELECT count(*) FROM cdr.quarantine") >= quarantined) {
        break;
      }
      std::this_thread::sleep_for(500ms);
    }
    return Seconds(Clock::now() - start);
  }

  std::string ModuleLog() const { return ReadFile((dir_ / "callvault.log").string()); }

 private:
  static std::string Scenarios() { return SourceDir() + "/sipp-scenarios"; }

  PgCluster pg_;
  Deployment deployment_;
  fs::path dir_;
  std::string stats_path_;
  int proxy_port_ = 0;
  int uas_port_ = 0;
  Process uas_;
  Process proxy_;
};

// Every row of cdr.records decrypted (as the superuser, with the module's
// keyring): record id -> CDR.
std::map<std::string, Cdr> DecryptAll(FaultRig& rig) {
  std::map<std::string, Cdr> out;
  Keyring keyring;
  std::string err;
  if (!Keyring::Load((rig.dir() / "keyring").string(), &keyring, &err)) {
    ADD_FAILURE() << err;
    return out;
  }
  pqxx::connection conn(rig.pg().SuperConnInfo(kDb));
  std::vector<std::string> ids;
  {
    pqxx::nontransaction tx(conn);
    for (const auto& row : tx.exec("SELECT record_id::text FROM cdr.records")) {
      ids.push_back(row[0].as<std::string>());
    }
  }
  RecordStore store(conn, keyring);
  int failures = 0;
  for (const std::string& id : ids) {
    RecordRow row;
    bool found = false;
    Cdr cdr;
    if (!store.Fetch(id, &row, &found, &err) || !found || !store.Decrypt(row, &cdr, &err)) {
      if (++failures <= 5) ADD_FAILURE() << "record " << id << ": " << err;
      continue;
    }
    out[id] = std::move(cdr);
  }
  EXPECT_EQ(failures, 0);
  return out;
}

// Checks that `cdrs` are exactly one answered CDR per SIPp call 1..calls from
// `address`, and no other.
void ExpectOnePerCall(const std::vector<const Cdr*>& cdrs, const std::string& address, int calls) {
  const std::regex sipp_id("^(\\d+)-\\d+@" + std::regex_replace(address, std::regex("\\."), "\\.") +
                           "$");
  std::map<int, int> per_call;
  int foreign = 0, unanswered = 0;
  for (const Cdr* c : cdrs) {
    std::smatch m;
    if (!std::regex_match(c->call_id, m, sipp_id)) {
      ++foreign;
      continue;
    }
    ++per_call[std::stoi(m[1])];
    unanswered += c->disposition != Disposition::kAnswered;
  }
  int duplicated = 0;
  for (const auto& [n, k] : per_call) duplicated += k > 1;
  EXPECT_EQ(foreign, 0) << "CDRs not from the SIPp caller at this address";
  EXPECT_EQ(duplicated, 0) << "calls with more than one CDR";
  EXPECT_EQ(unanswered, 0);
  EXPECT_EQ(per_call.size(), static_cast<size_t>(calls));
  if (!per_call.empty()) {
    EXPECT_EQ(per_call.begin()->first, 1);
    EXPECT_EQ(per_call.rbegin()->first, calls);
  }
}

// The database holds exactly one CDR per call, the same records as the
// journal, and the module's counters agree.
void ExpectExactlyOnce(FaultRig& rig, int calls, const ProxyStats& final_stats) {
  EXPECT_EQ(rig.Count("SELECT count(*) FROM cdr.records"), calls);
  EXPECT_EQ(rig.Count("SELECT count(DISTINCT record_id) FROM cdr.records"), calls);
  EXPECT_EQ(rig.Count("SELECT count(*) FROM cdr.quarantine"), 0);
  EXPECT_EQ(rig.Count("SELECT sum(shipped) FROM cdr.ship_positions"), calls);

  const std::map<std::string, Cdr> stored = DecryptAll(rig);
  std::vector<const Cdr*> cdrs;
  for (const auto& [id, c] : stored) {
    EXPECT_EQ(id, c.record_id) << "row key and payload disagree";
    cdrs.push_back(&c);
  }
  ExpectOnePerCall(cdrs, "127.0.0.1", calls);

  EXPECT_EQ(final_stats.Get("journal.cdrs_written"), calls);
  EXPECT_EQ(final_stats.Get("store.shipped"), calls);
  EXPECT_EQ(final_stats.Get("store.duplicates"), 0) << "a committed batch was shipped again";
  EXPECT_EQ(final_stats.Get("store.quarantined"), 0);
  EXPECT_EQ(final_stats.Get("capture.dropped_full"), 0);
  EXPECT_EQ(final_stats.Get("hook.dropped_full"), 0);
}

// Journal and database hold the same record ids (the journal keeps one
// segment here, never dropped while it is being written).
void ExpectJournalMatchesStore(FaultRig& rig, int calls) {
  std::set<std::string> journaled;
  for (const Cdr& c : rig.deployment().ReadCdrs()) journaled.insert(c.record_id);
  EXPECT_EQ(journaled.size(), static_cast<size_t>(calls));
  pqxx::connection conn(rig.pg().SuperConnInfo(kDb));
  pqxx::nontransaction tx(conn);
  std::set<std::string> stored;
  for (const auto& row : tx.exec("SELECT record_id::text FROM cdr.records")) {
    stored.insert(row[0].as<std::string>());
  }
  EXPECT_TRUE(journaled == stored) << journaled.size() << " journaled vs " << stored.size()
                                   << " stored record ids differ";
}

struct SetupSummary {
  size_t n = 0;
  int64_t p50 = -1, p99 = -1, max = -1;
};

SetupSummary Summarize(const std::vector<int64_t>& v) {
  SetupSummary s;
  s.n = v.size();
  s.p50 = Percentile(v, 50);
  s.p99 = Percentile(v, 99);
  s.max = Percentile(v, 100);
  return s;
}

void PrintSummary(const char* phase, const SetupSummary& s) {
  std::printf("  %-9s n=%zu p50=%lld p99=%lld max=%lld\n", phase, s.n,
              static_cast<long long>(s.p50), static_cast<long long>(s.p99),
              static_cast<long long>(s.max));
}

// Bounds for "no call slows down", calibrated on this 2-core machine shared
// with builds (load average 3-8): runs with NO fault at all showed p50
// within 0.2 ms and p99 up to +2.4 ms (+48 %) between their phases, and
// single calls of 20-60 ms in any phase, healthy ones included.  A call that waited on the database would take seconds
// (connect_timeout 5 s, the I/O watchdog 20 s), far beyond every bound; a
// systematic slowdown moves the median.  The precise "no measurable
// difference" comparison is scripts/bench-latency's interleaved frozen
// phase, not this test.
constexpr int64_t kP50SlackUs = 1000;
constexpr int64_t kP99SlackUs = 2000;
constexpr int64_t kMaxSetupUs = 500000;  // SIPp's INVITE retransmission timer

void ExpectNotSlower(const char* phase, const SetupSummary& s, const SetupSummary& healthy) {
  EXPECT_GT(s.n, 0u) << phase;
  EXPECT_LE(s.p50, healthy.p50 + kP50SlackUs)
      << phase << " p50 " << s.p50 << " µs vs healthy p50 " << healthy.p50 << " µs";
  EXPECT_LE(s.p99, healthy.p99 + healthy.p99 / 2 + kP99SlackUs)
      << phase << " p99 " << s.p99 << " µs vs healthy p99 " << healthy.p99 << " µs";
  EXPECT_LT(s.max, kMaxSetupUs) << phase << ": a call waited " << s.max << " µs for its 200";
}

// The module's log names no address (the database errors it logs are
// redacted) and no SIPp number.
void ExpectNoAddressInModuleLog(const FaultRig& rig) {
  const std::string log = rig.ModuleLog();
  EXPECT_EQ(log.find("127.0.0."), std::string::npos) << log;
  EXPECT_EQ(log.find("+9198"), std::string::npos) << log;
}

// The shared procedure of the outage tests: healthy load, outage, recovery
// with the load still running, then exactly-once and latency checks.
struct Outage {
  const char* what;  // "stopped" / "frozen"
  std::function<void(PgCluster&)> begin, end;
  const char* shipper_saw;  // in the module log: how the shipper noticed
};

void RunOutageUnderLoad(const std::string& name, const Outage& outage) {
  constexpr int kRate = 100;
  constexpr double kHealthyS = 15, kOutageS = 30, kAfterS = 8;
  constexpr int kCalls = static_cast<int>(kRate * (kHealthyS + kOutageS + kAfterS));

  FaultRig rig(name, {});
  ASSERT_NO_FATAL_FAILURE(rig.StartCalleeAndProxy());
  Caller caller = rig.StartCaller("uac", "127.0.0.1", kCalls, kRate, /*timed=*/true);
  const auto t0 = Clock::now();
  auto sleep_until = [&](double s) {
    std::this_thread::sleep_until(t0 + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(s)));
  };

  sleep_until(kHealthyS);
  const ProxyStats healthy_stats = rig.Snapshot();
  const double outage_from = Seconds(Clock::now() - t0);
  outage.begin(rig.pg());
  const double outage_began = Seconds(Clock::now() - t0);
  sleep_until(kHealthyS + kOutageS);
  const ProxyStats outage_stats = rig.Snapshot();
  const double recovery_from = Seconds(Clock::now() - t0);
  outage.end(rig.pg());
  const double recovery_began = Seconds(Clock::now() - t0);
  std::printf("[%s] database %s at %.2f s (took %.2f s), back at %.2f s (took %.2f s)\n",
              name.c_str(), outage.what, outage_from, outage_began - outage_from, recovery_from,
              recovery_began - recovery_from);

  rig.FinishCaller(caller, kCalls);
  const double load_end = Seconds(Clock::now() - t0);
  const double waited = rig.WaitForStore(kCalls, 0, 90s);
  std::printf("[%s] load ended at %.1f s; store complete %.1f s later\n", name.c_str(), load_end,
              waited);
  // A late extra row would show up after the count first matched.
  std::this_thread::sleep_for(2s);
  const ProxyStats final_stats = rig.StopProxy();
  ExpectExactlyOnce(rig, kCalls, final_stats);
  ExpectJournalMatchesStore(rig, kCalls);
  EXPECT_GE(final_stats.Get("store.failures"), 1) << "the outage was not noticed by the shipper";
  EXPECT_NE(rig.ModuleLog().find(outage.shipper_saw), std::string::npos) << rig.ModuleLog();
  ExpectNoAddressInModuleLog(rig);
  std::printf("[%s] store.shipped=%lld store.batches=%lld store.failures=%lld\n", name.c_str(),
              static_cast<long long>(final_stats.Get("store.shipped")),
              static_cast<long long>(final_stats.Get("store.batches")),
              static_cast<long long>(final_stats.Get("store.failures")));

  // Latency by phase.  Call k (0-based, completion order) was placed k /
  // kRate s after SIPp started (its rate keeps within 0.1 %), and SIPp
  // starts a few ms after t0, so a call estimated before outage_from - 0.5 s
  // surely ran before the fault.  1 s of warm-up is left out.
  const std::vector<int64_t> setup = ReadSetupTimes(caller.setup_log);
  ASSERT_EQ(setup.size(), static_cast<size_t>(kCalls)) << "one setup_us line per call";
  std::vector<int64_t> healthy, during, after;
  for (size_t k = 0; k < setup.size(); ++k) {
    const double t = static_cast<double>(k) / kRate;
    if (t >= 1.0 && t < outage_from - 0.5) healthy.push_back(setup[k]);
    if (t >= outage_from && t < recovery_from) during.push_back(setup[k]);
    if (t >= recovery_from) after.push_back(setup[k]);
  }
  const SetupSummary h = Summarize(healthy), o = Summarize(during), r = Summarize(after);
  std::printf("[%s] SIPp call setup (INVITE->200), µs:\n", name.c_str());
  PrintSummary("healthy", h);
  PrintSummary(outage.what, o);
  PrintSummary("recovery", r);
  std::printf("[%s] proxy latency (cumulative) at end of healthy phase: %s\n", name.c_str(),
              healthy_stats.latency_line.c_str());
  std::printf("[%s] proxy latency (cumulative) at end of %s phase:  %s\n", name.c_str(),
              outage.what, outage_stats.latency_line.c_str());
  std::printf("[%s] proxy latency (cumulative) at exit:                %s\n", name.c_str(),
              final_stats.latency_line.c_str());
  ExpectNotSlower(outage.what, o, h);
  // Recovery too: the shipper lands the backlog while SIP goes on, and runs
  // below the SIP thread (capture.background_nice) so that its catch-up does
  // not take the proxy's core (before it did: p99 22 ms after a 30 s freeze).
  ExpectNotSlower("recovery", r, h);
}

TEST(StoreFaults, StoppedDatabase) {
  RunOutageUnderLoad("pg-stopped", {"stopped", [](PgCluster& pg) { pg.Stop(); },
                                    [](PgCluster& pg) { pg.Start(); }, "Connection refused"});
}

TEST(StoreFaults, FrozenDatabase) {
  // A frozen server answers nothing but keeps its sockets open: the shipper's
  // I/O watchdog must cut the hanging batch loose.
  RunOutageUnderLoad("pg-frozen", {"frozen", [](PgCluster& pg) { pg.Freeze(true); },
                                   [](PgCluster& pg) { pg.Freeze(false); },
                                   "database did not answer within"});
}

TEST(StoreFaults, RefusedRecordsAreQuarantinedAndTheRestFlow) {
  constexpr int kGood = 300, kGoodRate = 30;    // pstn-in, from 127.0.0.1
  constexpr int kRefused = 100, kRefusedRate = 10;  // pstn-b, from 127.0.0.2
  constexpr char kReason[] = "fault test: the database refuses trunk pstn-b";

  FaultRig rig("pg-refuses", {});
  // Superuser-owned trigger on the partitioned parent: fires for every
  // partition, raises P0001 for one trunk's rows.
  rig.pg().Exec(kDb, std::string(
                         "CREATE FUNCTION cdr.fault_test_refuse() RETURNS trigger "
                         "LANGUAGE plpgsql AS $$ BEGIN "
                         "IF NEW.trunk = 'pstn-b' THEN RAISE EXCEPTION '") +
                         kReason +
                         "'; END IF; RETURN NEW; END $$;"
                         "CREATE TRIGGER fault_test_refuse BEFORE INSERT ON cdr.records "
                         "FOR EACH ROW EXECUTE FUNCTION cdr.fault_test_refuse()");
  ASSERT_NO_FATAL_FAILURE(rig.StartCalleeAndProxy());
  Caller good = rig.StartCaller("uac_good", "127.0.0.1", kGood, kGoodRate, false);
  Caller refused = rig.StartCaller("uac_refused", "127.0.0.2", kRefused, kRefusedRate, false);

  // While the load runs, refused records must not hold the others back.
  std::this_thread::sleep_for(7s);
  const int64_t mid_records = rig.Count("SELECT count(*) FROM cdr.records");
  const int64_t mid_quarantined = rig.Count("SELECT count(*) FROM cdr.quarantine");
  std::printf("[refuses] after 7 s: %lld stored, %lld quarantined\n",
              static_cast<long long>(mid_records), static_cast<long long>(mid_quarantined));
  EXPECT_GT(mid_records, 0);
  EXPECT_GT(mid_quarantined, 0);

  rig.FinishCaller(good, kGood);
  rig.FinishCaller(refused, kRefused);
  const double waited = rig.WaitForStore(kGood, kRefused, 60s);
  std::printf("[refuses] store complete %.1f s after the load; a reason: %s\n", waited,
              rig.pg().Query(kDb, "SELECT reason FROM cdr.quarantine LIMIT 1").c_str());
  std::this_thread::sleep_for(2s);
  const ProxyStats final_stats = rig.StopProxy();

  EXPECT_EQ(rig.Count("SELECT count(*) FROM cdr.records"), kGood);
  EXPECT_EQ(rig.Count("SELECT count(*) FROM cdr.records WHERE trunk = 'pstn-in'"), kGood);
  EXPECT_EQ(rig.Count("SELECT count(DISTINCT record_id) FROM cdr.records"), kGood);
  EXPECT_EQ(rig.Count("SELECT count(*) FROM cdr.quarantine"), kRefused);
  EXPECT_EQ(rig.Count("SELECT count(DISTINCT record_id) FROM cdr.quarantine"), kRefused);
  EXPECT_EQ(rig.Count(std::string("SELECT count(*) FROM cdr.quarantine WHERE strpos(reason, '") +
                      kReason + "') > 0 AND strpos(reason, record_id::text) > 0"),
            kRefused)
      << "every quarantine reason names the record and carries the database's refusal: "
      << rig.pg().Query(kDb, "SELECT reason FROM cdr.quarantine LIMIT 1");
  EXPECT_EQ(rig.Count("SELECT count(*) FROM cdr.quarantine q JOIN cdr.records r USING (record_id)"),
            0);
  EXPECT_EQ(rig.Count("SELECT sum(shipped) FROM cdr.ship_positions"), kGood);

  // Stored: one per 127.0.0.1 call.  Quarantined: exactly the pstn-b CDRs of
  // the journal (which keeps every record, refused or not).
  const std::map<std::string, Cdr> stored = DecryptAll(rig);
  std::vector<const Cdr*> stored_cdrs;
  for (const auto& [id, c] : stored) stored_cdrs.push_back(&c);
  ExpectOnePerCall(stored_cdrs, "127.0.0.1", kGood);

  const std::vector<Cdr> journaled = rig.deployment().ReadCdrs();
  EXPECT_EQ(journaled.size(), static_cast<size_t>(kGood + kRefused));
  std::set<std::string> journaled_b;
  std::vector<const Cdr*> journaled_b_cdrs;
  for (const Cdr& c : journaled) {
    if (c.ingress_trunk == "pstn-b") {
      journaled_b.insert(c.record_id);
      journaled_b_cdrs.push_back(&c);
    }
  }
  ExpectOnePerCall(journaled_b_cdrs, "127.0.0.2", kRefused);
  std::set<std::string> quarantined;
  {
    pqxx::connection conn(rig.pg().SuperConnInfo(kDb));
    pqxx::nontransaction tx(conn);
    for (const auto& row : tx.exec("SELECT record_id::text FROM cdr.quarantine")) {
      quarantined.insert(row[0].as<std::string>());
    }
  }
  EXPECT_TRUE(quarantined == journaled_b) << "quarantined records are not the pstn-b ones";

  EXPECT_EQ(final_stats.Get("journal.cdrs_written"), kGood + kRefused);
  EXPECT_EQ(final_stats.Get("store.shipped"), kGood);
  EXPECT_EQ(final_stats.Get("store.quarantined"), kRefused);
  EXPECT_EQ(final_stats.Get("store.duplicates"), 0);
  EXPECT_GE(final_stats.Get("store.row_fallbacks"), 1);
  EXPECT_NE(rig.ModuleLog().find("quarantined in batch ending at"), std::string::npos);
  ExpectNoAddressInModuleLog(rig);
  EXPECT_EQ(rig.Count("SELECT count(*) FROM cdr.quarantine WHERE strpos(reason, '127.0.0.') > 0"),
            0);
}

TEST(StoreFaults, JournalBoundedWithAlarmWhileDatabaseIsDown) {
  constexpr uint64_t kMaxBytes = 1048576, kSegmentBytes = 65536;
  constexpr int kRate = 100;
  constexpr int kCalls = 2500;

  FaultRig rig("journal-bound",
               {.journal_extra = ", max_bytes: 1048576, segment_bytes: 65536, alarm_percent: 50",
                .slots = 65536});
  ASSERT_NO_FATAL_FAILURE(rig.StartCalleeAndProxy());
  rig.pg().Stop();
  Caller caller = rig.StartCaller("uac", "127.0.0.1", kCalls, kRate, false);
  rig.FinishCaller(caller, kCalls);

  // The journal is at its bound and the rest waits in the capture ring.
  const ProxyStats full = rig.Snapshot();
  std::printf("[journal-bound] database down, load done: journal.bytes=%lld over_alarm=%lld "
              "refused=%lld cdrs_written=%lld pending=%lld capture accepted=%lld consumed=%lld "
              "dropped_full=%lld\n",
              static_cast<long long>(full.Get("journal.bytes")),
              static_cast<long long>(full.Get("journal.over_alarm")),
              static_cast<long long>(full.Get("journal.refused")),
              static_cast<long long>(full.Get("journal.cdrs_written")),
              static_cast<long long>(full.Get("journal.pending")),
              static_cast<long long>(full.Get("capture.accepted")),
              static_cast<long long>(full.Get("capture.consumed")),
              static_cast<long long>(full.Get("capture.dropped_full")));
  EXPECT_GT(full.Get("journal.refused"), 0);
  EXPECT_EQ(full.Get("journal.over_alarm"), 1);
  EXPECT_GT(full.Get("journal.bytes"), static_cast<int64_t>(kMaxBytes / 2));
  EXPECT_LE(full.Get("journal.bytes"), static_cast<int64_t>(kMaxBytes));
  EXPECT_GT(full.Get("journal.cdrs_written"), 0);
  EXPECT_LT(full.Get("journal.cdrs_written"), kCalls) << "the bound never bit";
  EXPECT_GT(full.Get("capture.accepted"), full.Get("capture.consumed"));
  EXPECT_EQ(full.Get("capture.dropped_full"), 0);
  EXPECT_EQ(full.Get("hook.dropped_full"), 0);
  uint64_t on_disk = 0;
  for (const auto& e : fs::directory_iterator(rig.dir() / "journal")) {
    if (e.path().extension() == ".cvj") on_disk += fs::file_size(e.path());
  }
  EXPECT_LE(on_disk, kMaxBytes) << "segment files on disk";

  const std::string log = rig.ModuleLog();
  const size_t alarm = log.find("above 50% of its bound 1048576");
  const size_t refusal = log.find("journal refused a CDR");
  EXPECT_NE(alarm, std::string::npos) << log;
  EXPECT_NE(refusal, std::string::npos) << log;
  EXPECT_LT(alarm, refusal) << "the alarm must come before the first refusal";
  const size_t alarm_line = log.rfind('\n', alarm) + 1;
  std::printf("[journal-bound] alarm: %s\n",
              log.substr(alarm_line, log.find('\n', alarm) - alarm_line).c_str());

  const auto restart = Clock::now();
  rig.pg().Start();
  rig.WaitForStore(kCalls, 0, 120s);
  std::printf("[journal-bound] database back; store complete %.1f s later\n",
              Seconds(Clock::now() - restart));
  // Shipped segments are deleted (the consumer checks once a second).
  ProxyStats drained;
  const auto deadline = Clock::now() + 15s;
  do {
    drained = rig.Snapshot();
    if (drained.Get("journal.bytes") >= 0 &&
        drained.Get("journal.bytes") <= static_cast<int64_t>(kSegmentBytes)) {
      break;
    }
    std::this_thread::sleep_for(500ms);
  } while (Clock::now() < deadline);
  std::printf("[journal-bound] drained: journal.bytes=%lld over_alarm=%lld\n",
              static_cast<long long>(drained.Get("journal.bytes")),
              static_cast<long long>(drained.Get("journal.over_alarm")));
  EXPECT_LE(drained.Get("journal.bytes"), static_cast<int64_t>(kSegmentBytes));
  EXPECT_EQ(drained.Get("journal.over_alarm"), 0);
  EXPECT_EQ(drained.Get("journal.pending"), 0);

  std::this_thread::sleep_for(2s);
  const ProxyStats final_stats = rig.StopProxy();
  ExpectExactlyOnce(rig, kCalls, final_stats);
  ExpectNoAddressInModuleLog(rig);
}

}  // namespace
}  // namespace callvault::e2e
