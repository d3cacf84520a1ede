// Versioned schema migrations (migrations.h), applied in order, each in its
// own transaction together with its row in callvault.schema_migrations
// (version, name, SHA-256 of the SQL, applied_at).
//
// Invariants:
//  - Idempotent: a version already recorded is never applied again.
//  - A database recording a version newer than this binary knows is refused
//    (an older callvaultctl must not "fix" a newer schema).
//  - An applied migration whose SQL changed since is refused: migrations are
//    append-only; change the schema with a new one.
//  - Concurrent runs serialise on an advisory lock.
#pragma once

#include <string>
#include <vector>

#include <pqxx/connection>

namespace callvault {

struct MigrateResult {
  int from_version = 0;  // recorded before this run (0 = empty database)
  int to_version = 0;    // recorded after
  std::vector<int> applied;
};

// conn must belong to a role that may create schemas and roles.
bool MigrateDatabase(pqxx::connection_base& conn, MigrateResult* result, std::string* error);

// Highest version recorded in the database (0 if none); -1 with *error.
int RecordedSchemaVersion(pqxx::connection_base& conn, std::string* error);

int LatestEmbeddedVersion();

}  // namespace callvault
