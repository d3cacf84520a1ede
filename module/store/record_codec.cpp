#include "module/store/record_codec.h"

#include <cctype>
#include <chrono>

#include "module/cdr/cdr_json.h"

namespace callvault {
namespace {

constexpr int64_t kMsPerDay = 86400000;
constexpr int64_t kFirstDay = 10957;  // 2000-01-01
constexpr int64_t kFutureSlackDays = 7;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

void AppendField(std::string* aad, std::string_view v) {
  const uint32_t n = static_cast<uint32_t>(v.size());
  const char len[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                       static_cast<char>(n >> 8), static_cast<char>(n)};
  aad->append(len, 4);
  aad->append(v);
}

}  // namespace

bool CanonicalUuid(std::string_view in, std::string* out) {
  if (in.size() != 36) return false;
  std::string s(in);
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
    s[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
  }
  *out = std::move(s);
  return true;
}

// Day formatting and parsing are on the shipper's per-record path: no stdio.
std::string FormatDay(int64_t days) {
  using namespace std::chrono;
  const year_month_day ymd{sys_days{std::chrono::days{days}}};
  const int y = static_cast<int>(ymd.year());
  const unsigned m = static_cast<unsigned>(ymd.month()), d = static_cast<unsigned>(ymd.day());
  if (y < 0 || y > 9999) return "0000-00-00";  // outside what Describe accepts anyway
  std::string out = "0000-00-00";
  out[0] = static_cast<char>('0' + y / 1000);
  out[1] = static_cast<char>('0' + y / 100 % 10);
  out[2] = static_cast<char>('0' + y / 10 % 10);
  out[3] = static_cast<char>('0' + y % 10);
  out[5] = static_cast<char>('0' + m / 10);
  out[6] = static_cast<char>('0' + m % 10);
  out[8] = static_cast<char>('0' + d / 10);
  out[9] = static_cast<char>('0' + d % 10);
  return out;
}

bool ParseDay(std::string_view text, int64_t* days) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  int v[8];
  for (int i = 0, j = 0; i < 10; ++i) {
    if (i == 4 || i == 7) continue;
    if (text[i] < '0' || text[i] > '9') return false;
    v[j++] = text[i] - '0';
  }
  using namespace std::chrono;
  const year_month_day ymd{year{v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3]},
                           month{static_cast<unsigned>(v[4] * 10 + v[5])},
                           day{static_cast<unsigned>(v[6] * 10 + v[7])}};
  if (!ymd.ok()) return false;
  *days = sys_days{ymd}.time_since_epoch().count();
  return true;
}

bool RecordCodec::Describe(const CdrSummary& cdr, RecordRow* row, std::string* error) const {
  if (!CanonicalUuid(cdr.record_id, &row->record_id)) {
    row->record_id.clear();
    *error = "record id is not a UUID";
    return false;
  }
  int64_t day = 0;
  const int64_t today =
      FloorDiv(std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count(),
               kMsPerDay);
  if (!ParseDay(!cdr.invite_day.empty() ? cdr.invite_day : cdr.end_day, &day) || day < kFirstDay ||
      day > today + kFutureSlackDays) {
    *error = "record " + row->record_id + ": call time missing or out of range";
    return false;
  }
  row->node_id = cdr.node_id.empty() ? cfg_.node_id : cdr.node_id;
  row->trunk = !cdr.ingress_trunk.empty() ? cdr.ingress_trunk : cdr.egress_trunk;
  const RetentionPolicy& policy = cfg_.RetentionFor(row->trunk);
  row->call_day = FormatDay(day);
  row->retention_class = policy.retention_class;
  row->legal_basis = policy.legal_basis;
  row->retain_until = FormatDay(day + policy.days);
  row->hold_state = 0;
  const TrunkConfig* trunk = cfg_.FindTrunk(row->trunk);
  const std::string& region = trunk ? trunk->default_region : default_region_;
  row->caller_bi = blind_index_.Index(cdr.caller_pai.empty() ? cdr.caller : cdr.caller_pai, region);
  row->callee_bi = blind_index_.Index(cdr.callee, region);
  return true;
}

std::string RecordCodec::Aad(const RecordRow& row) {
  std::string aad = "cv-cdr-row-v1";
  for (const std::string* f : {&row.record_id, &row.trunk, &row.call_day, &row.retention_class,
                               &row.legal_basis, &row.retain_until, &row.key_id}) {
    AppendField(&aad, *f);
  }
  return aad;
}

bool RecordCodec::Seal(std::string_view cdr_json, DataKey* key, RecordRow* row,
                       std::string* error) {
  row->key_id = key->key_id;
  row->payload.clear();
  if (!key->aead->Encrypt(cdr_json, Aad(*row), &row->payload)) {
    *error = "data key " + key->key_id + " reached its encryption limit";
    return false;
  }
  return true;
}

bool RecordCodec::Open(const RecordRow& row, const DataKey& key, Cdr* out, std::string* error) {
  if (row.key_id != key.key_id) {
    *error = "record " + row.record_id + ": opened with the wrong data key";
    return false;
  }
  std::string json;
  if (!key.aead->Decrypt(row.payload, Aad(row), &json)) {
    *error = "record " + row.record_id +
             ": payload authentication failed (retention metadata or payload altered)";
    return false;
  }
  std::string why;
  if (!CdrFromJson(json, out, &why)) {
    *error = "record " + row.record_id + ": decrypted payload is not a CDR: " + why;
    return false;
  }
  std::string id;
  if (!CanonicalUuid(out->record_id, &id) || id != row.record_id) {
    *error = "record " + row.record_id + ": payload belongs to another record";
    return false;
  }
  return true;
}

}  // namespace callvault
