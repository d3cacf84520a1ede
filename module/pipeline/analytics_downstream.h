// The analytics stream as a journal downstream: at-least-once from the
// journal.  Records are offered to the AnalyticsPipeline in journal order; the
// position up to which every sink has settled them is persisted as this
// downstream's cursor, and a restart re-offers from there (event ids are
// stable, so duplicates are detectable).  A full analytics queue only pauses
// this reader: the journal, the CDR store and the call path never wait for it.
#pragma once

#include <atomic>
#include <memory>

#include "module/analytics/analytics_pipeline.h"
#include "module/config/config.h"
#include "module/crypto/keyring.h"
#include "module/pipeline/downstream.h"
#include "module/pipeline/journal_cursor.h"

namespace callvault {

class AnalyticsDownstream : public Downstream {
 public:
  static std::unique_ptr<AnalyticsDownstream> Create(const Config& cfg, const Keyring& keyring,
                                                     std::string* error);
  void Run(std::stop_token stop) override;
  std::optional<JournalPosition> NeededFrom() const override;
  void Stats(const StatFn& fn) const override;

 private:
  AnalyticsDownstream(const Config& cfg, const Keyring& keyring,
                      std::unique_ptr<AnalyticsPipeline> pipeline);
  void Persist();

  const Config& cfg_;
  const Keyring& keyring_;
  std::unique_ptr<AnalyticsPipeline> pipeline_;
  JournalCursor cursor_;
  std::atomic<bool> has_cursor_{false};
  std::atomic<uint64_t> cursor_segment_{0}, cursor_offset_{0};
  Counter offered_, corrupt_, undecodable_, cursor_errors_;
};

}  // namespace callvault
