// callvaultctl: the ops (and, separately, LI) command line.  Commands are
// listed here and nowhere else.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "module/ctl/commands.h"

namespace {

struct Command {
  const char* group;
  const char* name;
  int (*run)(const callvault::ctl::Args&);
  const char* help;
};

constexpr Command kCommands[] = {
    {"keys", "init", callvault::ctl::KeysInit, "--keyring PATH  create a new keyring (0600)"},
    {"cdr", "dump", callvault::ctl::CdrDump,
     "--config PATH [--format table|jsonl]  decrypt and print every CDR in the journal"},
    {"analytics", "retire-epoch", callvault::ctl::AnalyticsRetireEpoch,
     "EPOCH --config PATH [--force]  destroy an analytics epoch key for good"},
    {"db", "migrate", callvault::ctl::DbMigrate,
     "--admin-conninfo C | --config PATH  apply the schema migrations"},
    {"keys", "rotate", callvault::ctl::KeysRotate,
     "--config PATH [--conninfo C] [--rewrap-only]  new KEK version, rewrap all data keys"},
    {"cdr", "search", callvault::ctl::CdrSearch,
     "--config PATH (--caller N | --callee N) [--from D --to D] [--format table|jsonl] "
     "[--conninfo C]  find a subject's CDRs by blind index"},
    {"cdr", "show", callvault::ctl::CdrShow,
     "RECORD_ID --config PATH [--format table|jsonl] [--conninfo C]  decrypt one stored CDR"},
};

int Usage() {
  std::fprintf(stderr, "usage: callvaultctl GROUP COMMAND [options]\n");
  for (const auto& c : kCommands) std::fprintf(stderr, "  %s %s %s\n", c.group, c.name, c.help);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return Usage();
  for (const auto& c : kCommands) {
    if (std::strcmp(argv[1], c.group) == 0 && std::strcmp(argv[2], c.name) == 0) {
      return c.run(callvault::ctl::Args(argv + 3, argv + argc));
    }
  }
  return Usage();
}
