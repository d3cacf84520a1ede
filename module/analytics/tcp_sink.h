// Newline-delimited JSON over TCP with reconnect and a bounded send buffer.
//
// Everything is non-blocking: connect() runs in the background and is
// checked on the next Write/Flush; send() takes what the kernel accepts and
// the rest waits in the buffer.  When the buffer (max_buffer_bytes) cannot
// take a new line, that line is dropped and counted.  A connection that
// fails, or that the peer closed (noticed before sending into it), is closed
// and retried with exponential backoff (retry_initial_ms doubling up to
// retry_max_ms).  Lines are written whole: a line cut short by a broken
// connection is sent again from its start on the next connection, so a
// receiver sees at worst one incomplete last line on the dead connection.
//
// "written" means handed to the kernel: TCP cannot tell whether bytes in
// flight reached a peer that died.  At-least-once delivery is the journal
// cursor's job (docs/analytics-events.md), not the socket's.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "module/analytics/net_address.h"
#include "module/analytics/sink.h"

namespace callvault {

struct TcpSinkOptions {
  std::string host;
  uint16_t port = 0;
  size_t max_buffer_bytes = 4u << 20;
  uint32_t retry_initial_ms = 100;
  uint32_t retry_max_ms = 5000;
};

class TcpSink : public AnalyticsSink {
 public:
  explicit TcpSink(TcpSinkOptions options);
  ~TcpSink() override;

  bool Write(const std::string& json_line) override;
  void Flush() override { Pump(); }
  std::string_view kind() const override { return "tcp"; }

  bool connected() const { return fd_ >= 0 && !connecting_; }
  uint64_t connects() const { return connects_; }  // successful connections so far

 private:
  void Pump();
  void StartConnect();
  bool PeerClosed();
  void Fail();

  TcpSinkOptions options_;
  int fd_ = -1;
  bool connecting_ = false;
  uint64_t connects_ = 0;
  std::chrono::milliseconds backoff_;
  std::chrono::steady_clock::time_point next_attempt_{};
  std::deque<std::string> lines_;  // each ends in '\n'
  size_t buffered_bytes_ = 0;
  size_t front_sent_ = 0;  // bytes of lines_.front() already sent
};

}  // namespace callvault
