#include "sip/parse/field_text.h"

#include <cstdint>

namespace callvault {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if invalid
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t c = b(i);
  size_t n;
  uint32_t cp;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
      (cp >= 0xD800 && cp <= 0xDFFF)) {
    return 0;
  }
  return n;
}

}  // namespace

std::string CapField(std::string_view text, size_t cap) {
  std::string out;
  out.reserve(text.size() < cap ? text.size() : cap);
  for (size_t i = 0; i < text.size();) {
    const size_t n = Utf8SequenceLength(text, i);
    if (n <= 1) {
      const auto c = static_cast<uint8_t>(text[i]);
      if (out.size() + 1 > cap) break;
      out.push_back(n == 1 && c >= 0x20 && c != 0x7F ? static_cast<char>(c) : '?');
      ++i;
      continue;
    }
    if (out.size() + n > cap) break;
    out.append(text.substr(i, n));
    i += n;
  }
  return out;
}

std::string JoinCapped(const std::vector<std::string>& items, char sep, size_t cap) {
  std::string out;
  for (const std::string& item : items) {
    const size_t need = item.size() + (out.empty() ? 0 : 1);
    if (item.empty()) continue;
    if (out.size() + need > cap) break;  // keep a prefix: lists are in preference order
    if (!out.empty()) out.push_back(sep);
    out += item;
  }
  return out;
}

}  // namespace callvault
