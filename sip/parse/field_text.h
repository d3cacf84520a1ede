// Turning untrusted header text into the bounded, printable strings a
// SipMessage (and later a CDR) holds.
//
// Invariants of every string these functions return:
//  - at most `cap` bytes, cut on a UTF-8 character boundary;
//  - valid UTF-8 (each invalid byte becomes '?'), so JSON encoding never fails;
//  - no control characters (each becomes '?'), so a value cannot forge log
//    lines or the tracker's internal key separator.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace callvault {

std::string CapField(std::string_view text, size_t cap);

// Joins items with sep, keeping only whole items that fit within cap bytes.
std::string JoinCapped(const std::vector<std::string>& items, char sep, size_t cap);

}  // namespace callvault
