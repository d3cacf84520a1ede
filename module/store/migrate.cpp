#include "module/store/migrate.h"

#include <openssl/evp.h>

#include <cstdio>
#include <map>

#include <pqxx/pqxx>

#include "module/store/migrations.h"
#include "module/store/pg_conn.h"

namespace callvault {
namespace {

// Arbitrary but fixed: all callvaultctl instances lock the same key.
constexpr long long kMigrateLockKey = 0x63766d6967726174;  // "cvmigrat"

constexpr char kCreateMeta[] =
    "SET LOCAL client_min_messages = warning;"
    "CREATE SCHEMA IF NOT EXISTS callvault;"
    "REVOKE ALL ON SCHEMA callvault FROM PUBLIC;"
    "CREATE TABLE IF NOT EXISTS callvault.schema_migrations ("
    "  version    integer     PRIMARY KEY,"
    "  name       text        NOT NULL,"
    "  checksum   text        NOT NULL,"
    "  applied_at timestamptz NOT NULL DEFAULT now())";

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  std::string hex;
  char buf[3];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", md[i]);
    hex += buf;
  }
  return hex;
}

struct Applied {
  std::string name;
  std::string checksum;
  std::string applied_at;
};

std::map<int, Applied> ReadApplied(pqxx::connection_base& conn) {
  pqxx::nontransaction tx(conn);
  std::map<int, Applied> out;
  const pqxx::result r = tx.exec(
      "SELECT version, name, checksum, applied_at::text FROM callvault.schema_migrations");
  for (const auto& row : r) {
    out[row[0].as<int>()] = {row[1].as<std::string>(), row[2].as<std::string>(),
                             row[3].as<std::string>()};
  }
  return out;
}

bool Check(const std::map<int, Applied>& applied, std::string* error) {
  const int latest = LatestEmbeddedVersion();
  if (!applied.empty() && applied.rbegin()->first > latest) {
    *error = "database schema is at version " + std::to_string(applied.rbegin()->first) +
             ", newer than version " + std::to_string(latest) +
             " known to this callvaultctl; use a newer callvaultctl";
    return false;
  }
  for (const Migration& m : EmbeddedMigrations()) {
    auto it = applied.find(m.version);
    if (it != applied.end() && it->second.checksum != Sha256Hex(m.sql)) {
      *error = "migration " + std::to_string(m.version) + " (" + std::string(m.name) +
               ") differs from the one applied at " + it->second.applied_at +
               "; migrations are append-only";
      return false;
    }
  }
  return true;
}

bool ApplyLocked(pqxx::connection_base& conn, MigrateResult* result, std::string* error) {
  {
    pqxx::work tx(conn);
    tx.exec(kCreateMeta);
    tx.commit();
  }
  std::map<int, Applied> applied = ReadApplied(conn);
  result->from_version = applied.empty() ? 0 : applied.rbegin()->first;
  result->to_version = result->from_version;
  if (!Check(applied, error)) return false;
  for (const Migration& m : EmbeddedMigrations()) {
    if (applied.count(m.version)) continue;
    try {
      pqxx::work tx(conn);
      tx.exec("SET LOCAL client_min_messages = warning");
      tx.exec(std::string(m.sql));
      tx.exec_params(
          "INSERT INTO callvault.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
          m.version, std::string(m.name), Sha256Hex(m.sql));
      tx.commit();
    } catch (const std::exception& e) {
      *error = "migration " + std::to_string(m.version) + " (" + std::string(m.name) +
               ") failed: " + RedactDbError(e.what());
      return false;
    }
    result->applied.push_back(m.version);
    result->to_version = m.version;
  }
  return true;
}

}  // namespace

int LatestEmbeddedVersion() {
  const auto& all = EmbeddedMigrations();
  return all.empty() ? 0 : all.back().version;
}

int RecordedSchemaVersion(pqxx::connection_base& conn, std::string* error) {
  try {
    pqxx::nontransaction tx(conn);
    if (tx.exec("SELECT to_regclass('callvault.schema_migrations')")[0][0].is_null()) return 0;
    return tx.exec("SELECT coalesce(max(version), 0) FROM callvault.schema_migrations")[0][0]
        .as<int>();
  } catch (const std::exception& e) {
    *error = "database: " + RedactDbError(e.what());
    return -1;
  }
}

bool MigrateDatabase(pqxx::connection_base& conn, MigrateResult* result, std::string* error) {
  const std::string key = std::to_string(kMigrateLockKey);
  try {
    pqxx::nontransaction(conn).exec("SELECT pg_advisory_lock(" + key + ")");
  } catch (const std::exception& e) {
    *error = "database: " + RedactDbError(e.what());
    return false;
  }
  bool ok = false;
  try {
    ok = ApplyLocked(conn, result, error);
  } catch (const std::exception& e) {
    *error = "database: " + RedactDbError(e.what());
  }
  try {
    pqxx::nontransaction(conn).exec("SELECT pg_advisory_unlock(" + key + ")");
  } catch (const std::exception&) {
    // The lock is session-scoped: it goes away with the connection anyway.
  }
  return ok;
}

}  // namespace callvault
