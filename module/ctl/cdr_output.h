// How callvaultctl prints CDRs, shared by every command that shows them so
// the table and the JSON lines read the same everywhere.
#pragma once

#include <cstdio>
#include <vector>

#include "module/cdr/cdr.h"

namespace callvault::ctl {

// An aligned table with a header row: record_id (its last 12 characters,
// the part that tells calls apart; the leading part is the INVITE time),
// caller, callee, ingress, egress, invite_time, answer, end, dur_ms, status,
// disposition, released_by.  Times are UTC ("2026-11-27T21:03:04.123Z"),
// "-" when never reached or empty.  Control characters in SIP-derived text
// are shown as '?', so a crafted header cannot drive the terminal.
void PrintCdrTable(const std::vector<Cdr>& cdrs, FILE* out);

// One CDR as one line of JSON (CdrToJson).
void PrintCdrJsonl(const Cdr& cdr, FILE* out);

// For commands that print a stream of CDRs in either format: JSON lines go
// out as they come, a table once all are in (its columns fit the widest).
class CdrPrinter {
 public:
  CdrPrinter(bool jsonl, FILE* out) : jsonl_(jsonl), out_(out) {}
  void Add(Cdr cdr);
  void Finish();  // prints the table (if any) and flushes

 private:
  bool jsonl_;
  FILE* out_;
  std::vector<Cdr> table_;
};

}  // namespace callvault::ctl
