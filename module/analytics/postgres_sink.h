// PostgreSQL analytics sink: inserts events into analytics.call_events
// (migration 0003_analytics.sql) as the analytics role.
//
// All database I/O runs on the sink's own thread, so a slow, frozen or dead
// server can stall only that thread: Write() just appends to a bounded
// buffer (max_buffer_lines; beyond it lines are dropped and counted) and
// Flush() wakes the worker.  The worker inserts batches of up to batch_lines
// in one statement,
//   insert into analytics.call_events (event_id, epoch, event, received_at)
//   select e->>'event_id', e->>'epoch', e, now() from jsonb_array_elements($1::jsonb) e
//   on conflict (event_id) do nothing
// so a replayed event is stored once.  A batch counts as written when its
// transaction committed.  On a lost connection it reconnects every retry_ms
// (conninfo gets connect_timeout=5 unless it sets one).  A batch the server
// rejects as bad data is dropped (counted) rather than retried forever.  On
// shutdown the worker gets a grace period to commit what is buffered; then
// its socket is shut down so a frozen server cannot hang the module (a
// connect in progress can still take up to connect_timeout), and what is
// left is counted dropped.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "module/analytics/sink.h"

namespace callvault {

struct PostgresSinkOptions {
  std::string conninfo;
  size_t max_buffer_lines = 100000;
  size_t batch_lines = 1000;
  uint32_t retry_ms = 1000;
  uint32_t shutdown_grace_ms = 2000;
};

class PostgresSink : public AnalyticsSink {
 public:
  explicit PostgresSink(PostgresSinkOptions options);  // starts the worker; connects lazily
  ~PostgresSink() override;

  bool Write(const std::string& json_line) override;
  void Flush() override;
  std::string_view kind() const override { return "postgres"; }

 private:
  struct Worker;
  std::unique_ptr<Worker> worker_;
};

}  // namespace callvault
