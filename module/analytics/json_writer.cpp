#include "module/analytics/json_writer.h"

#include <array>
#include <charconv>

namespace callvault {

void JsonWriter::String(std::string_view value) {
  char buf[1];
  out_->append(buf, Separator(buf));
  Escaped(value);
}

void JsonWriter::Int(int64_t value) {
  char buf[24];
  size_t n = Separator(buf);
  const auto r = std::to_chars(buf + n, buf + sizeof(buf), value);
  out_->append(buf, r.ptr);
}

void JsonWriter::Bool(bool value) {
  char buf[1];
  out_->append(buf, Separator(buf));
  out_->append(value ? "true" : "false");
}

void JsonWriter::Escaped(std::string_view s) {
  static constexpr auto kPlain = [] {
    std::array<bool, 256> t{};
    for (int c = 0x20; c < 0x7f; ++c) t[static_cast<size_t>(c)] = c != '"' && c != '\\';
    return t;
  }();
  *out_ += '"';
  // Copy runs of plain characters in one go; only the rare special byte is
  // handled on its own.
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (kPlain[c]) continue;
    out_->append(s.data() + run, i - run);
    run = i + 1;
    if (c == '"' || c == '\\') {
      *out_ += '\\';
      *out_ += static_cast<char>(c);
    } else {
      *out_ += '?';
    }
  }
  out_->append(s.data() + run, s.size() - run);
  *out_ += '"';
}

}  // namespace callvault
