#include <gtest/gtest.h>
#include <phonenumbers/phonenumberutil.h>

#include <random>
#include <set>
#include <string>

#include "module/analytics/keyed_hash.h"
#include "module/analytics/number_pseudonymiser.h"
#include "module/crypto/keyring.h"

namespace callvault {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

struct Case {
  const char* input;
  const char* region;
  bool parsed;
  const char* e164;
};

TEST(NumberNormaliser, ManyFormsToE164) {
  NumberNormaliser n;
  const Case cases[] = {
      {"+919876543210", "IN", true, "+919876543210"},
      {"+919876543210", "GB", true, "+919876543210"},  // region irrelevant for +E.164
      {"09876543210", "IN", true, "+919876543210"},    // national, trunk prefix 0
      {"9876543210", "IN", true, "+919876543210"},     // bare national digits
      {"00919876543210", "IN", true, "+919876543210"},  // IN exit code
      {"919876543210", "IN", true, "+919876543210"},   // country code without '+'
      {"02079460123", "GB", true, "+442079460123"},
      {"2079460123", "GB", true, "+442079460123"},
      {"+44 20 7946 0123", "IN", true, "+442079460123"},
      {"+44 (0)20 7946 0123", "IN", true, "+442079460123"},  // national prefix after cc
      {"02079460123", "IN", true, "+912079460123"},  // same digits, other trunk region
      {"tel:+91-98765-43210", "GB", true, "+919876543210"},
      {"tel:+91.98765.43210;phone-context=+91", "GB", true, "+919876543210"},
      {"tel:09876543210;phone-context=example.com", "IN", true, "+919876543210"},
      {"sip:+919876543210@192.0.2.10;user=phone", "GB", true, "+919876543210"},
      {"sips:09876543210@gw.example.com", "IN", true, "+919876543210"},
      {"SIP:+442079460123@GW.EXAMPLE.COM", "IN", true, "+442079460123"},
      {"%2B919876543210", "GB", true, "+919876543210"},
      {" +1 (415) 555-0123 ", "IN", true, "+14155550123"},
      {"+14155550123", "IN", true, "+14155550123"},
      {"+390612345678", "IN", true, "+390612345678"},  // Italian leading zero kept
      {"alice", "IN", false, ""},
      {"anonymous", "GB", false, ""},
      {"12", "IN", false, ""},              // too short for India
      {"+999123456789", "IN", false, ""},   // no such country code
      {"*67#", "IN", false, ""},
      {"+91", "IN", false, ""},
      {"", "IN", false, ""},
      {"0987654321098765432109", "IN", false, ""},  // too long
      {"09876543210", "XX", false, ""},  // national form, unknown region: never guessed
  };
  for (const auto& c : cases) {
    const NormalisedNumber r = n.Normalise(c.input, c.region, false);
    EXPECT_EQ(r.parsed, c.parsed) << c.input << " / " << c.region;
    EXPECT_EQ(r.e164, c.e164) << c.input << " / " << c.region;
  }
}

TEST(NumberNormaliser, CleansUriAndSeparators) {
  EXPECT_EQ(CleanNumberInput("sip:+91-98765-43210@h;user=phone"), "+919876543210");
  EXPECT_EQ(CleanNumberInput("tel:+1-201-555-0123;ext=12"), "+12015550123");
  EXPECT_EQ(CleanNumberInput("sip:alice@example.com"), "alice");
  EXPECT_EQ(CleanNumberInput("%2b91 98765 43210"), "+919876543210");
  EXPECT_EQ(CleanNumberInput("(020) 7946.0123"), "02079460123");
  EXPECT_EQ(CleanNumberInput("100%zz"), "100%zz");  // not an escape: left alone
}

TEST(NumberNormaliser, NationalDestinationCodeWhenAsked) {
  NumberNormaliser n;
  const auto gb = n.Normalise("02079460123", "GB", true);
  ASSERT_TRUE(gb.parsed);
  EXPECT_EQ(gb.country_code, 44);
  EXPECT_EQ(gb.ndc_length, 2);  // London "20"
  const auto in = n.Normalise("+919876543210", "IN", true);
  EXPECT_EQ(in.country_code, 91);
  EXPECT_GT(in.ndc_length, 0);
  EXPECT_EQ(n.Normalise("+919876543210", "IN", false).ndc_length, 0);
}

// The +E.164 fast path must agree with libphonenumber's Parse on every
// example number the library ships (all regions, all types) and on random
// variations of them (other digits, other lengths) that the fast path's own
// self-check never saw.
TEST(NumberNormaliser, FastPathAgreesWithParse) {
  auto& util = *PhoneNumberUtil::GetInstance();
  NumberNormaliser n;
  std::mt19937 rng(20261127);
  auto digit = [&] { return static_cast<char>('0' + rng() % 10); };
  std::set<std::string> regions;
  util.GetSupportedRegions(&regions);
  int compared = 0;
  for (const auto& region : regions) {
    for (int type = PhoneNumberUtil::FIXED_LINE; type <= PhoneNumberUtil::VOICEMAIL; ++type) {
      PhoneNumber example;
      if (!util.GetExampleNumberForType(region, static_cast<PhoneNumberUtil::PhoneNumberType>(type),
                                        &example)) {
        continue;
      }
      std::string e164;
      util.Format(example, PhoneNumberUtil::E164, &e164);
      const size_t body = 1 + std::to_string(example.country_code()).size();
      for (int variant = 0; variant < 8; ++variant) {
        std::string input = e164;
        if (variant >= 1 && variant <= 4) {  // random digits, same length
          for (int k = 0; k < variant; ++k) input[body + rng() % (input.size() - body)] = digit();
        } else if (variant == 5 && input.size() > body + 3) {
          input.resize(input.size() - 1 - rng() % 3);
        } else if (variant >= 6) {
          for (int k = 0; k <= variant - 6; ++k) input += digit();
        }
        PhoneNumber parsed;
        std::string expect;
        const bool expect_parsed =
            util.Parse(input, "ZZ", &parsed) == PhoneNumberUtil::NO_PARSING_ERROR &&
            util.IsPossibleNumber(parsed);
        if (expect_parsed) util.Format(parsed, PhoneNumberUtil::E164, &expect);
        const auto got = n.Normalise(input, "ZZ", false);
        EXPECT_EQ(got.parsed, expect_parsed) << region << " " << type << " " << input;
        if (expect_parsed) {
          EXPECT_EQ(got.e164, expect) << region << " " << type << " " << input;
        }
        ++compared;
      }
    }
  }
  EXPECT_GT(compared, 4000);
  EXPECT_GT(n.stats().fast, static_cast<uint64_t>(compared) * 3 / 4);  // most took the fast path
}

TEST(NumberNormaliser, SlowPathIsCachedAndBounded) {
  NumberNormaliser n(/*cache_entries=*/4);
  for (int round = 0; round < 3; ++round) n.Normalise("09876543210", "IN", false);
  EXPECT_EQ(n.stats().slow, 1u);
  EXPECT_EQ(n.stats().cache_hits, 2u);
  // The cache is per region: the same digits from another trunk region are
  // another number.
  EXPECT_EQ(n.Normalise("09876543210", "GB", false).e164, "+449876543210");
  for (int i = 0; i < 20; ++i) n.Normalise("0987654" + std::to_string(3000 + i), "IN", false);
  EXPECT_EQ(n.stats().slow, 22u);
  // Still right after the generations turned over.
  EXPECT_EQ(n.Normalise("09876543210", "IN", false).e164, "+919876543210");
}

TEST(NumberPseudonym, TokensAreKeyedStableAndFormIndependent) {
  const SecretBytes key = SecretBytes::Random(32);
  auto h = KeyedHash::Create(key);
  NumberNormaliser n;
  const auto a = PseudonymiseNumber(n.Normalise("+919876543210", "IN", false), false, h.get());
  const auto b = PseudonymiseNumber(n.Normalise("09876543210", "IN", false), false, h.get());
  const auto c = PseudonymiseNumber(n.Normalise("sip:9876543210@x", "IN", false), false, h.get());
  EXPECT_TRUE(a.parsed);
  EXPECT_EQ(a.cc, "91");
  EXPECT_EQ(a.ndc, "");
  EXPECT_EQ(a.token.size(), 22u);  // 128 bits, base64url
  EXPECT_EQ(a.token, b.token);
  EXPECT_EQ(a.token, c.token);
  const auto other = PseudonymiseNumber(n.Normalise("+919876543219", "IN", false), false, h.get());
  EXPECT_NE(a.token, other.token);

  // Another key (epoch) gives unrelated tokens.
  auto h2 = KeyedHash::Create(SecretBytes::Random(32));
  EXPECT_NE(PseudonymiseNumber(n.Normalise("+919876543210", "IN", false), false, h2.get()).token,
            a.token);

  // Unparsed input is still a keyed token, flagged, with no country code.
  const auto g = PseudonymiseNumber(n.Normalise("alice", "IN", false), false, h.get());
  EXPECT_FALSE(g.parsed);
  EXPECT_EQ(g.cc, "");
  EXPECT_EQ(g.token.size(), 22u);
  EXPECT_EQ(g.token, PseudonymiseNumber(n.Normalise("sip:alice@h", "IN", false), false, h.get()).token);

  // keep_ndc puts the NDC in clear, the token is unchanged.
  const auto k = PseudonymiseNumber(n.Normalise("02079460123", "GB", true), true, h.get());
  EXPECT_EQ(k.cc, "44");
  EXPECT_EQ(k.ndc, "20");
}

TEST(KeyedHash, MatchesOneShotHmacAndSeparatesDomains) {
  const SecretBytes key = SecretBytes::Random(32);
  auto h = KeyedHash::Create(key);
  std::array<uint8_t, 32> mac;
  ASSERT_TRUE(h->Mac("num", "919876543210", &mac));
  std::string input = std::string("num") + '\0' + "919876543210";
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(mac.data()), 32), HmacSha256(key, input));
  EXPECT_NE(h->Token("num", "x"), h->Token("raw", "x"));
  EXPECT_EQ(Base64Url(reinterpret_cast<const uint8_t*>("\xfb\xff"), 2), "-_8");
}

}  // namespace
}  // namespace callvault
