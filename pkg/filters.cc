#include "pkg/filters.h"

#include <re2/re2.h>

#include <cstdint>
#include <variant>

#include "pkg/errdefs.h"
#include "pkg/log.h"

// A re-implementation of containerd 1.6's filter scanner and parser. The
// scanner's cursor rules (a rune is read at `pos`, `ppos` is just past it;
// peeking restores both) decide the positions that error messages show, so
// they are kept exactly; clients see those messages.
namespace mcd::filters {

namespace {

// Scanner results: a decoded rune (>= 0) or one of these.
constexpr int32_t kEOF = -1;
constexpr int32_t kQuoted = -2;
constexpr int32_t kValue = -3;
constexpr int32_t kField = -4;
constexpr int32_t kSeparator = -5;
constexpr int32_t kOperator = -6;
constexpr int32_t kIllegal = -7;
constexpr int32_t kRuneError = 0xFFFD;

// UTF-8 decoding as Go's utf8.DecodeRuneInString: width 0 at the end, width 1
// with kRuneError on invalid input (overlong, surrogate, truncated).
int32_t DecodeRune(std::string_view s, size_t* width) {
  if (s.empty()) {
    *width = 0;
    return kRuneError;
  }
  auto b = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  uint8_t c = b(0);
  *width = 1;
  if (c < 0x80) return c;
  size_t n;
  int32_t r, min;
  if ((c & 0xE0) == 0xC0) {
    n = 2, r = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3, r = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4, r = c & 0x07, min = 0x10000;
  } else {
    return kRuneError;
  }
  if (s.size() < n) return kRuneError;
  for (size_t i = 1; i < n; i++) {
    if ((b(i) & 0xC0) != 0x80) return kRuneError;
    r = (r << 6) | (b(i) & 0x3F);
  }
  if (r < min || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) return kRuneError;
  *width = n;
  return r;
}

void AppendRune(std::string* out, int32_t r) {
  if (r < 0 || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) r = kRuneError;
  if (r < 0x80) {
    out->push_back(static_cast<char>(r));
  } else if (r < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (r >> 6)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else if (r < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (r >> 12)));
    out->push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (r >> 18)));
    out->push_back(static_cast<char>(0x80 | ((r >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  }
}

// Go's unicode.IsSpace.
bool IsSpace(int32_t r) {
  switch (r) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return r >= 0x2000 && r <= 0x200A;
  }
}

bool IsAlpha(int32_t r) {
  return (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z');
}
bool IsDigit(int32_t r) {
  return r >= '0' && r <= '9';
}
bool IsFieldRune(int32_t r) {
  return r == '_' || IsAlpha(r) || IsDigit(r);
}
bool IsOperatorRune(int32_t r) {
  return r == '=' || r == '!' || r == '~';
}
bool IsQuoteRune(int32_t r) {
  return r == '/' || r == '|' || r == '"';
}
bool IsSeparatorRune(int32_t r) {
  return r == ',' || r == '.';
}

// containerd accepts letters, digits, graphic characters and punctuation.
// Without Unicode tables we approximate "graphic" for non-ASCII as anything
// but C1 controls and the invisible format characters below.
bool IsValueRune(int32_t r) {
  if (r < 0 || r == ',' || IsSpace(r)) return false;
  if (r < 0x80) return r > 0x20 && r != 0x7F;
  if (r < 0xA0) return false;
  if (r == 0xAD || (r >= 0x200B && r <= 0x200F) || (r >= 0x202A && r <= 0x202E) ||
      (r >= 0x2060 && r <= 0x206F) || r == 0xFEFF || (r >= 0xE000 && r <= 0xF8FF) || r >= 0xF0000) {
    return false;
  }
  return true;
}

int DigitVal(int32_t r) {
  if (r >= '0' && r <= '9') return r - '0';
  if (r >= 'a' && r <= 'f') return r - 'a' + 10;
  if (r >= 'A' && r <= 'F') return r - 'A' + 10;
  return 16;
}

struct Token {
  size_t pos;
  int32_t kind;  // one of the k* constants or a raw rune
  std::string_view text;
};

class Scanner {
 public:
  explicit Scanner(std::string_view input) : in_(input) {}

  int32_t Next() {
    if (pos_ >= in_.size()) return kEOF;
    pos_ = ppos_;
    size_t w;
    int32_t r = DecodeRune(in_.substr(ppos_), &w);
    ppos_ += w;
    if (r == kRuneError) {
      if (w > 0) {
        Error("rune error");
        return kIllegal;
      }
      return kEOF;
    }
    if (r == 0) {
      Error("unexpected null");
      return kIllegal;
    }
    return r;
  }

  int32_t Peek() {
    size_t pos = pos_, ppos = ppos_;
    int32_t ch = Next();
    pos_ = pos, ppos_ = ppos;
    return ch;
  }

  Token Scan() {
    int32_t ch = Next();
    size_t pos = pos_;
    while (ch >= 0 && IsSpace(ch)) {
      ch = Next();
      pos = pos_;
    }
    if (ch == kEOF || ch == kIllegal) return {pos_, ch, {}};
    if (IsQuoteRune(ch)) {
      bool ok = ScanQuoted(ch);
      return {pos, ok ? kQuoted : kIllegal, Text(pos)};
    }
    if (IsSeparatorRune(ch)) {
      value_ = false;
      return {pos, kSeparator, Text(pos)};
    }
    if (IsOperatorRune(ch)) {
      while (IsOperatorRune(Peek())) Next();
      value_ = true;
      return {pos, kOperator, Text(pos)};
    }
    if (value_) {
      while (IsValueRune(Peek())) Next();
      value_ = false;
      return {pos, kValue, Text(pos)};
    }
    if (IsFieldRune(ch)) {
      while (IsFieldRune(Peek())) Next();
      return {pos, kField, Text(pos)};
    }
    return {pos_, ch, {}};
  }

  size_t ppos() const { return ppos_; }
  const std::string& err() const { return err_; }

 private:
  std::string_view Text(size_t from) const { return in_.substr(from, ppos_ - from); }

  void Error(const char* msg) {
    if (err_.empty()) err_ = msg;
  }

  // Reads up to the closing quote; false when an escape is malformed or the
  // literal is not closed (err() says which).
  bool ScanQuoted(int32_t quote) {
    bool illegal = false;
    int32_t ch = Next();
    while (ch != quote) {
      if (ch == '\n' || ch < 0) {
        Error("quoted literal not terminated");
        return false;
      }
      if (ch == '\\') {
        if (!ScanEscape(quote, &ch)) illegal = true;
      } else {
        ch = Next();
      }
    }
    return !illegal;
  }

  bool ScanEscape(int32_t quote, int32_t* ch) {
    *ch = Next();
    switch (*ch) {
      case 'a':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't':
      case 'v':
      case '\\':
        *ch = Next();
        return true;
      case '0':
      case '1':
      case '2':
      case '3':
      case '4':
      case '5':
      case '6':
      case '7':
        return ScanDigits(ch, 8, 3);
      case 'x':
        *ch = Next();
        return ScanDigits(ch, 16, 2);
      case 'u':
        *ch = Next();
        return ScanDigits(ch, 16, 4);
      case 'U':
        *ch = Next();
        return ScanDigits(ch, 16, 8);
      default:
        if (*ch == quote) {
          *ch = Next();
          return true;
        }
        Error("illegal escape sequence");
        return false;
    }
  }

  bool ScanDigits(int32_t* ch, int base, int n) {
    while (n > 0 && DigitVal(*ch) < base) {
      *ch = Next();
      n--;
    }
    if (n > 0) {
      Error("illegal numeric escape sequence");
      return false;
    }
    return true;
  }

  std::string_view in_;
  size_t pos_ = 0;
  size_t ppos_ = 0;
  bool value_ = false;  // an operator was just read: the next word is a value
  std::string err_;
};

// Go's strconv-style unquoting with '/' and '|' accepted as double quotes.
// The scanner has already checked the shape; this rejects the escapes it
// lets through but that do not decode (octal > 255, code points > U+10FFFF).
bool Unquote(std::string_view s, std::string* out) {
  if (s.size() < 2 || s.front() != s.back()) return false;
  char quote = s.front();
  if (quote != '"' && quote != '/' && quote != '|') return false;
  s = s.substr(1, s.size() - 2);
  if (s.find('\n') != std::string_view::npos) return false;
  out->clear();
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == quote) return false;
    if (c != '\\') {
      out->push_back(c);  // multi-byte UTF-8 passes through byte by byte
      i++;
      continue;
    }
    if (i + 1 >= s.size()) return false;
    char e = s[i + 1];
    i += 2;
    switch (e) {
      case 'a':
        out->push_back('\a');
        break;
      case 'b':
        out->push_back('\b');
        break;
      case 'f':
        out->push_back('\f');
        break;
      case 'n':
        out->push_back('\n');
        break;
      case 'r':
        out->push_back('\r');
        break;
      case 't':
        out->push_back('\t');
        break;
      case 'v':
        out->push_back('\v');
        break;
      case '\\':
        out->push_back('\\');
        break;
      case 'x':
      case 'u':
      case 'U': {
        size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        if (s.size() - i < n) return false;
        uint32_t v = 0;
        for (size_t j = 0; j < n; j++) {
          int d = DigitVal(static_cast<unsigned char>(s[i + j]));
          if (d >= 16) return false;
          v = (v << 4) | static_cast<uint32_t>(d);
        }
        i += n;
        if (e == 'x') {
          out->push_back(static_cast<char>(v));  // a raw byte, maybe not UTF-8
        } else {
          if (v > 0x10FFFF) return false;
          AppendRune(out, static_cast<int32_t>(v));
        }
        break;
      }
      case '0':
      case '1':
      case '2':
      case '3':
      case '4':
      case '5':
      case '6':
      case '7': {
        if (s.size() - i < 2) return false;
        uint32_t v = static_cast<uint32_t>(e - '0');
        for (size_t j = 0; j < 2; j++) {
          int d = s[i + j] - '0';
          if (d < 0 || d > 7) return false;
          v = (v << 3) | static_cast<uint32_t>(d);
        }
        i += 2;
        if (v > 255) return false;
        out->push_back(static_cast<char>(v));
        break;
      }
      case '\'':
      case '"':
      case '|':
      case '/':
        if (e != quote) return false;
        out->push_back(e);
        break;
      default:
        return false;
    }
  }
  return true;
}

}  // namespace

// The parse tree: a selector, or All / Any of children.
struct Filter::Node {
  enum class Kind { kAll, kAny, kPresent, kEqual, kNotEqual, kMatches };
  Kind kind = Kind::kAll;
  std::vector<std::shared_ptr<const Node>> children;
  std::vector<std::string> fieldpath;
  std::string value;
  // Compiled once at parse time; an invalid expression is not a parse error
  // in containerd, it only never matches (and logs).
  std::shared_ptr<const re2::RE2> re;

  bool Match(const Adaptor& a) const {
    switch (kind) {
      case Kind::kAll:
        for (const auto& c : children) {
          if (!c->Match(a)) return false;
        }
        return true;
      case Kind::kAny:
        for (const auto& c : children) {
          if (c->Match(a)) return true;
        }
        return false;
      default:
        break;
    }
    std::optional<std::string> got = a(fieldpath);
    switch (kind) {
      case Kind::kPresent:
        return got.has_value();
      case Kind::kEqual:
        return got && *got == value;
      case Kind::kNotEqual:
        // A missing field reads as "": it differs from any non-empty value.
        return got.value_or("") != value;
      case Kind::kMatches:
        if (!re->ok()) {
          log::Error("error compiling regexp", {{"regexp", value}});
          return false;
        }
        return re2::RE2::PartialMatch(got.value_or(""), *re);
      default:
        return false;
    }
  }
};

namespace {

using Node = Filter::Node;

class Parser {
 public:
  explicit Parser(std::string_view input) : in_(input), sc_(input) {}

  std::shared_ptr<const Node> Selectors() {
    auto all = std::make_shared<Node>();
    all->kind = Node::Kind::kAll;
    all->children.push_back(Selector());
    for (;;) {
      int32_t ch = sc_.Peek();
      if (ch == kEOF) break;
      if (ch != ',') {
        std::string s;
        AppendRune(&s, ch);
        Fail(sc_.ppos(), "unexpected input: " + s);
      }
      Token t = sc_.Scan();
      if (t.kind != kSeparator) Fail(t.pos, "expected a separator");
      all->children.push_back(Selector());
    }
    return all;
  }

 private:
  std::shared_ptr<const Node> Selector() {
    auto n = std::make_shared<Node>();
    n->fieldpath = FieldPath();
    int32_t ch = sc_.Peek();
    if (ch == ',' || ch == kEOF) {
      n->kind = Node::Kind::kPresent;
      return n;
    }
    n->kind = Operator();
    n->value = Value(n->kind == Node::Kind::kMatches);
    if (n->kind == Node::Kind::kMatches) {
      re2::RE2::Options opts;
      opts.set_log_errors(false);
      n->re = std::make_shared<re2::RE2>(n->value, opts);
    }
    return n;
  }

  std::vector<std::string> FieldPath() {
    std::vector<std::string> fs{Field()};
    while (sc_.Peek() == '.') {
      Token t = sc_.Scan();
      if (t.kind != kSeparator) Fail(t.pos, "expected a field separator (`.`)");
      fs.push_back(Field());
    }
    return fs;
  }

  std::string Field() {
    Token t = sc_.Scan();
    if (t.kind == kField) return std::string(t.text);
    if (t.kind == kQuoted) return UnquoteAt(t, false);
    if (t.kind == kIllegal) Fail(t.pos, sc_.err());
    Fail(t.pos, "expected field or quoted");
  }

  Node::Kind Operator() {
    Token t = sc_.Scan();
    if (t.kind == kOperator) {
      if (t.text == "==") return Node::Kind::kEqual;
      if (t.text == "!=") return Node::Kind::kNotEqual;
      if (t.text == "~=") return Node::Kind::kMatches;
      Fail(t.pos, "unsupported operator " + GoQuote(t.text));
    }
    if (t.kind == kIllegal) Fail(t.pos, sc_.err());
    Fail(t.pos, R"(expected an operator ("=="|"!="|"~="))");
  }

  std::string Value(bool allow_alt_quotes) {
    Token t = sc_.Scan();
    if (t.kind == kValue || t.kind == kField) return std::string(t.text);
    if (t.kind == kQuoted) return UnquoteAt(t, allow_alt_quotes);
    if (t.kind == kIllegal) Fail(t.pos, sc_.err());
    Fail(t.pos, "expected value or quoted");
  }

  // '/' and '|' quote only regular expressions (after ~=).
  std::string UnquoteAt(const Token& t, bool allow_alts) {
    if (!allow_alts && t.text[0] != '"') Fail(t.pos, "invalid quote encountered");
    std::string out;
    if (!Unquote(t.text, &out)) Fail(t.pos, "unquoting failed: quote syntax error");
    return out;
  }

  // Go's %q for the operator text (only operator runes reach here).
  static std::string GoQuote(std::string_view s) { return "\"" + std::string(s) + "\""; }

  // containerd's message: the input with the offending byte marked.
  [[noreturn]] void Fail(size_t pos, const std::string& msg) {
    std::string where;
    if (pos < in_.size()) {
      where = "[" + std::string(in_.substr(0, pos)) + " >|" + std::string(in_.substr(pos, 1)) +
              "|< " + std::string(in_.substr(pos + 1)) + "]";
    } else {
      where = "[" + std::string(in_) + "]";
    }
    throw errdefs::Error(errdefs::Code::kInvalidArgument,
                         "filters: parse error: " + where + ": " + msg);
  }

  std::string_view in_;
  Scanner sc_;
};

}  // namespace

Filter::Filter() = default;

bool Filter::Match(const Adaptor& a) const {
  return !node_ || node_->Match(a);
}

namespace {
// The empty filter is containerd's Always: an All without children.
std::shared_ptr<const Node> ParseNode(std::string_view text) {
  if (text.empty()) return std::make_shared<const Node>();
  return Parser(text).Selectors();
}
}  // namespace

Filter Parse(std::string_view text) {
  return Filter(ParseNode(text));
}

Filter ParseAll(const std::vector<std::string>& texts) {
  if (texts.empty()) return Filter();
  auto any = std::make_shared<Node>();
  any->kind = Node::Kind::kAny;
  for (const auto& t : texts) {
    try {
      any->children.push_back(ParseNode(t));
    } catch (const errdefs::Error& e) {
      throw errdefs::InvalidArgument(e.what());
    }
  }
  return Filter(any);
}

Filter ParseAllWrapped(const std::vector<std::string>& texts) {
  try {
    return ParseAll(texts);
  } catch (const errdefs::Error& e) {
    if (e.code() != errdefs::Code::kInvalidArgument) throw;
    throw errdefs::InvalidArgument(e.what());
  }
}

}  // namespace mcd::filters
