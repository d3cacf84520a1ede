// sofia-sip's own debug logs print addresses and URIs (for example nta's
// transport error messages).  The proxy silences them all: its own logs
// carry states and counts only.
#pragma once

namespace callvault::proxy {

// Routes every sofia-sip log (su_log_default and the nta / tport / resolver
// logs that fall back to it) to a sink that discards the text.
void SilenceSofiaLogs();

}  // namespace callvault::proxy
