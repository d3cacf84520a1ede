#include "module/ctl/node_files.h"

#include <cstdio>

#include "module/store/pg_conn.h"

namespace callvault::ctl {

bool LoadNodeFiles(const char* command, const std::string& config_path, Config* cfg,
                   Keyring* keyring) {
  std::string error;
  if (!LoadConfig(config_path, cfg, &error) || !Keyring::Load(cfg->keyring, keyring, &error)) {
    std::fprintf(stderr, "%s: %s\n", command, error.c_str());
    return false;
  }
  return true;
}

std::unique_ptr<pqxx::connection> OpenCtlDb(const char* command, const std::string& conninfo) {
  DbConnectOptions opts;
  opts.application_name = "callvaultctl";
  std::string error;
  auto conn = OpenDb(conninfo, opts, &error);
  if (!conn) std::fprintf(stderr, "%s: %s\n", command, error.c_str());
  return conn;
}

}  // namespace callvault::ctl
