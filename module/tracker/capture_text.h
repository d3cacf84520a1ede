// Text forms of capture metadata used in CDRs.  Internal to cv_tracker.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "include/callvault/module.h"

namespace callvault {

// "192.0.2.1:5060", "[2001:db8::1]:5060"; empty when the family is unknown.
std::string FormatAddress(const cv_addr& a);

// FNV-1a 64: stable across processes and builds, which record ids and
// snapshot contents depend on (std::hash is neither).
uint64_t Fnv1a64(std::string_view data, uint64_t seed = 0xcbf29ce484222325ULL);

}  // namespace callvault
