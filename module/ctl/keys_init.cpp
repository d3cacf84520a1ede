// keys init: create a new keyring (KEK version 1 plus fresh named secrets).
// Never overwrites: an existing keyring may be the only key to a journal or
// a database full of CDRs.
#include <cstdio>
#include <string>

#include "module/crypto/keyring.h"
#include "module/ctl/commands.h"
#include "module/ctl/flags.h"

namespace callvault::ctl {

int KeysInit(const Args& args) {
  constexpr char kUsage[] = "usage: callvaultctl keys init --keyring PATH\n";
  Flags flags(args, {"keyring"});
  if (!flags.ok()) {
    std::fprintf(stderr, "keys init: %s\n%s", flags.error().c_str(), kUsage);
    return 2;
  }
  const std::string path = flags.get("keyring");
  if (path.empty() || !flags.positional().empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  std::string error;
  Keyring ring = Keyring::Generate();
  if (!ring.Save(path, &error, Keyring::SaveMode::kCreateNew)) {
    std::fprintf(stderr, "keys init: %s\n", error.c_str());
    return 1;
  }
  std::printf("keys init: wrote %s (mode 0600, active KEK version %u)\n", path.c_str(),
              ring.active_kek_version());
  return 0;
}

}  // namespace callvault::ctl
