#include "sip/proxy/signal_watch.h"

#include <signal.h>
#include <sofia-sip/su_wait.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace callvault::proxy {
namespace {

sigset_t WatchedSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

void SignalWatch::BlockSignals() {
  const sigset_t set = WatchedSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

SignalWatch::SignalWatch(su_root_s* root, std::function<void()> on_report,
                         std::function<void()> on_stop)
    : root_(root), on_report_(std::move(on_report)), on_stop_(std::move(on_stop)) {}

SignalWatch::~SignalWatch() {
  if (index_ >= 0) su_root_deregister(root_, index_);
  if (fd_ >= 0) close(fd_);
}

bool SignalWatch::Start(std::string* error) {
  const sigset_t set = WatchedSignals();
  fd_ = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd_ < 0) {
    *error = std::string("signalfd: ") + std::strerror(errno);
    return false;
  }
  su_wait_t wait[1];
  if (su_wait_create(wait, fd_, SU_WAIT_IN) < 0) {
    *error = "cannot create a wait object for the signalfd";
    return false;
  }
  index_ = su_root_register(
      root_, wait,
      [](su_root_magic_t*, su_wait_t*, su_wakeup_arg_t* arg) -> int {
        static_cast<SignalWatch*>(arg)->Drain();
        return 0;
      },
      this, su_pri_normal);
  if (index_ < 0) {
    *error = "cannot register the signalfd with the event loop";
    return false;
  }
  return true;
}

void SignalWatch::Drain() {
  signalfd_siginfo info;
  while (read(fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    if (info.ssi_signo == SIGUSR1) {
      on_report_();
    } else {
      on_stop_();
    }
  }
}

}  // namespace callvault::proxy
