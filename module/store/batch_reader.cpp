#include "module/store/batch_reader.h"

#include "module/store/cdr_summary.h"
#include "module/util/background.h"

namespace callvault {

BatchReader::BatchReader(std::unique_ptr<JournalReader> reader, const RecordCodec& codec,
                         size_t batch_size)
    : reader_(std::move(reader)), codec_(codec), batch_size_(batch_size == 0 ? 1 : batch_size),
      thread_([this] {
        EnterBackground();
        Loop();
      }) {}

BatchReader::~BatchReader() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void BatchReader::Loop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stop_ || (!ready_ && !idle_); });
      if (stop_) return;
    }
    std::vector<ShipItem> batch = Read();
    {
      std::lock_guard<std::mutex> lock(mu_);
      idle_ = batch.empty();
      batch_ = std::move(batch);
      ready_ = true;
    }
    cv_.notify_all();
  }
}

std::vector<ShipItem> BatchReader::Take(size_t max_items) {
  std::vector<ShipItem> out;
  std::unique_lock<std::mutex> lock(mu_);
  if (leftover_.empty()) {
    if (!ready_) {
      idle_ = false;
      cv_.notify_all();
    }
    cv_.wait(lock, [this] { return ready_; });
    leftover_.assign(std::make_move_iterator(batch_.begin()), std::make_move_iterator(batch_.end()));
    batch_.clear();
    ready_ = false;
    idle_ = leftover_.empty();
    cv_.notify_all();  // after a non-empty batch: read the next one while this one ships
  }
  while (!leftover_.empty() && out.size() < max_items) {
    out.push_back(std::move(leftover_.front()));
    leftover_.pop_front();
  }
  return out;
}

std::vector<ShipItem> BatchReader::Read() {
  std::vector<ShipItem> items;
  while (items.size() < batch_size_) {
    JournalRecord rec;
    std::string why;
    const JournalReader::Status st = reader_->Next(&rec, &why);
    if (st == JournalReader::Status::kEnd) break;
    ShipItem it;
    if (st == JournalReader::Status::kCorrupt) {
      it.at = reader_->position();
      it.next = reader_->Skip();
      it.refused = true;
      it.reason = "journal: " + why;
      items.push_back(std::move(it));
      continue;
    }
    it.at = rec.at;
    it.next = rec.next;
    if (rec.type != RecordType::kCdr) {
      it.skip = true;
    } else {
      CdrSummary cdr;
      if (!SummariseCdrJson(rec.payload, &cdr, &why)) {
        it.refused = true;
        it.reason = "not a CDR: " + why;
      } else if (!codec_.Describe(cdr, &it.row, &why)) {
        it.refused = true;
        it.reason = why;
      } else {
        it.json = std::move(rec.payload);
      }
    }
    items.push_back(std::move(it));
  }
  return items;
}

}  // namespace callvault
