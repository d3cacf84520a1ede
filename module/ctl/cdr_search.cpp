// cdr search: finds a subject's records through the blind indexes (no table
// scan, no bulk decryption) and decrypts just those.  The number is
// normalised as the shipper normalised it, under every region a trunk uses
// (module/store/blind_index.h).  Needs a role that may read payloads
// (callvault_reader): pass its conninfo with --conninfo.
#include <cstdio>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "module/config/config.h"
#include "module/crypto/keyring.h"
#include "module/ctl/cdr_output.h"
#include "module/ctl/commands.h"
#include "module/ctl/flags.h"
#include "module/ctl/node_files.h"
#include "module/store/blind_index.h"
#include "module/store/record_store.h"

namespace callvault::ctl {

int CdrSearch(const Args& args) {
  constexpr char kUsage[] =
      "usage: callvaultctl cdr search --config PATH (--caller NUMBER | --callee NUMBER) "
      "[--from YYYY-MM-DD] [--to YYYY-MM-DD] [--format table|jsonl] [--conninfo CONNINFO]\n";
  Flags flags(args, {"config", "caller", "callee", "from", "to", "format", "conninfo"});
  if (!flags.ok()) {
    std::fprintf(stderr, "cdr search: %s\n%s", flags.error().c_str(), kUsage);
    return 2;
  }
  const std::string format = flags.get("format", "table");
  const std::string from = flags.get("from"), to = flags.get("to");
  int64_t day = 0;
  if (!flags.has("config") || flags.has("caller") == flags.has("callee") ||
      !flags.positional().empty() || (format != "table" && format != "jsonl") ||
      (!from.empty() && !ParseDay(from, &day)) || (!to.empty() && !ParseDay(to, &day))) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  Config cfg;
  Keyring keyring;
  if (!LoadNodeFiles("cdr search", flags.get("config"), &cfg, &keyring)) return 1;
  std::string error;
  auto indexer = BlindIndexer::Create(keyring, &error);
  if (!indexer) {
    std::fprintf(stderr, "cdr search: %s\n", error.c_str());
    return 1;
  }
  const bool by_caller = flags.has("caller");
  const std::vector<std::string> indexes =
      indexer->SearchIndexes(flags.get(by_caller ? "caller" : "callee"), SearchRegions(cfg));
  if (indexes.empty()) {
    std::fprintf(stderr, "cdr search: the number normalises to nothing searchable\n");
    return 2;
  }
  auto conn = OpenCtlDb("cdr search", flags.get("conninfo", cfg.database.conninfo));
  if (!conn) return 1;
  RecordStore store(*conn, keyring);
  std::vector<RecordRow> rows;
  if (!store.Search(by_caller ? NumberField::kCaller : NumberField::kCallee, indexes, from, to,
                    &rows, &error)) {
    std::fprintf(stderr, "cdr search: %s\n", error.c_str());
    return 1;
  }
  CdrPrinter printer(format == "jsonl", stdout);
  size_t bad = 0;
  for (const RecordRow& row : rows) {
    Cdr cdr;
    if (!store.Decrypt(row, &cdr, &error)) {
      ++bad;
      std::fprintf(stderr, "cdr search: %s\n", error.c_str());
      continue;
    }
    printer.Add(std::move(cdr));
  }
  printer.Finish();
  std::fprintf(stderr, "cdr search: %zu record(s), %zu failed to decrypt\n", rows.size() - bad,
               bad);
  return bad == 0 ? 0 : 1;
}

}  // namespace callvault::ctl
