// Client-side deadline for blocking libpq calls.  A SIGSTOPped (frozen)
// server keeps its TCP connections open and its kernel keeps ACKing, so
// neither TCP keepalives nor tcp_user_timeout ever fire and a query would
// wait forever; a statement_timeout is enforced by the frozen server itself.
// When an armed deadline passes, the watchdog shuts the socket down
// (shutdown(2), not close: the descriptor stays owned by libpq), the blocked
// call fails with a connection error and the caller reconnects.
//
// Invariant: the socket is only touched while armed, and Disarm() waits for
// the watchdog to let go of it, so the descriptor is never shut down after
// its owner moved on (no fd-reuse race).
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace callvault {

class IoWatchdog {
 public:
  IoWatchdog();
  ~IoWatchdog();
  IoWatchdog(const IoWatchdog&) = delete;
  IoWatchdog& operator=(const IoWatchdog&) = delete;

  void Arm(int fd, std::chrono::milliseconds timeout);
  // Shutting down: every deadline, armed now or later, ends within grace.
  // A healthy database finishes a batch in far less; a frozen one would
  // otherwise hold the host's module close for the whole timeout.
  void Hurry(std::chrono::milliseconds grace);
  // Returns true if the deadline passed and the socket was shut down.
  bool Disarm();
  // Whether the last armed period ended with the socket shut down.
  bool fired();

 private:
  void Loop();

  std::mutex mu_;
  std::condition_variable cv_;
  int fd_ = -1;
  bool fired_ = false;
  bool stop_ = false;
  std::chrono::steady_clock::time_point deadline_;
  std::chrono::steady_clock::time_point latest_ = std::chrono::steady_clock::time_point::max();
  std::thread thread_;
};

// Arms for the lifetime of a scope.
class ArmedScope {
 public:
  ArmedScope(IoWatchdog& w, int fd, std::chrono::milliseconds timeout) : w_(w) { w_.Arm(fd, timeout); }
  ~ArmedScope() { w_.Disarm(); }
  ArmedScope(const ArmedScope&) = delete;
  ArmedScope& operator=(const ArmedScope&) = delete;

 private:
  IoWatchdog& w_;
};

}  // namespace callvault
