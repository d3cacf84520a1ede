#include "module/store/cdr_summary.h"

#include <cstdint>

#include "module/cdr/cdr_json.h"

namespace callvault {
namespace {

// A strict single-pass reader for the CDR's JSON object: top-level string
// values of the summary keys are decoded, every other value is validated and
// skipped.  (A general DOM or SAX parser allocates every key and value of the
// record, which cost more than sealing it.)
class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}

  bool Object(CdrSummary* out) {
    Ws();
    if (!Eat('{')) return false;
    Ws();
    if (Eat('}')) return End();
    for (;;) {
      std::string_view key;
      if (!Key(&key)) return false;
      Ws();
      if (!Eat(':')) return false;
      Ws();
      std::string* target = Target(key, out);
      if (target != nullptr && Peek() == '"') {
        if (!String(target)) return false;
      } else if (!Value(1)) {
        return false;
      }
      Ws();
      if (Eat(',')) {
        Ws();
        continue;
      }
      return Eat('}') && End();
    }
  }

  size_t position() const { return i_; }

 private:
  // A key as a view into the input when it has no escapes (CdrToJson's
  // keys never do), decoded otherwise.
  bool Key(std::string_view* key) {
    const size_t start = i_ + 1;
    if (!String(nullptr)) return false;
    *key = s_.substr(start, i_ - 1 - start);
    if (key->find('\\') == std::string_view::npos) return true;
    i_ = start - 1;
    if (!String(&key_scratch_)) return false;
    *key = key_scratch_;
    return true;
  }

  static std::string* Target(std::string_view k, CdrSummary* o) {
    if (k == "record_id") return &o->record_id;
    if (k == "node_id") return &o->node_id;
    if (k == "ingress_trunk") return &o->ingress_trunk;
    if (k == "egress_trunk") return &o->egress_trunk;
    if (k == "caller") return &o->caller;
    if (k == "caller_pai") return &o->caller_pai;
    if (k == "callee") return &o->callee;
    if (k == "invite_time") return &o->invite_day;
    if (k == "end_time") return &o->end_day;
    return nullptr;
  }

  char Peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  bool Eat(char c) {
    if (Peek() != c) return false;
    ++i_;
    return true;
  }
  void Ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) {
      ++i_;
    }
  }
  bool End() {
    Ws();
    return i_ == s_.size();
  }
  bool Literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }

  bool Hex4(uint32_t* v) {
    *v = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = Peek();
      int d = c >= '0' && c <= '9' ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                     : -1;
      if (d < 0) return false;
      *v = *v << 4 | static_cast<uint32_t>(d);
      ++i_;
    }
    return true;
  }

  static void Utf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xc0 | cp >> 6));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xe0 | cp >> 12));
      out->push_back(static_cast<char>(0x80 | (cp >> 6 & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      out->push_back(static_cast<char>(0xf0 | cp >> 18));
      out->push_back(static_cast<char>(0x80 | (cp >> 12 & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (cp >> 6 & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
  }

  // A JSON string, decoded into *out (nullptr: validate and skip).
  bool String(std::string* out) {
    if (!Eat('"')) return false;
    if (out) out->clear();
    for (;;) {
      const size_t run = i_;
      while (i_ < s_.size() && s_[i_] != '"' && s_[i_] != '\\' &&
             static_cast<unsigned char>(s_[i_]) >= 0x20) {
        ++i_;
      }
      if (out) out->append(s_.substr(run, i_ - run));
      if (i_ >= s_.size() || static_cast<unsigned char>(s_[i_]) < 0x20) return false;
      if (s_[i_++] == '"') return true;
      const char e = Peek();
      ++i_;
      char plain = 0;
      switch (e) {
        case '"': plain = '"'; break;
        case '\\': plain = '\\'; break;
        case '/': plain = '/'; break;
        case 'b': plain = '\b'; break;
        case 'f': plain = '\f'; break;
        case 'n': plain = '\n'; break;
        case 'r': plain = '\r'; break;
        case 't': plain = '\t'; break;
        case 'u': {
          uint32_t cp = 0;
          if (!Hex4(&cp)) return false;
          if (cp >= 0xd800 && cp <= 0xdbff) {  // high surrogate: a low one must follow
            uint32_t lo = 0;
            if (!Literal("\\u") || !Hex4(&lo) || lo < 0xdc00 || lo > 0xdfff) return false;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          } else if (cp >= 0xdc00 && cp <= 0xdfff) {
            return false;
          }
          if (out) Utf8(cp, out);
          continue;
        }
        default:
          return false;
      }
      if (out) out->push_back(plain);
    }
  }

  bool Number() {
    const size_t start = i_;
    Eat('-');
    if (Eat('0')) {
    } else if (Peek() >= '1' && Peek() <= '9') {
      while (Peek() >= '0' && Peek() <= '9') ++i_;
    } else {
      return false;
    }
    if (Eat('.')) {
      if (!(Peek() >= '0' && Peek() <= '9')) return false;
      while (Peek() >= '0' && Peek() <= '9') ++i_;
    }
    if (Peek() == 'e' || Peek() == 'E') {
      ++i_;
      if (Peek() == '+' || Peek() == '-') ++i_;
      if (!(Peek() >= '0' && Peek() <= '9')) return false;
      while (Peek() >= '0' && Peek() <= '9') ++i_;
    }
    return i_ > start;
  }

  // Any JSON value, validated and skipped; depth bounds nesting.
  bool Value(int depth) {
    if (depth > 32) return false;
    switch (Peek()) {
      case '"':
        return String(nullptr);
      case 't':
        return Literal("true");
      case 'f':
        return Literal("false");
      case 'n':
        return Literal("null");
      case '[':
      case '{': {
        const bool object = Peek() == '{';
        const char close = object ? '}' : ']';
        ++i_;
        Ws();
        if (Eat(close)) return true;
        for (;;) {
          if (object) {
            if (!String(nullptr)) return false;
            Ws();
            if (!Eat(':')) return false;
            Ws();
          }
          if (!Value(depth + 1)) return false;
          Ws();
          if (Eat(close)) return true;
          if (!Eat(',')) return false;
          Ws();
        }
      }
      default:
        return Number();
    }
  }

  std::string_view s_;
  size_t i_ = 0;
  std::string key_scratch_;
};

// "2026-11-27T21:03:04.123Z" -> "2026-11-27"; anything else -> "".
void KeepDay(std::string* iso) {
  if (iso->size() >= 10 && (*iso)[4] == '-' && (*iso)[7] == '-') {
    iso->resize(10);
  } else {
    iso->clear();
  }
}

}  // namespace

bool SummariseCdrJson(std::string_view json, CdrSummary* out, std::string* error) {
  *out = CdrSummary{};
  Scanner scanner(json);
  if (!scanner.Object(out)) {
    *out = CdrSummary{};
    *error = "invalid JSON object at byte " + std::to_string(scanner.position());
    return false;
  }
  KeepDay(&out->invite_day);
  KeepDay(&out->end_day);
  return true;
}

CdrSummary SummariseCdr(const Cdr& cdr) {
  CdrSummary s;
  std::string error;
  SummariseCdrJson(CdrToJson(cdr), &s, &error);
  return s;
}

}  // namespace callvault
