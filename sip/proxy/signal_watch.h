// Delivers SIGUSR1 (report statistics) and SIGTERM / SIGINT (shut down) as
// callbacks on the su_root thread, through a signalfd registered with the
// root.  The handlers therefore run between nta callbacks, never inside one,
// and may touch any proxy state.
#pragma once

#include <functional>
#include <string>

struct su_root_s;

namespace callvault::proxy {

class SignalWatch {
 public:
  // Blocks the watched signals in the calling thread.  Call first thing in
  // main(), before any thread exists, so every later thread inherits the
  // mask and only the signalfd sees the signals.
  static void BlockSignals();

  SignalWatch(su_root_s* root, std::function<void()> on_report, std::function<void()> on_stop);
  ~SignalWatch();
  SignalWatch(const SignalWatch&) = delete;
  SignalWatch& operator=(const SignalWatch&) = delete;

  bool Start(std::string* error);

 private:
  void Drain();

  su_root_s* root_;
  std::function<void()> on_report_;
  std::function<void()> on_stop_;
  int fd_ = -1;
  int index_ = -1;
};

}  // namespace callvault::proxy
