// Builds the journal's downstreams the config enables: the PostgreSQL
// shipper (database.enabled) and the analytics stream (analytics.enabled).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "module/config/config.h"
#include "module/crypto/keyring.h"
#include "module/pipeline/downstream.h"

namespace callvault {

bool MakeDownstreams(const Config& cfg, const Keyring& keyring,
                     std::vector<std::unique_ptr<Downstream>>* out, std::string* error);

}  // namespace callvault
