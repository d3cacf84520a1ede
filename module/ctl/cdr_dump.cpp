// cdr dump: decrypt and print every CDR in the module's journal.  Damage is
// reported with its position, counted and stepped over, so one bad record
// never hides the rest; the exit code says whether anything was bad.
#include <cstdio>
#include <string>
#include <vector>

#include "module/cdr/cdr_json.h"
#include "module/config/config.h"
#include "module/crypto/keyring.h"
#include "module/ctl/cdr_output.h"
#include "module/ctl/commands.h"
#include "module/ctl/flags.h"
#include "module/ctl/node_files.h"
#include "module/journal/journal.h"

namespace callvault::ctl {

int CdrDump(const Args& args) {
  constexpr char kUsage[] = "usage: callvaultctl cdr dump --config PATH [--format table|jsonl]\n";
  Flags flags(args, {"config", "format"});
  if (!flags.ok()) {
    std::fprintf(stderr, "cdr dump: %s\n%s", flags.error().c_str(), kUsage);
    return 2;
  }
  const std::string format = flags.get("format", "table");
  if (!flags.has("config") || !flags.positional().empty() ||
      (format != "table" && format != "jsonl")) {
    std::fputs(kUsage, stderr);
    return 2;
  }

  Config cfg;
  Keyring keyring;
  if (!LoadNodeFiles("cdr dump", flags.get("config"), &cfg, &keyring)) return 1;
  std::string error;
  auto reader = JournalReader::Open(cfg.journal.dir, keyring, &error);
  if (!reader) {
    std::fprintf(stderr, "cdr dump: %s\n", error.c_str());
    return 1;
  }

  CdrPrinter printer(format == "jsonl", stdout);
  uint64_t printed = 0, bad = 0;
  JournalRecord rec;
  for (;;) {
    JournalReader::Status status = reader->Next(&rec, &error);
    if (status == JournalReader::Status::kEnd) break;
    if (status == JournalReader::Status::kCorrupt) {
      ++bad;
      JournalPosition at = reader->position();
      JournalPosition to = reader->Skip();
      std::fprintf(stderr, "cdr dump: %s (skipped %s to %s)\n", error.c_str(),
                   at.ToString().c_str(), to.ToString().c_str());
      continue;
    }
    Cdr cdr;
    if (rec.type != RecordType::kCdr || !CdrFromJson(rec.payload, &cdr, &error)) {
      ++bad;
      std::fprintf(stderr, "cdr dump: record at %s: %s\n", rec.at.ToString().c_str(),
                   rec.type != RecordType::kCdr ? "not a CDR record" : error.c_str());
      continue;
    }
    ++printed;
    printer.Add(std::move(cdr));
  }
  printer.Finish();
  std::fprintf(stderr, "cdr dump: %llu CDRs, %llu bad records\n",
               static_cast<unsigned long long>(printed), static_cast<unsigned long long>(bad));
  return bad == 0 ? 0 : 1;
}

}  // namespace callvault::ctl
