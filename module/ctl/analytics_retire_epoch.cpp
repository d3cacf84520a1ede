// callvaultctl analytics retire-epoch EPOCH --config PATH [--force]
//
// Destroys one analytics epoch key (module/analytics/epoch_key_store.h) so
// that no token of that epoch can ever be recomputed from a number, and
// records the retirement so the epoch is never created again.  A running
// module notices within a second and forgets its copy of the key.  Needs no
// keyring: destroying a key must not depend on being able to use it.
#include <cstdio>
#include <ctime>
#include <string>

#include "module/analytics/epoch.h"
#include "module/analytics/epoch_key_store.h"
#include "module/config/config.h"
#include "module/ctl/commands.h"
#include "module/ctl/flags.h"

namespace callvault::ctl {

int AnalyticsRetireEpoch(const Args& args) {
  Flags flags(args, {"config"}, {"force"});
  if (!flags.ok()) {
    std::fprintf(stderr, "analytics retire-epoch: %s\n", flags.error().c_str());
    return 2;
  }
  if (flags.positional().size() != 1 || !flags.has("config")) {
    std::fprintf(stderr,
                 "usage: callvaultctl analytics retire-epoch EPOCH --config PATH [--force]\n"
                 "  EPOCH: 2026-11 (month), 2026-W48 (ISO week) or 2026-11-27 (day)\n");
    return 2;
  }
  const std::string& epoch = flags.positional()[0];
  if (!IsValidEpochId(epoch)) {
    std::fprintf(stderr,
                 "analytics retire-epoch: '%s' is not an epoch id (YYYY-MM, YYYY-Www or "
                 "YYYY-MM-DD)\n",
                 epoch.c_str());
    return 2;
  }
  Config config;
  std::string error;
  if (!LoadConfig(flags.get("config"), &config, &error)) {
    std::fprintf(stderr, "analytics retire-epoch: %s\n", error.c_str());
    return 1;
  }
  const int64_t now_s = static_cast<int64_t>(std::time(nullptr));
  if (!EpochEnded(epoch, now_s * 1000) && !flags.has("force")) {
    std::fprintf(stderr,
                 "analytics retire-epoch: epoch %s has not ended; events of its remaining calls "
                 "would be dropped. Pass --force to retire it anyway.\n",
                 epoch.c_str());
    return 1;
  }
  const std::string path = EpochKeyFile(config);
  EpochKeyStore::RetireResult result;
  if (!EpochKeyStore::Retire(path, epoch, now_s, &result, &error)) {
    std::fprintf(stderr, "analytics retire-epoch: %s\n", error.c_str());
    return 1;
  }
  if (result.already_retired) {
    std::printf("analytics epoch %s was already retired (%s)\n", epoch.c_str(), path.c_str());
  } else if (result.had_key) {
    std::printf("analytics epoch %s retired: key destroyed, retirement recorded in %s\n",
                epoch.c_str(), path.c_str());
  } else {
    std::printf("analytics epoch %s retired: it had no key; retirement recorded in %s so it is "
                "never created\n",
                epoch.c_str(), path.c_str());
  }
  return 0;
}

}  // namespace callvault::ctl
