// PostgreSQL connection setup shared by the shipper and callvaultctl: libpq
// settings that keep a dead or frozen server from hanging the caller, and
// error texts that are safe to log.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <pqxx/connection>
#include <pqxx/except>

namespace callvault {

struct DbConnectOptions {
  std::string application_name = "callvault";
  int connect_timeout_s = 5;     // bounds TCP connect + TLS handshake + auth
  int statement_timeout_ms = 0;  // server side; 0 = none
  // TCP keepalives notice a peer that vanished; tcp_user_timeout notices
  // unacknowledged sends.  Neither helps against a SIGSTOPped server whose
  // kernel still ACKs: the shipper adds a client-side watchdog for that.
  int keepalives_idle_s = 10;
  int keepalives_interval_s = 5;
  int keepalives_count = 3;
  int tcp_user_timeout_ms = 30000;
};

// Parses conninfo (key=value or postgresql:// URI) and adds the options above
// where the caller set none.  Returns a key=value string.
bool BuildConnInfo(const std::string& conninfo, const DbConnectOptions& opts, std::string* out,
                   std::string* error);

// Connects and applies statement_timeout.  nullptr with *error (redacted) on
// failure, e.g. "database: connection to server at <addr>, port 5432 failed:
// server certificate for "localhost" does not match host name "db.example"".
std::unique_ptr<pqxx::connection> OpenDb(const std::string& conninfo, const DbConnectOptions& opts,
                                         std::string* error);

// A server or libpq message made safe for logs: without DETAIL/CONTEXT/QUERY
// lines (they can echo row values), lines joined by "; ", IP addresses
// replaced by "<addr>".
std::string RedactDbError(std::string_view message);

// True when SQLSTATE says the row itself was refused (data exception,
// integrity constraint, raised by a trigger, or too large), as opposed to the
// database being unavailable, misconfigured or lacking privileges.
bool IsRowRefusal(std::string_view sqlstate);

// The SQLSTATE of an error.  libpqxx 6.4 leaves sqlstate() empty for some
// classes (e.g. insufficient_privilege); those are recovered from the type.
std::string SqlState(const pqxx::sql_error& e);

}  // namespace callvault
