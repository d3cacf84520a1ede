// A small append-only JSON writer for analytics events: fixed field order,
// no intermediate tree (building an nlohmann::json per event costs more than
// all the pseudonymisation together).  Strings are escaped per RFC 8259;
// bytes outside printable ASCII become '?', so an event is always valid
// UTF-8 whatever an operator-supplied name (trunk, node) contains.
//
// Hot path: every call is one append of a small stack-assembled piece
// (separator, quotes and text together).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace callvault {

class JsonWriter {
 public:
  explicit JsonWriter(std::string* out) : out_(out) {}

  void BeginObject() { Open('{'); }
  void EndObject() { Close('}'); }
  void BeginArray() { Open('['); }
  void EndArray() { Close(']'); }

  // Object member name; the next value call writes its value.  Names are
  // the schema's own identifiers and are written without escaping.
  void Key(std::string_view key) {
    Quoted(key, ':');
    after_key_ = true;
  }
  // Escaped string (operator-supplied text).
  void String(std::string_view value);
  // A value the caller guarantees needs no escaping (tokens, ids, addresses,
  // enum names: all from fixed printable alphabets without '"' or '\\').
  void PlainString(std::string_view value) { Quoted(value, '\0'); }
  void Int(int64_t value);
  void Bool(bool value);

 private:
  static constexpr int kMaxDepth = 8;  // events nest three deep
  static constexpr size_t kPiece = 64;

  // Writes the separator a new value or member needs (',' unless first in
  // its container, nothing after a key) into buf; returns its length.
  size_t Separator(char* buf) {
    if (after_key_) {
      after_key_ = false;
      return 0;
    }
    if (depth_ == 0) return 0;
    const bool first = first_[depth_ - 1];
    first_[depth_ - 1] = false;
    if (first) return 0;
    buf[0] = ',';
    return 1;
  }
  void Open(char c) {
    char buf[2];
    size_t n = Separator(buf);
    buf[n++] = c;
    out_->append(buf, n);
    first_[depth_++] = true;
  }
  void Close(char c) {
    *out_ += c;
    --depth_;
  }
  // [sep] '"' text '"' [suffix], in one append when it fits a small piece.
  void Quoted(std::string_view text, char suffix) {
    char buf[kPiece];
    if (text.size() + 4 > kPiece) {
      const size_t n = Separator(buf);
      out_->append(buf, n);
      *out_ += '"';
      out_->append(text);
      *out_ += '"';
      if (suffix) *out_ += suffix;
      return;
    }
    size_t n = Separator(buf);
    buf[n++] = '"';
    std::memcpy(buf + n, text.data(), text.size());
    n += text.size();
    buf[n++] = '"';
    if (suffix) buf[n++] = suffix;
    out_->append(buf, n);
  }
  void Escaped(std::string_view s);

  std::string* out_;
  bool first_[kMaxDepth] = {};  // per open container: no member written yet
  int depth_ = 0;
  bool after_key_ = false;
};

}  // namespace callvault
