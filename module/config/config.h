// The module's configuration, loaded from one YAML file and validated as a
// whole before anything starts: an unknown key, a wrong type, a missing file or
// a key file readable by group/others refuses the load with an error naming the
// file and the key.  The module never runs half-configured.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace callvault {

// Statutory minimum for CDRs under the Indian licence rule the privacy policy cites.
inline constexpr int kStatutoryCdrMinDays = 730;

struct RetentionPolicy {
  std::string retention_class = "cdr";  // cdr | billing | analytics | li-audit | api-log
  int days = kStatutoryCdrMinDays;
  std::string legal_basis = "statutory: telecom licence CDR retention";

  bool operator==(const RetentionPolicy&) const = default;
};

struct TrunkConfig {
  std::string name;
  std::string default_region = "IN";  // ISO 3166 region for national-format numbers
  std::string jurisdiction = "IN";    // a trunk under another jurisdiction may go below 730 days
  RetentionPolicy retention;

  bool operator==(const TrunkConfig&) const = default;
};

struct LogConfig {
  std::string file;  // empty = stderr
  std::string level = "info";
};

struct CaptureConfig {
  std::string shm_name;          // default "/callvault-<node_id>"
  uint32_t slots = 32768;        // power of two
  uint32_t slot_bytes = 4096;    // max message = slot_bytes - slot header
  uint32_t checkpoint_interval_ms = 500;
  std::string state_dir;         // checkpoint + lock file; default journal.dir
  uint32_t background_nice = 10; // nice level of callvault's threads: SIP goes first

  bool operator==(const CaptureConfig&) const = default;
};

struct TrackerConfig {
  int64_t max_call_duration_s = 4 * 3600;  // close and flag a call whose BYE never came
  int64_t invite_timeout_s = 180;          // no final response by then: no-answer/timeout
  int64_t linger_s = 32;                   // keep a closed call to absorb retransmissions
  uint32_t max_active_calls = 200000;

  bool operator==(const TrackerConfig&) const = default;
};

struct JournalConfig {
  std::string dir;
  uint64_t segment_bytes = 64ull << 20;
  uint64_t max_bytes = 8ull << 30;  // disk bound; appends beyond it are refused and counted
  uint32_t alarm_percent = 80;      // alarm when use passes this share of max_bytes
  uint32_t group_commit_ms = 5;

  bool operator==(const JournalConfig&) const = default;
};

struct DatabaseConfig {
  bool enabled = false;
  std::string conninfo;        // libpq conninfo; sslmode=verify-full expected in production
  uint32_t batch_size = 2000;
  uint32_t retry_ms = 1000;

  bool operator==(const DatabaseConfig&) const = default;
};

struct AnalyticsSinkConfig {
  std::string type;   // jsonl | udp | tcp | postgres
  std::string path;   // jsonl: file path
  uint64_t max_bytes = 64ull << 20;  // jsonl rotation by size
  uint32_t max_age_s = 3600;         // jsonl rotation by age
  std::string host;   // udp/tcp
  uint16_t port = 0;
  std::string conninfo;  // postgres

  bool operator==(const AnalyticsSinkConfig&) const = default;
};

struct AnalyticsConfig {
  bool enabled = false;
  std::string epoch = "month";      // month | week | day
  bool keep_ndc = false;            // keep the national destination code in clear
  std::string ip_mode = "cryptopan";      // cryptopan | truncate
  std::string uri_host_mode = "generalise";  // pseudonymise | generalise | drop
  uint32_t queue_events = 65536;    // bounded; overflow is counted, never blocks CDRs
  std::vector<AnalyticsSinkConfig> sinks;

  bool operator==(const AnalyticsConfig&) const = default;
};

struct Config {
  std::string path;  // file it was loaded from
  std::string node_id;
  LogConfig log;
  CaptureConfig capture;
  TrackerConfig tracker;
  std::string keyring;  // path, must be 0600 (or stricter)
  JournalConfig journal;
  DatabaseConfig database;
  AnalyticsConfig analytics;
  std::vector<TrunkConfig> trunks;
  RetentionPolicy default_retention;  // for calls whose trunk is unknown

  const TrunkConfig* FindTrunk(const std::string& name) const;
  // Retention of a record on this trunk (default_retention if unknown).
  const RetentionPolicy& RetentionFor(const std::string& trunk) const;
};

// Loads and validates.  On failure returns false with *error like
//   "config/callvault.yaml: trunks[1].retention.days: 365 is below the
//    statutory minimum of 730 days for trunk 'carrier-b' (jurisdiction IN)".
bool LoadConfig(const std::string& path, Config* out, std::string* error);

// Refuses a file readable or writable by group or others, or not a regular file.
bool CheckPrivateFile(const std::string& path, const std::string& what, std::string* error);

}  // namespace callvault
