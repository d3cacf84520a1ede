// Newline-delimited JSON over UDP: one datagram per event (the line plus
// '\n').  Fire and forget: a datagram the kernel accepted counts as written;
// one it refuses (buffer full, ICMP port unreachable reported back, too
// large) is dropped and counted.  Never blocks.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "module/analytics/net_address.h"
#include "module/analytics/sink.h"

namespace callvault {

struct UdpSinkOptions {
  std::string host;
  uint16_t port = 0;
  uint32_t retry_ms = 1000;  // between attempts to resolve/open after a failure
};

class UdpSink : public AnalyticsSink {
 public:
  static constexpr size_t kMaxDatagram = 65507;  // IPv4 UDP payload limit

  explicit UdpSink(UdpSinkOptions options);
  ~UdpSink() override;

  bool Write(const std::string& json_line) override;
  void Flush() override {}
  std::string_view kind() const override { return "udp"; }

 private:
  bool EnsureSocket();

  UdpSinkOptions options_;
  int fd_ = -1;
  std::chrono::steady_clock::time_point next_attempt_{};
};

}  // namespace callvault
