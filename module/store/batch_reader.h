// The shipper's read-ahead: a thread that reads the next batch from the
// journal and does the CPU-heavy, database-free part of encoding it (JSON
// summary, retention, blind indexes) while the shipper's own thread seals,
// COPYs and commits the previous batch.  On two cores this overlaps the
// client's work with the server's instead of taking turns.
//
// At most one batch is read ahead, and only after a non-empty one: once the
// journal is drained, the next read happens when asked for, so a batch
// taken later never reflects an older "nothing new".  The thread owns the
// JournalReader; destroying the BatchReader stops and joins it, so after a
// failure the shipper discards it and starts a new one at the committed
// checkpoint (read-ahead records are simply read again).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "module/journal/journal.h"
#include "module/store/record_codec.h"

namespace callvault {

// One journal record on its way to the store.
struct ShipItem {
  JournalPosition at;
  JournalPosition next;
  bool skip = false;     // not a CDR: not the shipper's business
  bool refused = false;  // goes to quarantine with reason
  std::string reason;
  std::string json;  // the CDR JSON, sealed as it is
  RecordRow row;     // clear columns; key_id and payload once sealed
};

class BatchReader {
 public:
  // reader positioned at the checkpoint; codec must outlive this object.
  BatchReader(std::unique_ptr<JournalReader> reader, const RecordCodec& codec, size_t batch_size);
  ~BatchReader();
  BatchReader(const BatchReader&) = delete;
  BatchReader& operator=(const BatchReader&) = delete;

  // The next up to max_items records in journal order (empty: nothing new
  // yet).  Waits for the batch being read, if any.
  std::vector<ShipItem> Take(size_t max_items);

 private:
  void Loop();
  std::vector<ShipItem> Read();

  std::unique_ptr<JournalReader> reader_;
  const RecordCodec& codec_;
  const size_t batch_size_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool ready_ = false;            // batch_ holds a batch
  bool idle_ = true;              // wait for Take() before reading
  std::vector<ShipItem> batch_;
  std::deque<ShipItem> leftover_;  // taken batch beyond max_items, served first
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace callvault
