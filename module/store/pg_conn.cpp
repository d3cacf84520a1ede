#include "module/store/pg_conn.h"

#include <libpq-fe.h>

#include <regex>
#include <vector>

#include <pqxx/except>

namespace callvault {
namespace {

std::string Quote(const char* v) {
  std::string out = "'";
  for (const char* p = v; *p; ++p) {
    if (*p == '\\' || *p == '\'') out += '\\';
    out += *p;
  }
  return out + "'";
}

}  // namespace

bool BuildConnInfo(const std::string& conninfo, const DbConnectOptions& opts, std::string* out,
                   std::string* error) {
  char* err = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &err);
  if (parsed == nullptr) {
    // libpq quotes the offending fragment, which may be a password: drop it.
    std::string why = err ? std::regex_replace(std::string(err), std::regex("\"[^\"]*\""), "\"...\"")
                          : "out of memory";
    if (err) PQfreemem(err);
    *error = "database conninfo is not a valid libpq connection string: " + RedactDbError(why);
    return false;
  }
  const std::vector<std::pair<std::string, std::string>> defaults = {
      {"application_name", opts.application_name},
      {"connect_timeout", std::to_string(opts.connect_timeout_s)},
      {"keepalives", "1"},
      {"keepalives_idle", std::to_string(opts.keepalives_idle_s)},
      {"keepalives_interval", std::to_string(opts.keepalives_interval_s)},
      {"keepalives_count", std::to_string(opts.keepalives_count)},
      {"tcp_user_timeout", std::to_string(opts.tcp_user_timeout_ms)},
  };
  std::string result;
  for (PQconninfoOption* o = parsed; o->keyword != nullptr; ++o) {
    const char* val = o->val;
    std::string fallback;
    if (std::string_view(o->keyword) == "options" && opts.statement_timeout_ms > 0) {
      // Set at connection start (no extra round trip that a frozen server
      // could swallow); the caller's own options come after and win.
      fallback = "-c statement_timeout=" + std::to_string(opts.statement_timeout_ms);
      if (val != nullptr) fallback += std::string(" ") + val;
      val = fallback.c_str();
    } else if (val == nullptr) {
      for (const auto& [k, v] : defaults) {
        if (k == o->keyword) fallback = v;
      }
      if (fallback.empty()) continue;
      val = fallback.c_str();
    }
    if (!result.empty()) result += ' ';
    result += o->keyword;
    result += '=';
    result += Quote(val);
  }
  PQconninfoFree(parsed);
  *out = std::move(result);
  return true;
}

std::unique_ptr<pqxx::connection> OpenDb(const std::string& conninfo, const DbConnectOptions& opts,
                                         std::string* error) {
  std::string full;
  if (!BuildConnInfo(conninfo, opts, &full, error)) return nullptr;
  try {
    return std::make_unique<pqxx::connection>(full);
  } catch (const std::exception& e) {
    *error = "database: " + RedactDbError(e.what());
    return nullptr;
  }
}

std::string RedactDbError(std::string_view message) {
  static const std::regex kIpv4(R"(\b\d{1,3}(\.\d{1,3}){3}\b)");
  static const std::regex kIpv6(R"([0-9A-Fa-f:]*::[0-9A-Fa-f:]*|\b[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){7}\b)");
  std::string out;
  size_t start = 0;
  while (start < message.size()) {
    size_t end = message.find('\n', start);
    if (end == std::string_view::npos) end = message.size();
    std::string line(message.substr(start, end - start));
    start = end + 1;
    // DETAIL/CONTEXT/QUERY lines can echo row values or statement text.
    if (line.empty() || line.rfind("DETAIL:", 0) == 0 || line.rfind("HINT:", 0) == 0 ||
        line.rfind("CONTEXT:", 0) == 0 || line.rfind("QUERY:", 0) == 0 ||
        line.rfind("LINE ", 0) == 0 || line.find_first_not_of(' ') == line.find('^')) {
      continue;
    }
    if (!out.empty()) out += "; ";
    out += line;
  }
  out = std::regex_replace(out, kIpv4, "<addr>");
  return std::regex_replace(out, kIpv6, "<addr>");
}

bool IsRowRefusal(std::string_view sqlstate) {
  if (sqlstate.size() != 5) return false;
  std::string_view cls = sqlstate.substr(0, 2);
  return cls == "22" || cls == "23" || cls == "P0" || cls == "54";
}

std::string SqlState(const pqxx::sql_error& e) {
  if (!e.sqlstate().empty()) return e.sqlstate();
  if (dynamic_cast<const pqxx::insufficient_privilege*>(&e)) return "42501";
  if (dynamic_cast<const pqxx::check_violation*>(&e)) return "23514";
  if (dynamic_cast<const pqxx::unique_violation*>(&e)) return "23505";
  if (dynamic_cast<const pqxx::integrity_constraint_violation*>(&e)) return "23000";
  if (dynamic_cast<const pqxx::data_exception*>(&e)) return "22000";
  if (dynamic_cast<const pqxx::plpgsql_raise*>(&e)) return "P0001";
  if (dynamic_cast<const pqxx::plpgsql_error*>(&e)) return "P0000";
  return "";
}

}  // namespace callvault
