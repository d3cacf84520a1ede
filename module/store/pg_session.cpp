#include "module/store/pg_session.h"

#include <algorithm>
#include <cstdlib>

namespace callvault {

long PgResult::affected() const {
  const char* n = PQcmdTuples(r_.get());
  return n && *n ? std::strtol(n, nullptr, 10) : 0;
}

std::unique_ptr<PgSession> PgSession::Connect(const std::string& conninfo,
                                              const DbConnectOptions& opts, std::string* error) {
  std::string full;
  if (!BuildConnInfo(conninfo, opts, &full, error)) return nullptr;
  PGconn* c = PQconnectdb(full.c_str());
  if (c == nullptr || PQstatus(c) != CONNECTION_OK) {
    *error = "database: " + RedactDbError(c ? PQerrorMessage(c) : "out of memory");
    PQfinish(c);
    return nullptr;
  }
  // Notices (e.g. from partition creation) are not errors; keep them off stderr.
  PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<PgSession>(new PgSession(c));
}

PgSession::~PgSession() { PQfinish(conn_); }

void PgSession::Throw(const PGresult* r) {
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  const char* msg = r ? PQresultErrorMessage(r) : nullptr;
  std::string text = msg && *msg ? msg : PQerrorMessage(conn_);
  throw PgError(RedactDbError(text), state ? state : "");
}

PgResult PgSession::Exec(const std::string& sql, const std::vector<PgParam>& params) {
  std::vector<const char*> values;
  std::vector<int> lengths, formats;
  for (const PgParam& p : params) {
    values.push_back(p.data);
    lengths.push_back(p.length);
    formats.push_back(p.format);
  }
  PGresult* r = PQexecParams(conn_, sql.c_str(), static_cast<int>(params.size()), nullptr,
                             values.data(), lengths.data(), formats.data(), 0);
  const ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    PgResult guard(r);
    Throw(r);
  }
  return PgResult(r);
}

void PgSession::CopyIn(const std::string& copy_statement, std::string_view data) {
  PGresult* r = PQexec(conn_, copy_statement.c_str());
  if (r == nullptr || PQresultStatus(r) != PGRES_COPY_IN) {
    PgResult guard(r);
    Throw(r);
  }
  PQclear(r);
  constexpr size_t kChunk = 1 << 18;
  bool sent = true;
  for (size_t off = 0; off < data.size() && sent; off += kChunk) {
    const size_t n = std::min(kChunk, data.size() - off);
    sent = PQputCopyData(conn_, data.data() + off, static_cast<int>(n)) == 1;
  }
  if (PQputCopyEnd(conn_, sent ? nullptr : "client could not send the COPY data") != 1) {
    Throw(nullptr);
  }
  // Drain every result; the first failure is the one to report.
  PGresult* failed = nullptr;
  while ((r = PQgetResult(conn_)) != nullptr) {
    if (PQresultStatus(r) != PGRES_COMMAND_OK && failed == nullptr) {
      failed = r;
    } else {
      PQclear(r);
    }
  }
  if (failed != nullptr) {
    PgResult guard(failed);
    Throw(failed);
  }
  if (!sent) Throw(nullptr);
}

}  // namespace callvault
