#include "sip/proxy/sofia_logs.h"

#include <sofia-sip/su_log.h>

#include <cstdarg>
#include <initializer_list>

extern "C" {
// Module logs exported by libsofia-sip-ua without a public declaration.
extern su_log_t nta_log[];
extern su_log_t tport_log[];
extern su_log_t sresolv_log[];
}

namespace callvault::proxy {
namespace {

void Discard(void*, char const*, va_list) {}

}  // namespace

void SilenceSofiaLogs() {
  for (su_log_t* log : {su_log_default, su_log_global, nta_log, tport_log, sresolv_log}) {
    su_log_redirect(log, Discard, nullptr);
    su_log_set_level(log, 0);
  }
}

}  // namespace callvault::proxy
