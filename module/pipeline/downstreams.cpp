#include "module/pipeline/downstreams.h"

namespace callvault {

bool MakeDownstreams(const Config& cfg, const Keyring& keyring,
                     std::vector<std::unique_ptr<Downstream>>* out, std::string* error) {
  return true;
}

}  // namespace callvault
