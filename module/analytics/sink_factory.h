// Builds the sinks named in the analytics config.
#pragma once

#include <memory>
#include <string>

#include "module/analytics/sink.h"
#include "module/config/config.h"

namespace callvault {

// nullptr with *error (naming the sink's config key) if the sink cannot be
// set up; network and database sinks connect lazily and never fail here.
std::unique_ptr<AnalyticsSink> MakeSink(const AnalyticsSinkConfig& config, const std::string& key,
                                        std::string* error);

}  // namespace callvault
