// Prints the proxy's statistics: the latency line scripts parse, the proxy
// and hook counters, and the module's own counters.  Everything goes to
// stdout and, when CV_PROXY_STATS_FILE is set, replaces that file's
// contents (written to a temporary file and renamed, so a reader never sees
// half a report).  Counts and timings only: no identifiers.
#pragma once

#include <string>
#include <vector>

#include "sip/proxy/latency_histogram.h"
#include "sip/proxy/message_tap.h"
#include "sip/proxy/module_host.h"
#include "sip/proxy/sip_proxy.h"

namespace callvault::proxy {

class StatsReport {
 public:
  // `module` may be null (module off).  Nothing is owned.
  StatsReport(const LatencyHistogram& latency, const SipProxy& proxy, const MessageTap& tap,
              const ModuleHost* module);

  std::vector<std::string> Lines() const;

  // Writes Lines() to stdout and to $CV_PROXY_STATS_FILE if set.
  void Emit() const;

 private:
  const LatencyHistogram& latency_;
  const SipProxy& proxy_;
  const MessageTap& tap_;
  const ModuleHost* module_;
};

}  // namespace callvault::proxy
