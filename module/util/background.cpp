#include "module/util/background.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "module/util/log.h"

namespace callvault {
namespace {
std::atomic<int> background_nice{10};
}  // namespace

void SetBackgroundNice(int nice) { background_nice.store(nice, std::memory_order_relaxed); }

void EnterBackground() {
  const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
  // Below the host, never above it: a host already running at a higher nice
  // level than ours keeps its threads ahead of callvault's.
  errno = 0;
  const int inherited = ::getpriority(PRIO_PROCESS, tid);
  int nice = background_nice.load(std::memory_order_relaxed);
  if (errno == 0 && inherited > nice) nice = inherited;
  if (::setpriority(PRIO_PROCESS, tid, nice) != 0) {
    // Not fatal: callvault still works, it only competes with SIP for CPU.
    Log()->warn("background threads: cannot set nice level {}", nice);
  }
}

}  // namespace callvault
