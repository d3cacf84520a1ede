// Blind indexes: a keyed HMAC of a normalised number, stored next to the
// encrypted payload so ops can find a subject's records without decrypting the
// table, while a dump of the table reveals no number.
//
// Normalisation (the same for writing and for searching, or nothing matches):
//  - the user part is cut at ';' (tel/SIP parameters) and trimmed;
//  - a phone-like value (digits with + - . ( ) / spaces) is parsed by
//    libphonenumber with the trunk's default region and formatted as E.164, so
//    "+91 98450 12345", "0091984501 2345", "09845012345" and "9845012345" on an
//    IN trunk all give "919845012345"; if libphonenumber cannot parse it, the
//    digits alone are used with a leading "00" stripped;
//  - anything else (SIP user names) is lower-cased as is, except privacy
//    markers (anonymous, unknown, restricted, unavailable, private): no index.
// Limitation: a national-format number means different subscribers in
// different regions.  A search therefore tries every region configured on a
// trunk (SearchIndexes) and may match the same national digits from trunks of
// several regions; an international (+CC) query is unambiguous.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <string_view>
#include <vector>

#include "module/crypto/keyring.h"

namespace callvault {

inline constexpr char kBlindIndexSecret[] = "blind-index";
inline constexpr size_t kBlindIndexBytes = 32;

// "n:<digits>" for numbers, "u:<lower-case user>" otherwise, "" when empty
// (anonymous, no digits and no letters).
std::string NormaliseNumber(std::string_view number, std::string_view region);

// Thread-safe.  Keeps a bounded cache of recent national-format numbers (the
// same subscribers call again and again, and libphonenumber's parse of a
// national number costs more than everything else the shipper does with a
// record) and precomputed HMAC pad states.
class BlindIndexer {
 public:
  // Uses the keyring's "blind-index" secret; nullptr with *error if missing.
  static std::unique_ptr<BlindIndexer> Create(const Keyring& keyring, std::string* error);
  ~BlindIndexer();
  BlindIndexer(const BlindIndexer&) = delete;
  BlindIndexer& operator=(const BlindIndexer&) = delete;

  // 32-byte HMAC-SHA256 of NormaliseNumber(number, region); "" when the
  // number normalises to nothing (stored as NULL).
  std::string Index(std::string_view number, std::string_view region) const;

  // The distinct indexes of `number` under each region (for search).
  std::vector<std::string> SearchIndexes(std::string_view number,
                                         const std::vector<std::string>& regions) const;

 private:
  struct Hmac;
  static constexpr size_t kCacheEntries = 1 << 16;  // ~8 MiB at most

  explicit BlindIndexer(std::unique_ptr<Hmac> hmac);
  std::string Mac(std::string_view data) const;  // mu_ held

  mutable std::mutex mu_;
  std::unique_ptr<Hmac> hmac_;
  mutable std::unordered_map<std::string, std::string> cache_;  // region \x1f number -> index
};

}  // namespace callvault
