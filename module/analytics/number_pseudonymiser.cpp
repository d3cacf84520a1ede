#include "module/analytics/number_pseudonymiser.h"

#include <phonenumbers/phonenumberutil.h>

#include <array>
#include <atomic>
#include <mutex>
#include <list>
#include <set>
#include <unordered_map>
#include <vector>

#include "module/analytics/keyed_hash.h"

namespace callvault {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

PhoneNumberUtil& Util() { return *PhoneNumberUtil::GetInstance(); }

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

// A PhoneNumber from a country code and national significant number, with
// the leading-zero fields set exactly as libphonenumber's parser sets them.
bool MakePhoneNumber(int cc, std::string_view nsn, PhoneNumber* n) {
  if (nsn.empty() || nsn.size() > 17) return false;
  uint64_t value = 0;
  for (char c : nsn) value = value * 10 + static_cast<uint64_t>(c - '0');
  n->Clear();
  n->set_country_code(cc);
  n->set_national_number(value);
  if (nsn.size() > 1 && nsn[0] == '0') {
    n->set_italian_leading_zero(true);
    int zeros = 1;
    while (zeros < static_cast<int>(nsn.size()) - 1 && nsn[zeros] == '0') ++zeros;
    if (zeros != 1) n->set_number_of_leading_zeros(zeros);
  }
  return true;
}

// Per-calling-code facts for the +E.164 fast path, shared by all instances.
struct CountryTable {
  static constexpr size_t kMaxNsn = 17;  // libphonenumber's longest national number
  std::array<bool, 1000> supported{};
  std::array<std::string, 1000> national_prefix;  // of the code's main region
  // possible[cc][n]: IsPossibleNumber for an n-digit national number.  The
  // library's answer depends only on the calling code's main region and the
  // length, so it is computed once here instead of per number.
  std::array<std::array<bool, kMaxNsn + 1>, 1000> possible{};

  // The country code at the start of digits (shortest match first, as the
  // parser does; codes are prefix-free), or 0.
  int CountryCodeOf(std::string_view digits) const {
    int cc = 0;
    for (size_t i = 0; i < 3 && i < digits.size(); ++i) {
      cc = cc * 10 + (digits[i] - '0');
      if (cc > 0 && supported[cc]) return cc;
    }
    return 0;
  }
};

const CountryTable& Countries() {
  static const CountryTable table = [] {
    CountryTable t;
    std::set<int> codes;
    Util().GetSupportedCallingCodes(&codes);
    for (int cc : codes) {
      if (cc <= 0 || cc >= 1000) continue;
      t.supported[cc] = true;
      std::string region;
      Util().GetRegionCodeForCountryCode(cc, &region);
      Util().GetNddPrefixForRegion(region, true, &t.national_prefix[cc]);
      for (size_t n = 1; n <= CountryTable::kMaxNsn; ++n) {
        PhoneNumber pn;
        MakePhoneNumber(cc, "1" + std::string(n - 1, '0'), &pn);
        t.possible[cc][n] = Util().IsPossibleNumber(pn);
      }
    }
    return t;
  }();
  return table;
}

// What the fast path does: split the country code and check the length.
// False when the input must go to Parse (unknown code, or a national prefix
// right after the code, which the parser may strip).
bool FastE164(std::string_view digits, NormalisedNumber* out) {
  const CountryTable& t = Countries();
  const int cc = t.CountryCodeOf(digits);
  if (cc == 0) return false;
  const std::string_view nsn = digits.substr(cc < 10 ? 1 : cc < 100 ? 2 : 3);
  const std::string& ndd = t.national_prefix[cc];
  if (!ndd.empty() && nsn.substr(0, ndd.size()) == ndd) return false;
  if (nsn.empty() || nsn.size() > CountryTable::kMaxNsn) return false;
  out->parsed = t.possible[cc][nsn.size()];
  if (out->parsed) {
    std::string e164;
    e164.reserve(digits.size() + 1);
    e164.push_back('+');
    e164.append(digits);
    out->e164 = std::move(e164);
    out->country_code = cc;
  }
  return true;
}

bool SlowE164(const std::string& cleaned, const std::string& region, NormalisedNumber* out,
              PhoneNumber* pn) {
  pn->Clear();
  if (Util().Parse(cleaned, region, pn) != PhoneNumberUtil::NO_PARSING_ERROR) return false;
  if (!Util().IsPossibleNumber(*pn)) return false;
  Util().Format(*pn, PhoneNumberUtil::E164, &out->e164);
  out->country_code = pn->country_code();
  out->parsed = true;
  return true;
}

// Some countries' parsing rules rewrite numbers (Norfolk Island prefixes a
// 3 to five-digit numbers, Gabon and others carry carrier or transform
// rules) in ways the fast path does not model.  Before a calling code first
// takes the fast path, both paths are run on the library's own example
// numbers for every region and type of that code, and on variants of them
// (shortened, lengthened, leading digit changed); any disagreement sends the
// code to Parse for good.  Costs a few hundred Parse calls per calling code
// (about 100 ms for +1, which spans 25 regions), once per process.
bool FastPathAgrees(int cc) {
  std::list<std::string> regions;
  Util().GetRegionCodesForCountryCallingCode(cc, &regions);
  if (regions.empty()) regions.push_back(PhoneNumberUtil::kRegionCodeForNonGeoEntity);
  std::vector<std::string> samples;
  for (const auto& region : regions) {
    for (int type = PhoneNumberUtil::FIXED_LINE; type <= PhoneNumberUtil::VOICEMAIL; ++type) {
      PhoneNumber example;
      const auto t = static_cast<PhoneNumberUtil::PhoneNumberType>(type);
      const bool ok = region == PhoneNumberUtil::kRegionCodeForNonGeoEntity
                          ? Util().GetExampleNumberForNonGeoEntity(cc, &example)
                          : Util().GetExampleNumberForType(region, t, &example);
      if (!ok) continue;
      std::string nsn;
      Util().GetNationalSignificantNumber(example, &nsn);
      const std::string code = std::to_string(cc);
      for (size_t cut = 0; cut <= 3 && cut < nsn.size(); ++cut) {
        samples.push_back(code + nsn.substr(0, nsn.size() - cut));
      }
      samples.push_back(code + nsn + "5");
      samples.push_back(code + nsn + "58");
      for (char lead = '1'; lead <= '9'; ++lead) samples.push_back(code + lead + nsn.substr(1));
    }
  }
  for (const auto& digits : samples) {
    NormalisedNumber fast, slow;
    PhoneNumber scratch;
    if (!FastE164(digits, &fast)) continue;
    SlowE164("+" + digits, "ZZ", &slow, &scratch);
    if (fast.parsed != slow.parsed || fast.e164 != slow.e164) return false;
  }
  return true;
}

// Process-wide verdicts, computed on first use of each calling code.
class FastPathVerdicts {
 public:
  bool Allowed(int cc) {
    uint8_t v = verdict_[cc].load(std::memory_order_acquire);
    if (v == kUnknown) {
      std::lock_guard<std::mutex> lk(mu_);
      v = verdict_[cc].load(std::memory_order_relaxed);
      if (v == kUnknown) {
        v = FastPathAgrees(cc) ? kFast : kParse;
        verdict_[cc].store(v, std::memory_order_release);
      }
    }
    return v == kFast;
  }

 private:
  static constexpr uint8_t kUnknown = 0, kFast = 1, kParse = 2;
  std::mutex mu_;
  std::array<std::atomic<uint8_t>, 1000> verdict_{};
};

FastPathVerdicts& Verdicts() {
  static FastPathVerdicts verdicts;
  return verdicts;
}

// Bounded memo: two generations; when the current one is full it becomes
// the previous one and the old previous is dropped.  Recently used entries
// survive a flip by being copied forward on a hit.
template <typename V>
class TwoGenerationCache {
 public:
  explicit TwoGenerationCache(size_t cap) : cap_(cap) {}
  const V* Find(const std::string& key) {
    if (auto it = cur_.find(key); it != cur_.end()) return &it->second;
    if (auto it = prev_.find(key); it != prev_.end()) return &Put(key, it->second);
    return nullptr;
  }
  const V& Put(const std::string& key, V value) {
    if (cur_.size() >= cap_) {
      prev_ = std::move(cur_);
      cur_.clear();
    }
    return cur_.insert_or_assign(key, std::move(value)).first->second;
  }

 private:
  size_t cap_;
  std::unordered_map<std::string, V> cur_, prev_;
};

struct SlowEntry {
  bool parsed = false;
  std::string e164;
  int country_code = 0;
};

}  // namespace

std::string CleanNumberInput(std::string_view in) {
  while (!in.empty() && (in.front() == ' ' || in.front() == '\t')) in.remove_prefix(1);
  while (!in.empty() && (in.back() == ' ' || in.back() == '\t')) in.remove_suffix(1);
  if (StartsWithNoCase(in, "tel:")) {
    in.remove_prefix(4);
  } else if (StartsWithNoCase(in, "sips:")) {
    in.remove_prefix(5);
  } else if (StartsWithNoCase(in, "sip:")) {
    in.remove_prefix(4);
  }
  // User part only: cut the host, URI parameters and headers.
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '@' || c == ';' || c == '?' || c == '>') {
      in = in.substr(0, i);
      break;
    }
  }
  std::string out(in.size(), '\0');
  size_t n = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%' && i + 2 < in.size() && HexValue(in[i + 1]) >= 0 && HexValue(in[i + 2]) >= 0) {
      c = static_cast<char>(HexValue(in[i + 1]) * 16 + HexValue(in[i + 2]));
      i += 2;
    }
    if (c == '-' || c == '.' || c == '(' || c == ')' || c == ' ' || c == '\t') continue;
    out[n++] = c;
  }
  out.resize(n);
  return out;
}

struct NumberNormaliser::Impl {
  explicit Impl(size_t cap) : slow_cache(cap), ndc_cache(cap) {}

  static bool FastAllowed(std::string_view digits) {
    const int cc = Countries().CountryCodeOf(digits);
    return cc != 0 && Verdicts().Allowed(cc);
  }

  TwoGenerationCache<SlowEntry> slow_cache;
  TwoGenerationCache<int> ndc_cache;
  NormaliserStats stats;
  std::string key;  // reused cache key buffer
};

NumberNormaliser::NumberNormaliser(size_t cache_entries)
    : impl_(std::make_unique<Impl>(cache_entries == 0 ? 1 : cache_entries)) {
  Countries();  // build the shared table up front
}

NumberNormaliser::~NumberNormaliser() = default;

const NormaliserStats& NumberNormaliser::stats() const { return impl_->stats; }

NormalisedNumber NumberNormaliser::Normalise(std::string_view input, const std::string& region,
                                             bool want_ndc) {
  NormalisedNumber out;
  out.cleaned = CleanNumberInput(input);
  const std::string& s = out.cleaned;
  bool numeric = !s.empty();
  for (size_t i = 0; i < s.size() && numeric; ++i) {
    numeric = IsDigit(s[i]) || (i == 0 && s[i] == '+' && s.size() > 1);
  }
  if (!numeric) return out;  // names, "anonymous", "*67...": tokenised raw

  PhoneNumber pn;
  bool have_pn = false;
  const std::string_view digits = std::string_view(s).substr(1);
  if (s[0] == '+' && impl_->FastAllowed(digits) && FastE164(digits, &out)) {
    ++impl_->stats.fast;
  } else {
    impl_->key.assign(region).append(1, '\x1f').append(s);
    if (const SlowEntry* hit = impl_->slow_cache.Find(impl_->key)) {
      ++impl_->stats.cache_hits;
      out.parsed = hit->parsed;
      out.e164 = hit->e164;
      out.country_code = hit->country_code;
    } else {
      ++impl_->stats.slow;
      have_pn = SlowE164(s, region, &out, &pn);
      impl_->slow_cache.Put(impl_->key, SlowEntry{out.parsed, out.e164, out.country_code});
    }
  }
  if (!out.parsed) {
    out.e164.clear();
    out.country_code = 0;
    return out;
  }
  if (want_ndc) {
    if (const int* hit = impl_->ndc_cache.Find(out.e164)) {
      out.ndc_length = *hit;
    } else {
      if (!have_pn) {
        const size_t cc_digits = std::to_string(out.country_code).size();
        MakePhoneNumber(out.country_code, std::string_view(out.e164).substr(1 + cc_digits), &pn);
      }
      out.ndc_length = Util().GetLengthOfNationalDestinationCode(pn);
      impl_->ndc_cache.Put(out.e164, out.ndc_length);
    }
  }
  return out;
}

NumberPseudonym PseudonymiseNumber(const NormalisedNumber& number, bool keep_ndc,
                                   KeyedHash* hash) {
  NumberPseudonym p;
  p.parsed = number.parsed;
  if (!number.parsed) {
    p.token = hash->Token("raw", number.cleaned);
    return p;
  }
  p.cc = std::to_string(number.country_code);
  const std::string_view digits = std::string_view(number.e164).substr(1);
  if (keep_ndc && number.ndc_length > 0 &&
      p.cc.size() + static_cast<size_t>(number.ndc_length) < digits.size()) {
    p.ndc = std::string(digits.substr(p.cc.size(), static_cast<size_t>(number.ndc_length)));
  }
  p.token = hash->Token("num", digits);
  return p;
}

}  // namespace callvault
