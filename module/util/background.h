// callvault's own threads (capture consumer, shippers, analytics, watchdogs)
// run below the host's SIP threads.  On a machine where the proxy and
// callvault share cores, the scheduler then hands a contended core to SIP
// signalling first; callvault catches up in the idle time that any proxy
// sized for its peak has, and the capture ring absorbs the wait.
//
// The level is process-wide because every thread callvault starts must
// follow it, including those started deep inside a sink; it is set once when
// the module opens, before any of them exist.
#pragma once

namespace callvault {

// nice(2) level for callvault's threads: 0 (same as the host) to 19.
void SetBackgroundNice(int nice);

// First call in every thread callvault starts: lowers the calling thread to
// the configured level, or keeps the level it inherited if that is lower
// still.  Linux keeps the nice level per thread, so the host is untouched.
void EnterBackground();

}  // namespace callvault
