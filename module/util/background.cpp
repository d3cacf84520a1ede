#include "module/util/background.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>

#include "module/util/log.h"

namespace callvault {
namespace {
std::atomic<int> background_nice{10};
}  // namespace

void SetBackgroundNice(int nice) { background_nice.store(nice, std::memory_order_relaxed); }

void EnterBackground() {
  const int nice = background_nice.load(std::memory_order_relaxed);
  const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
  if (::setpriority(PRIO_PROCESS, tid, nice) != 0) {
    // Not fatal: callvault still works, it only competes with SIP for CPU.
    Log()->warn("background threads: cannot set nice level {}", nice);
  }
}

}  // namespace callvault
