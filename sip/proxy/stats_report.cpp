#include "sip/proxy/stats_report.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace callvault::proxy {

StatsReport::StatsReport(const LatencyHistogram& latency, const SipProxy& proxy,
                         const MessageTap& tap, const ModuleHost* module)
    : latency_(latency), proxy_(proxy), tap_(tap), module_(module) {}

std::vector<std::string> StatsReport::Lines() const {
  std::vector<std::string> lines;
  lines.push_back(latency_.FormatLine(module_ != nullptr));
  lines.push_back(proxy_.FormatCounters());
  const TapCounters& t = tap_.counters();
  lines.push_back("hook_counters calls=" + std::to_string(t.hook_calls) +
                  " dropped_full=" + std::to_string(t.hook_dropped_full) +
                  " dropped_too_large=" + std::to_string(t.hook_dropped_too_large) +
                  " errors=" + std::to_string(t.hook_errors) +
                  " bytes_unavailable=" + std::to_string(t.bytes_unavailable) +
                  " reencoded=" + std::to_string(t.reencoded));
  if (module_ != nullptr) {
    module_->Stats([&lines](const char* name, uint64_t value) {
      lines.push_back(std::string("module_stat ") + name + "=" + std::to_string(value));
    });
  }
  return lines;
}

void StatsReport::Emit() const {
  const std::vector<std::string> lines = Lines();
  for (const auto& line : lines) std::fprintf(stdout, "%s\n", line.c_str());
  std::fflush(stdout);

  const char* path = std::getenv("CV_PROXY_STATS_FILE");
  if (path == nullptr || *path == '\0') return;
  const std::string tmp = std::string(path) + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    for (const auto& line : lines) out << line << '\n';
    if (!out) {
      spdlog::error("stats file: write failed");
      return;
    }
  }
  if (std::rename(tmp.c_str(), path) != 0) spdlog::error("stats file: rename failed");
}

}  // namespace callvault::proxy
