#include "module/ctl/node_files.h"

#include <cstdio>

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

}  // namespace callvault::ctl
