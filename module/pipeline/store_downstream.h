// The PostgreSQL shipper as a journal downstream.  Its position lives in the
// database (committed with the rows), so it needs no cursor file.
#pragma once

#include <memory>

#include "module/config/config.h"
#include "module/crypto/keyring.h"
#include "module/pipeline/downstream.h"
#include "module/store/shipper.h"

namespace callvault {

class StoreDownstream : public Downstream {
 public:
  StoreDownstream(const Config& cfg, const Keyring& keyring);
  void Run(std::stop_token stop) override;
  std::optional<JournalPosition> NeededFrom() const override;
  void Stats(const StatFn& fn) const override;

 private:
  Shipper shipper_;
};

}  // namespace callvault
