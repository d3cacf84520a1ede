// What the store needs from a CDR to file it: the fields behind the clear
// columns, taken from the CDR's JSON form (cdr_json.h) in one strict pass that
// decodes only those and validates the rest.  The shipper seals the journal's
// JSON bytes as they are, so it never builds the whole Cdr: a full parse cost
// several times the rest of the encode path.
#pragma once

#include <string>
#include <string_view>

#include "module/cdr/cdr.h"

namespace callvault {

struct CdrSummary {
  std::string record_id;
  std::string node_id;
  std::string ingress_trunk;
  std::string egress_trunk;
  std::string caller;
  std::string caller_pai;
  std::string callee;
  std::string invite_day;  // "YYYY-MM-DD" of invite_time (UTC), "" if null
  std::string end_day;     // same for end_time
};

// False with *error when json is not a JSON object (the error gives the byte
// offset, never content).  Missing keys stay empty.
bool SummariseCdrJson(std::string_view json, CdrSummary* out, std::string* error);

// The same summary from a Cdr (tests, tools).
CdrSummary SummariseCdr(const Cdr& cdr);

}  // namespace callvault
