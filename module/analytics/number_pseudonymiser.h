// Phone numbers for analytics: normalise to E.164 (libphonenumber), keep the
// country code (and, if configured, the national destination code) in clear,
// and replace the number by a keyed token under the epoch key.
//
// Input forms accepted: "+E.164", national with trunk prefix ("09876543210"),
// bare national digits, international with the region's exit code, RFC 3966
// visual separators ("-", ".", "(", ")", spaces), "tel:" and "sip:"/"sips:"
// URIs (user part only; parameters and headers are cut), %-escapes.
//
// Speed: libphonenumber's Parse runs ICU regular expressions and costs about
// 30 us here, too slow for 100k events/s.  Numbers already in "+E.164" form
// therefore take a fast path that does what Parse does for them (split the
// country code, length check with IsPossibleNumber, about 1 us).  Where the
// two could disagree the number goes to Parse: a national prefix right after
// the country code, or a calling code whose parsing rules failed a self-check
// against the library's example numbers (run once per calling code, the
// first time one is seen).  All other forms take Parse through a bounded
// two-generation cache.
//
// Not thread-safe (the caches): one instance per thread.  PhoneNumberUtil
// itself is a thread-safe singleton.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace callvault {

class KeyedHash;

struct NormalisedNumber {
  // True when the input is a number of a possible length for its country.
  bool parsed = false;
  std::string e164;       // "+919876543210"; set when parsed
  int country_code = 0;   // set when parsed
  int ndc_length = 0;     // digits of the NDC after the country code; only if asked for
  std::string cleaned;    // the input after URI/separator stripping; tokenised when !parsed
};

// What an event carries for one number.  Never the number itself.
struct NumberPseudonym {
  bool parsed = false;
  std::string cc;     // "91"; empty when !parsed
  std::string ndc;    // "98765" when keep_ndc and known; else empty
  std::string token;  // base64url, 128-bit keyed HMAC
};

struct NormaliserStats {
  uint64_t fast = 0;        // +E.164 fast path
  uint64_t slow = 0;        // libphonenumber Parse
  uint64_t cache_hits = 0;  // slow-path inputs answered from the cache
};

class NumberNormaliser {
 public:
  // cache_entries bounds each of the two cache generations.
  explicit NumberNormaliser(size_t cache_entries = 32768);
  ~NumberNormaliser();

  // region: ISO 3166 code used for national forms (the trunk's default
  // region); an unknown region makes national forms unparsed, never wrong.
  NormalisedNumber Normalise(std::string_view input, const std::string& region, bool want_ndc);

  const NormaliserStats& stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Strips URI scheme, host, parameters, %-escapes and visual separators:
// "sip:+91-98765%2043210@example.com;user=phone" -> "+919876543210".
std::string CleanNumberInput(std::string_view input);

// The event form of a normalised number.  Parsed numbers are tokenised as
// their E.164 digits (domain "num"), unparsed ones as their cleaned text
// (domain "raw"), so both kinds are stable within an epoch.  Empty token
// only if OpenSSL fails.
NumberPseudonym PseudonymiseNumber(const NormalisedNumber& number, bool keep_ndc, KeyedHash* hash);

}  // namespace callvault
