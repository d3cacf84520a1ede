#include "module/pipeline/downstreams.h"

#include "module/pipeline/analytics_downstream.h"
#include "module/pipeline/store_downstream.h"

namespace callvault {

bool MakeDownstreams(const Config& cfg, const Keyring& keyring,
                     std::vector<std::unique_ptr<Downstream>>* out, std::string* error) {
  if (cfg.database.enabled) out->push_back(std::make_unique<StoreDownstream>(cfg, keyring));
  if (cfg.analytics.enabled) {
    auto analytics = AnalyticsDownstream::Create(cfg, keyring, error);
    if (!analytics) return false;
    out->push_back(std::move(analytics));
  }
  return true;
}

}  // namespace callvault
