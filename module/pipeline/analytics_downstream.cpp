#include "module/pipeline/analytics_downstream.h"

#include <chrono>
#include <thread>

#include "module/cdr/cdr_json.h"
#include "module/util/log.h"

namespace callvault {

using namespace std::chrono_literals;

std::unique_ptr<AnalyticsDownstream> AnalyticsDownstream::Create(const Config& cfg,
                                                                 const Keyring& keyring,
                                                                 std::string* error) {
  auto pipeline = AnalyticsPipeline::Create(cfg, keyring, error);
  if (!pipeline) return nullptr;
  std::unique_ptr<AnalyticsDownstream> d(new AnalyticsDownstream(cfg, keyring, std::move(pipeline)));
  std::optional<JournalPosition> pos;
  if (!d->cursor_.Load(&pos, error)) return nullptr;
  if (pos) {
    d->cursor_segment_ = pos->segment;
    d->cursor_offset_ = pos->offset;
  }
  d->has_cursor_ = true;  // no cursor yet means "from the beginning"
  return d;
}

AnalyticsDownstream::AnalyticsDownstream(const Config& cfg, const Keyring& keyring,
                                         std::unique_ptr<AnalyticsPipeline> pipeline)
    : cfg_(cfg),
      keyring_(keyring),
      pipeline_(std::move(pipeline)),
      cursor_(cfg.capture.state_dir + "/analytics.cursor") {}

std::optional<JournalPosition> AnalyticsDownstream::NeededFrom() const {
  if (!has_cursor_) return std::nullopt;
  return JournalPosition{cursor_segment_.load(), cursor_offset_.load()};
}

void AnalyticsDownstream::Persist() {
  auto acked = pipeline_->Acked();
  if (!acked) return;
  const JournalPosition cur{cursor_segment_.load(), cursor_offset_.load()};
  if (!(cur < *acked)) return;
  std::string err;
  if (!cursor_.Store(*acked, &err)) {
    cursor_errors_.Add();
    Log()->error("analytics: {}", err);
    return;
  }
  cursor_segment_ = acked->segment;
  cursor_offset_ = acked->offset;
}

void AnalyticsDownstream::Run(std::stop_token stop) {
  std::string err;
  std::unique_ptr<JournalReader> reader;
  while (!stop.stop_requested() && !reader) {
    reader = JournalReader::Open(cfg_.journal.dir, keyring_, &err);
    if (reader && !reader->Seek({cursor_segment_.load(), cursor_offset_.load()}, &err)) {
      reader.reset();
    }
    if (!reader) {
      Log()->error("analytics: cannot open the journal: {}", err);
      std::this_thread::sleep_for(1s);
    }
  }
  auto last_persist = std::chrono::steady_clock::now();
  JournalRecord rec;
  while (!stop.stop_requested()) {
    const auto st = reader->Next(&rec, &err);
    if (st == JournalReader::Status::kOk) {
      Cdr cdr;
      if (rec.type != RecordType::kCdr || !CdrFromJson(rec.payload, &cdr, &err)) {
        undecodable_.Add();
      } else {
        while (!pipeline_->Offer(cdr, rec.next) && !stop.stop_requested()) {
          std::this_thread::sleep_for(5ms);
        }
        offered_.Add();
      }
    } else if (st == JournalReader::Status::kCorrupt) {
      // The shipper quarantines corrupt records for ops; analytics only counts.
      corrupt_.Add();
      Log()->error("analytics: skipping a corrupt journal record: {}", err);
      reader->Skip();
    } else {
      std::this_thread::sleep_for(20ms);
    }
    if (std::chrono::steady_clock::now() - last_persist >= 1s) {
      Persist();
      last_persist = std::chrono::steady_clock::now();
    }
  }
  pipeline_->WaitIdle(5s);
  Persist();
}

void AnalyticsDownstream::Stats(const StatFn& fn) const {
  fn("analytics.offered", offered_.Get());
  fn("analytics.journal_corrupt", corrupt_.Get());
  fn("analytics.undecodable", undecodable_.Get());
  fn("analytics.cursor_errors", cursor_errors_.Get());
  pipeline_->Stats(fn);
}

}  // namespace callvault
