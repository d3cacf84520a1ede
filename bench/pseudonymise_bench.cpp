// Pseudonymisation throughput on one thread: CDR -> analytics event JSON
// (number normalisation and tokens, Crypto-PAn for IPv4 and IPv6, user-agent
// reduction, JSON), with the real epoch key store and distinct numbers and
// addresses in every event.
//
//   BM_BuildEvent_E164      numbers in +E.164 form, as carrier trunks send
//                           them (the headline: pseudonymise_events_per_s)
//   BM_BuildEvent_National  national/bare/tel: forms, all distinct, so every
//                           number misses the cache and goes through
//                           libphonenumber's Parse (the worst case)
//   BM_CryptoPan4/6, BM_NumberToken  the parts alone
//
// After the Google Benchmark report it prints, from the measured times:
//   metric pseudonymise_events_per_s <v> events/s
//   metric pseudonymise_national_uncached_events_per_s <v> events/s
// Rates are events per CPU-second of the benchmarking thread: the throughput
// of one core, which other load on a shared machine does not distort (the
// table above also shows wall time).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "module/analytics/crypto_pan.h"
#include "module/analytics/epoch_key_store.h"
#include "module/analytics/event_builder.h"
#include "module/analytics/keyed_hash.h"
#include "module/analytics/number_pseudonymiser.h"

namespace {

using namespace callvault;

constexpr size_t kCdrs = 1 << 16;           // distinct calls cycled through
constexpr int64_t kInviteMs = 1795813384123;  // 2026-11-27T21:03:04.123Z

std::string Digits(uint64_t v, int n) {
  std::string s(static_cast<size_t>(n), '0');
  for (int i = n - 1; i >= 0; --i, v /= 10) s[static_cast<size_t>(i)] = static_cast<char>('0' + v % 10);
  return s;
}

Cdr MakeCdr(size_t i, bool national) {
  Cdr c;
  c.record_id = "0193a5b2-7c11-8e55-9a1b-" + Digits(i, 12);
  c.node_id = "node-a";
  c.call_id = Digits(i * 7919, 16) + "@pc33.example.com";
  c.ingress_trunk = "carrier-in";
  c.egress_trunk = "carrier-out";
  const std::string caller = "98" + Digits(i * 13 + 1, 8);   // Indian mobile range
  const std::string callee = "20" + Digits(i * 17 + 3, 8);   // London fixed line
  if (national) {
    c.caller = "0" + caller;
    c.caller_pai = "tel:0" + caller.substr(0, 5) + "-" + caller.substr(5);
    c.callee = callee;                              // bare digits
    c.callee_to = "sip:0" + callee + "@gw.example.com";
  } else {
    c.caller = "+91" + caller;
    c.caller_pai = "tel:+91-" + caller.substr(0, 5) + "-" + caller.substr(5);
    c.callee = "+44" + callee;
    c.callee_to = "sip:+44" + callee + "@gw.example.com;user=phone";
  }
  c.caller_host = "pc33.example.com";
  c.callee_host = "gw.example.com";
  c.src_addr = std::to_string(10 + i % 200) + "." + std::to_string(i % 251) + "." +
               std::to_string((i / 251) % 256) + "." + std::to_string(i % 256) + ":5060";
  char v6[64];
  std::snprintf(v6, sizeof(v6), "[2001:db8:%zx:%zx::%zx]:5060", i % 65536, (i * 31) % 65536, i);
  c.dst_addr = v6;
  c.caller_ua = "Linphone/4.4." + std::to_string(i % 10) + " (belle-sip/4.4.0)";
  c.callee_ua = "Asterisk PBX 18.2.1";
  c.invite_time_ms = kInviteMs + static_cast<int64_t>(i % 1000) * 1000;
  c.ring_time_ms = c.invite_time_ms + 1200;
  c.answer_time_ms = c.invite_time_ms + 5000;
  c.end_time_ms = c.answer_time_ms + 60000;
  c.post_dial_delay_ms = 1200;
  c.duration_ms = 60000;
  c.billable_seconds = 60;
  c.final_status = 200;
  c.q850_cause = 16;
  c.released_by = ReleasedBy::kCaller;
  c.disposition = Disposition::kAnswered;
  c.codecs_offered = "PCMU,PCMA,telephone-event";
  c.codecs_answered = "PCMU";
  return c;
}

struct Setup {
  std::string dir;
  Keyring keyring = Keyring::Generate();
  std::unique_ptr<EpochKeyStore> store;
  std::vector<Cdr> e164, national;

  Setup() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cv-pseudo-bench-XXXXXX").string();
    dir = ::mkdtemp(tmpl.data());
    std::string error;
    store = EpochKeyStore::Open(dir + "/analytics-epochs", keyring, &error);
    if (!store) {
      std::fprintf(stderr, "pseudonymise_bench: %s\n", error.c_str());
      std::exit(1);
    }
    for (size_t i = 0; i < kCdrs; ++i) {
      e164.push_back(MakeCdr(i, false));
      national.push_back(MakeCdr(i, true));
    }
  }
  ~Setup() { std::filesystem::remove_all(dir); }

  EventBuilderOptions Options() const {
    EventBuilderOptions o;  // defaults: month epochs, Crypto-PAn, hosts generalised
    o.trunk_regions["carrier-in"] = "IN";
    return o;
  }
};

Setup& TheSetup() {
  static Setup setup;
  return setup;
}

void RunBuild(benchmark::State& state, const std::vector<Cdr>& cdrs) {
  Setup& s = TheSetup();
  EventBuilder builder(s.Options(), s.store.get());
  std::string line, error;
  // One-time costs stay out of the measurement: the epoch key, and the
  // per-calling-code self-check of the fast path.
  builder.Build(cdrs[0], &line, &error);
  size_t i = 1;
  size_t bytes = 0;
  for (auto _ : state) {
    line.clear();
    if (builder.Build(cdrs[i], &line, &error) != EventBuilder::Result::kOk) {
      state.SkipWithError(error.c_str());
      break;
    }
    bytes += line.size();
    benchmark::DoNotOptimize(line.data());
    if (++i == cdrs.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["event_bytes"] =
      benchmark::Counter(static_cast<double>(bytes) / static_cast<double>(state.iterations()));
}

void BM_BuildEvent_E164(benchmark::State& state) { RunBuild(state, TheSetup().e164); }
BENCHMARK(BM_BuildEvent_E164)->MinTime(2.0);

// About 200k distinct number strings cycle through, several times the
// slow-path cache, so nearly every one goes through Parse.
void BM_BuildEvent_National(benchmark::State& state) { RunBuild(state, TheSetup().national); }
BENCHMARK(BM_BuildEvent_National)->MinTime(2.0);

void BM_CryptoPan4(benchmark::State& state) {
  auto pan = CryptoPan::Create(SecretBytes::Random(32));
  std::array<uint8_t, 4> a{198, 51, 100, 0};
  for (auto _ : state) {
    a[3]++;
    benchmark::DoNotOptimize(pan->Anonymise4(a));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CryptoPan4);

void BM_CryptoPan6(benchmark::State& state) {
  auto pan = CryptoPan::Create(SecretBytes::Random(32));
  std::array<uint8_t, 16> a{0x20, 0x01, 0x0d, 0xb8};
  for (auto _ : state) {
    a[15]++;
    benchmark::DoNotOptimize(pan->Anonymise6(a));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CryptoPan6);

void BM_NumberToken(benchmark::State& state) {
  auto hash = KeyedHash::Create(SecretBytes::Random(32));
  NumberNormaliser numbers;
  uint64_t n = 0;
  for (auto _ : state) {
    const auto norm = numbers.Normalise("+9198" + Digits(n++, 8), "IN", false);
    benchmark::DoNotOptimize(PseudonymiseNumber(norm, false, hash.get()));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_NumberToken);

// Keeps each benchmark's measured rate for the metric lines.
class MetricReporter : public benchmark::ConsoleReporter {
 public:
  // No colour codes: they would precede the metric lines.
  MetricReporter() : ConsoleReporter(OO_Tabular) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& run : runs) {
      if (run.error_occurred || run.cpu_accumulated_time <= 0) continue;
      rate_[run.benchmark_name()] =
          static_cast<double>(run.iterations) / run.cpu_accumulated_time;
    }
  }
  double rate(const std::string& name) const {
    auto it = rate_.find(name);
    return it == rate_.end() ? 0 : it->second;
  }

 private:
  std::map<std::string, double> rate_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  MetricReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  std::printf("metric pseudonymise_events_per_s %.0f events/s\n",
              reporter.rate("BM_BuildEvent_E164/min_time:2.000"));
  std::printf("metric pseudonymise_national_uncached_events_per_s %.0f events/s\n",
              reporter.rate("BM_BuildEvent_National/min_time:2.000"));
  return 0;
}
