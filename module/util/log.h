// The module's one logger.  Defaults to stderr until the pipeline configures
// it from the config's log section.  Nothing logged may carry a raw number,
// URI, IP address or Call-ID: log counts, states and pseudonymised values only.
#pragma once

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace callvault {

std::shared_ptr<spdlog::logger>& Log();
// Sends the log to file (empty = stderr) at level; false with *error on failure.
bool ConfigureLog(const std::string& file, const std::string& level, std::string* error);

}  // namespace callvault
