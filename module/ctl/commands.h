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

}  // namespace callvault::ctl
