// What most commands start from: a node's module config and the keyring it
// names, loaded and checked exactly as the module does at open.
#pragma once

#include <string>

#include "module/config/config.h"
#include "module/crypto/keyring.h"

namespace callvault::ctl {

// On failure prints "<command>: <what>" to stderr and returns false.
bool LoadNodeFiles(const char* command, const std::string& config_path, Config* cfg,
                   Keyring* keyring);

}  // namespace callvault::ctl
