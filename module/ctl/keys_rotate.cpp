// keys rotate: adds a KEK version to the keyring (and makes it active), then
// rewraps every data key of the CDR store under it in one transaction.
// Payloads are never read or rewritten: records stay bound to their data
// keys, only the keys' wrapping changes.
//
// Order matters: the keyring is saved first, so a failure afterwards leaves
// data keys under an older version the keyring still holds (old versions are
// never removed).  --rewrap-only repeats the database half without adding a
// version, e.g. after a failure or for keys a shipper created while it still
// ran with the previous keyring.
#include <cstdio>
#include <string>

#include "module/config/config.h"
#include "module/crypto/keyring.h"
#include "module/ctl/commands.h"
#include "module/ctl/flags.h"
#include "module/ctl/node_files.h"
#include "module/store/key_rotation.h"
#include "module/store/pg_conn.h"

namespace callvault::ctl {

int KeysRotate(const Args& args) {
  constexpr char kUsage[] =
      "usage: callvaultctl keys rotate --config PATH [--conninfo CONNINFO] [--rewrap-only]\n";
  Flags flags(args, {"config", "conninfo"}, {"rewrap-only"});
  if (!flags.ok() || !flags.has("config") || !flags.positional().empty()) {
    std::fprintf(stderr, "keys rotate: %s\n%s",
                 flags.ok() ? "missing --config" : flags.error().c_str(), kUsage);
    return 2;
  }
  Config cfg;
  Keyring keyring;
  if (!LoadNodeFiles("keys rotate", flags.get("config"), &cfg, &keyring)) return 1;
  std::string error;
  if (!flags.has("rewrap-only")) {
    const uint32_t old_version = keyring.active_kek_version();
    const uint32_t version = keyring.AddKek();
    if (!keyring.Save(cfg.keyring, &error)) {
      std::fprintf(stderr, "keys rotate: %s\n", error.c_str());
      return 1;
    }
    std::printf("keys rotate: %s: KEK version %u added and active (was %u)\n", cfg.keyring.c_str(),
                version, old_version);
  }
  const std::string conninfo = flags.get("conninfo", cfg.database.conninfo);
  if (conninfo.empty()) {
    std::printf("keys rotate: no database configured; no data keys to rewrap\n");
    return 0;
  }
  DbConnectOptions opts;
  opts.application_name = "callvaultctl";
  auto conn = OpenDb(conninfo, opts, &error);
  RewrapResult result;
  if (!conn || !RewrapDataKeys(*conn, keyring, &result, &error)) {
    std::fprintf(stderr,
                 "keys rotate: %s\nkeys rotate: the keyring keeps every KEK version; rerun with "
                 "--rewrap-only once the database is reachable\n",
                 error.c_str());
    return 1;
  }
  std::printf(
      "keys rotate: %zu data key(s) rewrapped under KEK version %u, %zu already were, %zu "
      "shredded\n",
      result.rewrapped, result.kek_version, result.already_current, result.shredded);
  return 0;
}

}  // namespace callvault::ctl
