// Every callvaultctl command, declared in one place (the table in main.cpp
// maps names to these).  Each takes the arguments after its own name and
// returns the process exit code: 0 ok, 1 operation failed, 2 usage error.
#pragma once

#include <string>
#include <vector>

namespace callvault::ctl {

using Args = std::vector<std::string>;

int KeysInit(const Args& args);      // keys init --keyring PATH
int CdrDump(const Args& args);       // cdr dump --config PATH [--format table|jsonl]
int AnalyticsRetireEpoch(const Args& args);  // analytics retire-epoch EPOCH --config PATH [--force]
int DbMigrate(const Args& args);     // db migrate (--admin-conninfo C | --config PATH)
int KeysRotate(const Args& args);    // keys rotate --config PATH [--conninfo C] [--rewrap-only]
int CdrSearch(const Args& args);     // cdr search --config PATH (--caller N | --callee N) ...
int CdrShow(const Args& args);       // cdr show RECORD_ID --config PATH [--format table|jsonl]

}  // namespace callvault::ctl
