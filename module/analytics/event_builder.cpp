#include "module/analytics/event_builder.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>

#include <vector>

#include "module/analytics/crypto_pan.h"
#include "module/analytics/epoch_key_store.h"
#include "module/analytics/json_writer.h"
#include "module/analytics/keyed_hash.h"
#include "module/analytics/number_pseudonymiser.h"
#include "module/analytics/user_agent.h"

namespace callvault {
namespace {

// Per-epoch pseudonymisation contexts: the keyed hash for tokens and the
// Crypto-PAn instance, whose 32-byte key is itself derived from the epoch key
// so that IP pseudonyms also change per epoch and die with it.
struct EpochContext {
  std::unique_ptr<KeyedHash> hash;
  std::unique_ptr<CryptoPan> pan;
};

// At most this many epochs' contexts are kept (a replay of old records may
// touch a few); beyond it the cache is emptied and rebuilt on demand.
constexpr size_t kMaxEpochContexts = 8;

// Codec names come from SDP; anything but a plain token is reported as
// "other" so no free text can ride along.
std::string CodecName(std::string_view s) {
  if (s.empty() || s.size() > 32) return "other";
  for (char c : s) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    c == '.' || c == '-' || c == '_';
    if (!ok) return "other";
  }
  return std::string(s);
}

template <typename F>
void ForEachListItem(std::string_view list, F f) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) f(item);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

void WriteCodecs(JsonWriter& w, std::string_view key, std::string_view list) {
  if (list.empty()) return;
  w.Key(key);
  w.BeginArray();
  ForEachListItem(list, [&](std::string_view c) { w.PlainString(CodecName(c)); });
  w.EndArray();
}

void WriteNumber(JsonWriter& w, const NumberPseudonym& p) {
  w.BeginObject();
  if (p.parsed) {
    w.Key("cc");
    w.PlainString(p.cc);
    if (!p.ndc.empty()) {
      w.Key("ndc");
      w.PlainString(p.ndc);
    }
  }
  w.Key("token");
  w.PlainString(p.token);
  w.Key("parsed");
  w.Bool(p.parsed);
  w.EndObject();
}

std::string_view IpModeName(IpMode m) { return m == IpMode::kCryptoPan ? "cryptopan" : "truncate"; }

}  // namespace

bool EventBuilderOptions::FromConfig(const Config& config, EventBuilderOptions* out,
                                     std::string* error) {
  EventBuilderOptions o;
  const AnalyticsConfig& a = config.analytics;
  if (!ParseEpochGranularity(a.epoch, &o.epoch)) {
    *error = config.path + ": analytics.epoch: unknown value '" + a.epoch + "'";
    return false;
  }
  if (!ParseIpMode(a.ip_mode, &o.ip_mode)) {
    *error = config.path + ": analytics.ip_mode: unknown value '" + a.ip_mode + "'";
    return false;
  }
  if (!ParseUriHostMode(a.uri_host_mode, &o.uri_host_mode)) {
    *error = config.path + ": analytics.uri_host_mode: unknown value '" + a.uri_host_mode + "'";
    return false;
  }
  o.keep_ndc = a.keep_ndc;
  for (const auto& t : config.trunks) o.trunk_regions[t.name] = t.default_region;
  *out = std::move(o);
  return true;
}

struct EventBuilder::Impl {
  Impl(EventBuilderOptions o, EpochKeyStore* k) : options(std::move(o)), keys(k) {}

  EventBuilderOptions options;
  EpochKeyStore* keys;
  NumberNormaliser numbers;
  std::map<std::string, EpochContext> contexts;
  uint64_t generation = 0;

  // Numbers already pseudonymised in the event being built: caller and PAI,
  // callee and To are usually the same number, often in different forms.
  struct Memo {
    std::string_view raw;
    std::string key;  // "+E.164", or "raw:" + cleaned text
    size_t pseudonym;  // index into pseudonyms
  };
  std::vector<Memo> memo;
  std::vector<NumberPseudonym> pseudonyms;

  EventBuilder::Result Context(const std::string& epoch, EpochContext** out, std::string* error);
  const NumberPseudonym& Number(std::string_view raw, const std::string& region, KeyedHash* hash);
  void Host(JsonWriter& w, std::string_view key, std::string_view host, EpochContext& ctx);
};

EventBuilder::Result EventBuilder::Impl::Context(const std::string& epoch, EpochContext** out,
                                                 std::string* error) {
  const uint64_t g = keys->Refresh();
  if (g != generation) {
    contexts.clear();  // some epoch key was retired: drop everything derived
    generation = g;
  }
  if (auto it = contexts.find(epoch); it != contexts.end()) {
    *out = &it->second;
    return Result::kOk;
  }
  SecretBytes key;
  switch (keys->Key(epoch, &key, error)) {
    case EpochKeyStore::Status::kOk:
      break;
    case EpochKeyStore::Status::kRetired:
      return Result::kEpochRetired;
    case EpochKeyStore::Status::kError:
      return Result::kError;
  }
  EpochContext ctx;
  ctx.hash = KeyedHash::Create(key);
  std::array<uint8_t, 32> pan_key;
  if (!ctx.hash || !ctx.hash->Mac("cryptopan", "", &pan_key)) {
    *error = "epoch " + epoch + ": cannot set up the keyed hash";
    return Result::kError;
  }
  ctx.pan = CryptoPan::Create(SecretBytes(pan_key.data(), pan_key.size()));
  OPENSSL_cleanse(pan_key.data(), pan_key.size());
  if (!ctx.pan) {
    *error = "epoch " + epoch + ": cannot set up Crypto-PAn";
    return Result::kError;
  }
  if (contexts.size() >= kMaxEpochContexts) contexts.clear();
  *out = &contexts.emplace(epoch, std::move(ctx)).first->second;
  return Result::kOk;
}

const NumberPseudonym& EventBuilder::Impl::Number(std::string_view raw, const std::string& region,
                                                  KeyedHash* hash) {
  for (const auto& m : memo) {
    if (m.raw == raw) return pseudonyms[m.pseudonym];
  }
  const NormalisedNumber n = numbers.Normalise(raw, region, options.keep_ndc);
  std::string key = n.parsed ? n.e164 : "raw:" + n.cleaned;
  for (const auto& m : memo) {
    if (m.key == key) {
      memo.push_back(Memo{raw, std::move(key), m.pseudonym});
      return pseudonyms[memo.back().pseudonym];
    }
  }
  pseudonyms.push_back(PseudonymiseNumber(n, options.keep_ndc, hash));
  memo.push_back(Memo{raw, std::move(key), pseudonyms.size() - 1});
  return pseudonyms.back();
}

void EventBuilder::Impl::Host(JsonWriter& w, std::string_view key, std::string_view host,
                              EpochContext& ctx) {
  if (host.empty() || options.uri_host_mode == UriHostMode::kDrop) return;
  const std::string h = NormaliseHost(host);
  if (h.empty()) return;
  IpAddress ip;
  const bool is_ip = ParseIpLiteral(h, &ip);
  w.Key(key);
  w.BeginObject();
  w.Key("kind");
  w.PlainString(!is_ip ? "domain" : ip.family == AF_INET ? "ipv4" : "ipv6");
  if (options.uri_host_mode == UriHostMode::kPseudonymise) {
    if (is_ip) {
      w.Key("ip");
      w.PlainString(PseudonymiseIp(ip, options.ip_mode, ctx.pan.get()));
    } else {
      w.Key("token");
      w.PlainString(ctx.hash->Token("host", h));
    }
  }
  w.EndObject();
}

EventBuilder::EventBuilder(EventBuilderOptions options, EpochKeyStore* keys)
    : impl_(std::make_unique<Impl>(std::move(options), keys)) {}

EventBuilder::~EventBuilder() = default;

EventBuilder::Stats EventBuilder::stats() const {
  const auto& s = impl_->numbers.stats();
  return Stats{s.fast, s.slow, s.cache_hits};
}

EventBuilder::Result EventBuilder::Build(const Cdr& cdr, std::string* line, std::string* error) {
  Impl& im = *impl_;
  const EventBuilderOptions& o = im.options;
  if (cdr.invite_time_ms <= 0) {
    *error = "CDR without an INVITE time";
    return Result::kError;
  }
  const std::string epoch = EpochIdFor(cdr.invite_time_ms, o.epoch);
  EpochContext* ctx = nullptr;
  if (const Result r = im.Context(epoch, &ctx, error); r != Result::kOk) return r;

  const std::string event_id = ctx->hash->Token("eid", cdr.record_id);
  if (event_id.empty()) {
    *error = "epoch " + epoch + ": keyed hash failed";
    return Result::kError;
  }
  auto region_it = o.trunk_regions.find(cdr.ingress_trunk);
  const std::string& region =
      region_it == o.trunk_regions.end() ? o.fallback_region : region_it->second;

  const std::string day = EpochIdFor(cdr.invite_time_ms, EpochGranularity::kDay);
  const int hour = ToUtc(cdr.invite_time_ms).hour;

  const size_t start = line->size();
  line->reserve(start + 1024);
  JsonWriter w(line);
  w.BeginObject();
  w.Key("schema_version");
  w.Int(kAnalyticsSchemaVersion);
  w.Key("type");
  w.PlainString("call");
  w.Key("event_id");
  w.PlainString(event_id);
  w.Key("epoch");
  w.PlainString(epoch);
  // Operator-supplied names are the only values that go through escaping;
  // everything else comes from fixed alphabets (PlainString).
  w.Key("node");
  w.String(cdr.node_id);
  w.Key("day");
  w.PlainString(day);
  w.Key("hour");
  w.Int(hour);
  if (!cdr.ingress_trunk.empty()) {
    w.Key("ingress_trunk");
    w.String(cdr.ingress_trunk);
  }
  if (!cdr.egress_trunk.empty()) {
    w.Key("egress_trunk");
    w.String(cdr.egress_trunk);
  }
  w.Key("disposition");
  w.PlainString(ToString(cdr.disposition));
  w.Key("final_status");
  w.Int(cdr.final_status);
  if (cdr.q850_cause > 0) {
    w.Key("q850_cause");
    w.Int(cdr.q850_cause);
  }
  w.Key("released_by");
  w.PlainString(ToString(cdr.released_by));
  w.Key("pdd_ms");
  w.Int(cdr.post_dial_delay_ms);
  if (cdr.ring_time_ms > 0) {
    w.Key("ring_after_ms");
    w.Int(cdr.ring_time_ms - cdr.invite_time_ms);
  }
  if (cdr.answer_time_ms > 0) {
    w.Key("answer_after_ms");
    w.Int(cdr.answer_time_ms - cdr.invite_time_ms);
  }
  w.Key("duration_ms");
  w.Int(cdr.duration_ms);
  w.Key("billable_s");
  w.Int(cdr.billable_seconds);

  im.memo.clear();
  im.pseudonyms.clear();
  KeyedHash* hash = ctx->hash.get();
  const std::pair<const char*, const std::string*> numbers[] = {
      {"caller", &cdr.caller},
      {"caller_pai", &cdr.caller_pai},
      {"callee", &cdr.callee},
      {"callee_to", &cdr.callee_to},
  };
  for (const auto& [key, value] : numbers) {
    if (value->empty()) continue;
    w.Key(key);
    WriteNumber(w, im.Number(*value, region, hash));
  }
  if (!cdr.diversion.empty()) {
    w.Key("diversion");
    w.BeginArray();
    ForEachListItem(cdr.diversion,
                    [&](std::string_view d) { WriteNumber(w, im.Number(d, region, hash)); });
    w.EndArray();
  }
  for (const auto& p : im.pseudonyms) {
    if (p.token.empty()) {
      line->resize(start);
      *error = "epoch " + epoch + ": keyed hash failed";
      return Result::kError;
    }
  }

  w.Key("ip_mode");
  w.PlainString(IpModeName(o.ip_mode));
  IpAddress ip;
  if (ParseIpLiteral(cdr.src_addr, &ip)) {
    w.Key("src_ip");
    w.PlainString(PseudonymiseIp(ip, o.ip_mode, ctx->pan.get()));
  }
  if (ParseIpLiteral(cdr.dst_addr, &ip)) {
    w.Key("dst_ip");
    w.PlainString(PseudonymiseIp(ip, o.ip_mode, ctx->pan.get()));
  }
  im.Host(w, "caller_host", cdr.caller_host, *ctx);
  im.Host(w, "callee_host", cdr.callee_host, *ctx);
  if (!cdr.caller_ua.empty()) {
    w.Key("caller_ua");
    w.PlainString(ReduceUserAgent(cdr.caller_ua));
  }
  if (!cdr.callee_ua.empty()) {
    w.Key("callee_ua");
    w.PlainString(ReduceUserAgent(cdr.callee_ua));
  }
  WriteCodecs(w, "codecs_offered", cdr.codecs_offered);
  WriteCodecs(w, "codecs_answered", cdr.codecs_answered);
  // The host's LI flag (kCdrFlagHostLi) is deliberately never emitted.
  w.Key("flags");
  w.BeginArray();
  if (cdr.flags & kCdrFlagMaxDuration) w.PlainString("max_duration");
  if (cdr.flags & kCdrFlagNoFinalResponse) w.PlainString("no_final_response");
  if (cdr.flags & kCdrFlagReinvite) w.PlainString("reinvite");
  w.EndArray();
  w.EndObject();
  return Result::kOk;
}

}  // namespace callvault
