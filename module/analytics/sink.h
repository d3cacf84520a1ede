// Where analytics events go.  A sink takes one event line at a time on the
// analytics thread and must never block that thread on a slow or dead peer:
// it buffers within a fixed bound and counts what it cannot keep.
//
// Accounting invariants (what the pipeline's journal cursor relies on):
//  - Every line passed to Write() is counted exactly once, eventually, in
//    written (delivered as far as the sink can know: written and fsynced to
//    the file, handed to the kernel for UDP/TCP, committed in PostgreSQL) or
//    in dropped.
//  - Write() returning false means the line was refused and already counted
//    dropped.  Lines it accepted settle (become written, or dropped later:
//    a failed fsync, a poison batch, still pending at destruction) in the
//    order they were accepted, and accepted_settled() counts them.
//  - errors counts failed operations (a write, a connect, a transaction),
//    not lines.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace callvault {

struct SinkStats {
  uint64_t written = 0;
  uint64_t dropped = 0;
  uint64_t errors = 0;
};

class AnalyticsSink {
 public:
  virtual ~AnalyticsSink() = default;

  // One event, without trailing newline.  False if the line was refused
  // (and counted dropped).  Never blocks on I/O.
  virtual bool Write(const std::string& json_line) = 0;
  // Pushes buffered lines out as far as possible without blocking for long
  // (reconnects, rotates, commits).  Called by the pipeline after each batch
  // and at least every flush interval when idle.
  virtual void Flush() = 0;

  virtual std::string_view kind() const = 0;  // "jsonl", "udp", "tcp", "postgres"

  // Readable from any thread.
  SinkStats stats() const {
    return SinkStats{written_.load(std::memory_order_relaxed),
                     refused_.load(std::memory_order_relaxed) +
                         late_dropped_.load(std::memory_order_relaxed),
                     errors_.load(std::memory_order_relaxed)};
  }
  // Accepted lines that have settled (written, or dropped after acceptance).
  uint64_t accepted_settled() const {
    return written_.load(std::memory_order_acquire) +
           late_dropped_.load(std::memory_order_acquire);
  }

 protected:
  void CountWritten(uint64_t n = 1) { written_.fetch_add(n, std::memory_order_release); }
  // A line refused by Write() (which then returns false).
  void CountRefused() { refused_.fetch_add(1, std::memory_order_relaxed); }
  // Accepted lines that will never be delivered, in acceptance order.
  void CountDropped(uint64_t n = 1) { late_dropped_.fetch_add(n, std::memory_order_release); }
  void CountError() { errors_.fetch_add(1, std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> written_{0};
  std::atomic<uint64_t> refused_{0};
  std::atomic<uint64_t> late_dropped_{0};
  std::atomic<uint64_t> errors_{0};
};

}  // namespace callvault
