// The CDR's one serialised form: a JSON object whose keys are the Cdr field
// names (record_id, call_id, caller, callee, ingress_trunk, egress_trunk,
// invite_time, answer_time, end_time, duration_ms, final_status, disposition,
// released_by, ...).  Times are ISO-8601 UTC with milliseconds in the text
// form ("2026-11-27T21:03:04.123Z") or null when never reached.
//
// Key mapping: every Cdr member keeps its name, except the four *_time_ms
// members, which become invite_time, ring_time, answer_time and end_time;
// disposition and released_by are their ToString() names; flags is an array
// of names ("max-duration", "no-final-response", "reinvite", "host-li").
#pragma once

#include <string>
#include <string_view>

#include "module/cdr/cdr.h"

namespace callvault {

std::string CdrToJson(const Cdr& cdr);
// Missing keys keep their defaults (older records); a key of the wrong type,
// a malformed time, or an unknown enum/flag name is an error naming the key.
bool CdrFromJson(std::string_view json, Cdr* out, std::string* error);

// ISO-8601 UTC with milliseconds ("2026-11-27T21:03:04.123Z") <-> Unix ms.
std::string FormatIsoMs(int64_t unix_ms);
bool ParseIsoMs(std::string_view text, int64_t* unix_ms);

}  // namespace callvault
