// db migrate: applies the schema migrations compiled into callvaultctl
// (module/store/migrations) and creates the CDR partitions of this month and
// the next.  Needs a role that may create schemas and roles: the config's
// conninfo is the writer's, so ops normally pass --admin-conninfo (then no
// config is needed).
#include <cstdio>
#include <string>

#include <pqxx/pqxx>

#include "module/config/config.h"
#include "module/ctl/commands.h"
#include "module/ctl/flags.h"
#include "module/ctl/node_files.h"
#include "module/store/migrate.h"
#include "module/store/pg_conn.h"

namespace callvault::ctl {

int DbMigrate(const Args& args) {
  constexpr char kUsage[] =
      "usage: callvaultctl db migrate (--admin-conninfo CONNINFO | --config PATH)\n";
  Flags flags(args, {"config", "admin-conninfo"});
  const bool has_target = flags.has("admin-conninfo") || flags.has("config");
  if (!flags.ok() || !has_target || !flags.positional().empty()) {
    std::fprintf(stderr, "db migrate: %s\n%s",
                 flags.ok() ? "missing --admin-conninfo or --config" : flags.error().c_str(),
                 kUsage);
    return 2;
  }
  std::string error;
  std::string conninfo = flags.get("admin-conninfo");
  if (conninfo.empty()) {
    Config cfg;
    if (!LoadConfig(flags.get("config"), &cfg, &error)) {
      std::fprintf(stderr, "db migrate: %s\n", error.c_str());
      return 1;
    }
    conninfo = cfg.database.conninfo;
  }
  if (conninfo.empty()) {
    std::fprintf(stderr, "db migrate: no database: set database.conninfo or --admin-conninfo\n");
    return 2;
  }
  auto conn = OpenCtlDb("db migrate", conninfo);
  if (!conn) return 1;
  MigrateResult result;
  if (!MigrateDatabase(*conn, &result, &error)) {
    std::fprintf(stderr, "db migrate: %s\n", error.c_str());
    return 1;
  }
  try {
    pqxx::nontransaction tx(*conn);
    tx.exec(
        "SELECT cdr.ensure_month(current_date), "
        "cdr.ensure_month((current_date + interval '1 month')::date)");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "db migrate: creating partitions: %s\n", RedactDbError(e.what()).c_str());
    return 1;
  }
  if (result.applied.empty()) {
    std::printf("db migrate: schema already at version %d\n", result.to_version);
  } else {
    std::printf("db migrate: schema version %d -> %d (%zu migration(s) applied)\n",
                result.from_version, result.to_version, result.applied.size());
  }
  return 0;
}

}  // namespace callvault::ctl
