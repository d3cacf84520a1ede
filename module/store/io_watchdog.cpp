#include "module/store/io_watchdog.h"

#include <sys/socket.h>

#include <algorithm>

#include "module/util/background.h"

namespace callvault {

IoWatchdog::IoWatchdog()
    : thread_([this] {
        EnterBackground();
        Loop();
      }) {}

IoWatchdog::~IoWatchdog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void IoWatchdog::Arm(int fd, std::chrono::milliseconds timeout) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    fd_ = fd;
    fired_ = false;
    deadline_ = std::min(std::chrono::steady_clock::now() + timeout, latest_);
  }
  cv_.notify_all();
}

void IoWatchdog::Hurry(std::chrono::milliseconds grace) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    latest_ = std::min(latest_, std::chrono::steady_clock::now() + grace);
    deadline_ = std::min(deadline_, latest_);
  }
  cv_.notify_all();
}

bool IoWatchdog::Disarm() {
  std::lock_guard<std::mutex> lock(mu_);
  fd_ = -1;
  return fired_;
}

bool IoWatchdog::fired() {
  std::lock_guard<std::mutex> lock(mu_);
  return fired_;
}

void IoWatchdog::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    if (fd_ < 0) {
      cv_.wait(lock);
      continue;
    }
    if (cv_.wait_until(lock, deadline_) == std::cv_status::timeout && fd_ >= 0 &&
        std::chrono::steady_clock::now() >= deadline_) {
      ::shutdown(fd_, SHUT_RDWR);
      fired_ = true;
      fd_ = -1;
    }
  }
}

}  // namespace callvault
