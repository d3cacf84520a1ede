// cdr show: decrypts one record of the CDR store.  Authentication binds the
// payload to its record id and retention metadata, so an altered payload,
// retain_until or trunk fails here loudly, naming the record.  Needs a role
// that may read payloads (callvault_reader): pass its conninfo with
// --conninfo.
#include <cstdio>
#include <string>
#include <vector>

#include "module/config/config.h"
#include "module/crypto/keyring.h"
#include "module/ctl/cdr_output.h"
#include "module/ctl/commands.h"
#include "module/ctl/flags.h"
#include "module/ctl/node_files.h"
#include "module/store/record_store.h"

namespace callvault::ctl {

int CdrShow(const Args& args) {
  constexpr char kUsage[] =
      "usage: callvaultctl cdr show RECORD_ID --config PATH [--format table|jsonl] "
      "[--conninfo CONNINFO]\n";
  Flags flags(args, {"config", "format", "conninfo"});
  if (!flags.ok()) {
    std::fprintf(stderr, "cdr show: %s\n%s", flags.error().c_str(), kUsage);
    return 2;
  }
  const std::string format = flags.get("format", "table");
  if (!flags.has("config") || flags.positional().size() != 1 ||
      (format != "table" && format != "jsonl")) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  Config cfg;
  Keyring keyring;
  if (!LoadNodeFiles("cdr show", flags.get("config"), &cfg, &keyring)) return 1;
  std::string error;
  auto conn = OpenCtlDb("cdr show", flags.get("conninfo", cfg.database.conninfo));
  if (!conn) return 1;
  RecordStore store(*conn, keyring);
  RecordRow row;
  bool found = false;
  if (!store.Fetch(flags.positional()[0], &row, &found, &error)) {
    std::fprintf(stderr, "cdr show: %s\n", error.c_str());
    return 1;
  }
  if (!found) {
    std::fprintf(stderr, "cdr show: record %s not found\n", flags.positional()[0].c_str());
    return 1;
  }
  Cdr cdr;
  if (!store.Decrypt(row, &cdr, &error)) {
    std::fprintf(stderr, "cdr show: %s\n", error.c_str());
    return 1;
  }
  if (format == "jsonl") {
    PrintCdrJsonl(cdr, stdout);
  } else {
    PrintCdrTable({cdr}, stdout);
    std::printf("stored: call_day %s, retain_until %s, retention %s (%s), hold %s, node %s\n",
                row.call_day.c_str(), row.retain_until.c_str(), row.retention_class.c_str(),
                row.legal_basis.c_str(), row.hold_state == 0 ? "none" : "held",
                row.node_id.c_str());
  }
  return 0;
}

}  // namespace callvault::ctl
