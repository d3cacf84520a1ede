#include "module/store/copy_binary.h"

#include <cstdint>
#include <string_view>

namespace callvault {
namespace {

constexpr char kSignature[] = "PGCOPY\n\377\r\n";  // + the terminating NUL: 11 bytes
constexpr int64_t kPgEpochDays = 10957;             // 2000-01-01, PostgreSQL's date zero
constexpr uint16_t kColumns = 11;

void PutU16(std::string* b, uint16_t v) {
  b->push_back(static_cast<char>(v >> 8));
  b->push_back(static_cast<char>(v));
}

void PutU32(std::string* b, uint32_t v) {
  const char bytes[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                         static_cast<char>(v >> 8), static_cast<char>(v)};
  b->append(bytes, 4);
}

void PutBytes(std::string* b, std::string_view v) {
  PutU32(b, static_cast<uint32_t>(v.size()));
  b->append(v);
}

void PutBytesOrNull(std::string* b, std::string_view v) {
  if (v.empty()) {
    PutU32(b, 0xffffffffu);  // -1: NULL
  } else {
    PutBytes(b, v);
  }
}

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// A canonical (lower-case, dashed) UUID as its 16 bytes.
bool PutUuid(std::string* b, std::string_view text) {
  if (text.size() != 36) return false;
  char raw[16];
  size_t n = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) continue;
    const int hi = Hex(text[i]), lo = Hex(text[++i]);
    if (hi < 0 || lo < 0) return false;
    raw[n++] = static_cast<char>(hi << 4 | lo);
  }
  PutBytes(b, std::string_view(raw, 16));
  return true;
}

bool PutDate(std::string* b, std::string_view text) {
  int64_t days = 0;
  if (!ParseDay(text, &days)) return false;
  PutU32(b, 4);
  PutU32(b, static_cast<uint32_t>(static_cast<int32_t>(days - kPgEpochDays)));
  return true;
}

}  // namespace

RecordCopyEncoder::RecordCopyEncoder() {
  buf_.append(kSignature, sizeof kSignature);  // includes the NUL
  PutU32(&buf_, 0);                            // flags: no OIDs
  PutU32(&buf_, 0);                            // header extension length
}

bool RecordCopyEncoder::Add(const RecordRow& r) {
  const size_t mark = buf_.size();
  PutU16(&buf_, kColumns);
  bool ok = PutUuid(&buf_, r.record_id);
  PutBytes(&buf_, r.node_id);
  PutBytes(&buf_, r.trunk);
  ok = ok && PutDate(&buf_, r.call_day);
  PutBytes(&buf_, r.retention_class);
  PutBytes(&buf_, r.legal_basis);
  ok = ok && PutDate(&buf_, r.retain_until);
  ok = ok && PutUuid(&buf_, r.key_id);
  PutBytesOrNull(&buf_, r.caller_bi);
  PutBytesOrNull(&buf_, r.callee_bi);
  PutBytes(&buf_, r.payload);
  if (!ok) {
    buf_.resize(mark);
    return false;
  }
  ++rows_;
  return true;
}

std::string RecordCopyEncoder::Finish() {
  PutU16(&buf_, 0xffff);  // -1: end of data
  return std::move(buf_);
}

}  // namespace callvault
