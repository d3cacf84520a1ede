#include "module/pipeline/store_downstream.h"

namespace callvault {

StoreDownstream::StoreDownstream(const Config& cfg, const Keyring& keyring)
    : shipper_(cfg, keyring) {}

void StoreDownstream::Run(std::stop_token stop) { shipper_.Run(stop); }

std::optional<JournalPosition> StoreDownstream::NeededFrom() const {
  JournalPosition p;
  if (!JournalPosition::Parse(shipper_.stats().position, &p)) return std::nullopt;
  return p;
}

void StoreDownstream::Stats(const StatFn& fn) const {
  const ShipperStats s = shipper_.stats();
  fn("store.shipped", s.shipped);
  fn("store.duplicates", s.duplicates);
  fn("store.quarantined", s.quarantined);
  fn("store.batches", s.batches);
  fn("store.row_fallbacks", s.row_fallbacks);
  fn("store.failures", s.failures);
}

}  // namespace callvault
