#include "module/util/log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace callvault {

std::shared_ptr<spdlog::logger>& Log() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l = std::make_shared<spdlog::logger>("callvault",
                                              std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l callvault: %v");
    return l;
  }();
  return logger;
}

bool ConfigureLog(const std::string& file, const std::string& level, std::string* error) {
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") {
    *error = "unknown log level '" + level + "'";
    return false;
  }
  try {
    std::shared_ptr<spdlog::sinks::sink> sink;
    if (file.empty()) {
      sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    } else {
      sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(file);
    }
    auto l = std::make_shared<spdlog::logger>("callvault", sink);
    l->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l callvault: %v");
    l->set_level(lvl);
    // Log lines are rare (alarms are rate-limited): flush each, so a crash keeps them.
    l->flush_on(spdlog::level::info);
    Log() = l;
  } catch (const spdlog::spdlog_ex& e) {
    *error = std::string("cannot open log file: ") + e.what();
    return false;
  }
  return true;
}

}  // namespace callvault
