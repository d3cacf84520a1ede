// What most commands start from: a node's module config and the keyring it
// names, loaded and checked exactly as the module does at open, and the
// database connection.
#pragma once

#include <memory>
#include <string>

#include <pqxx/connection>

#include "module/config/config.h"
#include "module/crypto/keyring.h"

namespace callvault::ctl {

// On failure prints "<command>: <what>" to stderr and returns false.
bool LoadNodeFiles(const char* command, const std::string& config_path, Config* cfg,
                   Keyring* keyring);

// A database connection as callvaultctl opens them (application_name
// "callvaultctl"); on failure prints "<command>: <what>" and returns null.
std::unique_ptr<pqxx::connection> OpenCtlDb(const char* command, const std::string& conninfo);

}  // namespace callvault::ctl
