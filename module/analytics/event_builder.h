// Builds the pseudonymised per-call analytics event (docs/analytics-events.md,
// schema_version 1) from a CDR.  The event holds no raw number, IP address,
// Call-ID, tag, display name, URI or free text from SIP: every field is
// either operator configuration (trunk and node names), a closed set
// (status, disposition, flags, allow-listed user agent products), a number
// (times generalised to the hour, durations), or a keyed pseudonym under the
// call's epoch key.  The LI flag is never emitted.
//
// Deterministic: the same CDR gives the same event (same event_id) within an
// epoch, so a replay from the journal produces duplicates a sink can drop.
//
// Not thread-safe: one builder per thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "module/analytics/address.h"
#include "module/analytics/epoch.h"
#include "module/cdr/cdr.h"
#include "module/config/config.h"

namespace callvault {

class EpochKeyStore;

inline constexpr int kAnalyticsSchemaVersion = 1;

struct EventBuilderOptions {
  EpochGranularity epoch = EpochGranularity::kMonth;
  bool keep_ndc = false;
  IpMode ip_mode = IpMode::kCryptoPan;
  UriHostMode uri_host_mode = UriHostMode::kGeneralise;
  // Trunk name -> ISO region for national-format numbers.  Calls on a trunk
  // not listed use fallback_region, the default of an unconfigured trunk.
  std::map<std::string, std::string> trunk_regions;
  std::string fallback_region = TrunkConfig().default_region;

  // From the analytics section and the trunk list.  False with *error naming
  // the key if a mode string is unknown.
  static bool FromConfig(const Config& config, EventBuilderOptions* out, std::string* error);
};

class EventBuilder {
 public:
  EventBuilder(EventBuilderOptions options, EpochKeyStore* keys);
  ~EventBuilder();

  enum class Result {
    kOk,
    kEpochRetired,  // the call's epoch key was destroyed: no event, by design
    kError,         // *error says what (never with data from the CDR)
  };
  // Appends one JSON object (no newline) to *line; leaves *line as it was
  // unless kOk.
  Result Build(const Cdr& cdr, std::string* line, std::string* error);

  struct Stats {
    uint64_t numbers_fast = 0;
    uint64_t numbers_slow = 0;
    uint64_t numbers_cached = 0;
  };
  Stats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace callvault
