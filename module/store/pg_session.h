// A minimal libpq session for the shipper's hot path.  libpqxx 6.4 offers
// COPY only in text form through per-field escaping (stream_to), which cost
// more CPU than encrypting the record; binary COPY needs the raw connection,
// which libpqxx does not expose.  So the shipper talks libpq directly, and
// only through this class.
//
// Errors are thrown as PgError: sqlstate() is the server's SQLSTATE, empty
// when the connection itself failed.  Messages are redacted (pg_conn.h).
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "module/store/pg_conn.h"

namespace callvault {

class PgError : public std::runtime_error {
 public:
  PgError(const std::string& message, std::string sqlstate)
      : std::runtime_error(message), sqlstate_(std::move(sqlstate)) {}
  const std::string& sqlstate() const { return sqlstate_; }

 private:
  std::string sqlstate_;
};

// One statement parameter: text, binary (bytea) or NULL.
struct PgParam {
  static PgParam Text(std::string_view s) { return {s.data(), static_cast<int>(s.size()), 0}; }
  static PgParam Bytes(std::string_view s) { return {s.data(), static_cast<int>(s.size()), 1}; }
  static PgParam Null() { return {nullptr, 0, 0}; }
  // Text, or NULL when empty.
  static PgParam TextOrNull(std::string_view s) { return s.empty() ? Null() : Text(s); }
  static PgParam BytesOrNull(std::string_view s) { return s.empty() ? Null() : Bytes(s); }

  const char* data;
  int length;
  int format;  // 0 text, 1 binary
};

class PgResult {
 public:
  explicit PgResult(PGresult* r) : r_(r, PQclear) {}
  int rows() const { return PQntuples(r_.get()); }
  bool is_null(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  std::string_view get(int row, int col) const {
    return {PQgetvalue(r_.get(), row, col), static_cast<size_t>(PQgetlength(r_.get(), row, col))};
  }
  long affected() const;

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> r_;
};

class PgSession {
 public:
  // nullptr with *error (redacted) when the connection cannot be made.
  static std::unique_ptr<PgSession> Connect(const std::string& conninfo,
                                            const DbConnectOptions& opts, std::string* error);
  ~PgSession();
  PgSession(const PgSession&) = delete;
  PgSession& operator=(const PgSession&) = delete;

  int socket() const { return PQsocket(conn_); }

  // Runs one statement; results come back in text form, bytea parameters go
  // binary.  Throws PgError.
  PgResult Exec(const std::string& sql, const std::vector<PgParam>& params = {});

  // COPY ... FROM STDIN with the given already-encoded data.  Throws PgError.
  void CopyIn(const std::string& copy_statement, std::string_view data);

 private:
  explicit PgSession(PGconn* c) : conn_(c) {}
  [[noreturn]] void Throw(const PGresult* r);
  PGconn* conn_;
};

}  // namespace callvault
