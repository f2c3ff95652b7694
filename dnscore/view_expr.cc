#include "dnscore/view_expr.h"

#include <arpa/inet.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "dnscore/message.h"

namespace meshdns {

enum class ExprType : uint8_t { kBool, kInt, kFloat, kString, kArray };

namespace {

const char* TypeWord(ExprType t) {
  switch (t) {
    case ExprType::kBool: return "bool";
    case ExprType::kInt: return "int";
    case ExprType::kFloat: return "float64";
    case ExprType::kString: return "string";
    case ExprType::kArray: return "array";
  }
  return "?";
}

bool Numeric(ExprType t) { return t == ExprType::kInt || t == ExprType::kFloat; }

// CoreDNS's expression.DefaultEnv, and what each returns.
enum class Func : uint8_t {
  kIncidr, kMetadata, kType, kName, kClass, kProto, kSize, kClientIp, kPort, kId, kOpcode, kDo, kBufsize,
  kServerIp, kServerPort,
};
struct FuncInfo {
  absl::string_view name;
  Func func;
  ExprType result;
  int args;  // all of type string
};
constexpr FuncInfo kFuncs[] = {
    {"incidr", Func::kIncidr, ExprType::kBool, 2},       {"metadata", Func::kMetadata, ExprType::kString, 1},
    {"type", Func::kType, ExprType::kString, 0},         {"name", Func::kName, ExprType::kString, 0},
    {"class", Func::kClass, ExprType::kString, 0},       {"proto", Func::kProto, ExprType::kString, 0},
    {"size", Func::kSize, ExprType::kInt, 0},            {"client_ip", Func::kClientIp, ExprType::kString, 0},
    {"port", Func::kPort, ExprType::kString, 0},         {"id", Func::kId, ExprType::kInt, 0},
    {"opcode", Func::kOpcode, ExprType::kInt, 0},        {"do", Func::kDo, ExprType::kBool, 0},
    {"bufsize", Func::kBufsize, ExprType::kInt, 0},      {"server_ip", Func::kServerIp, ExprType::kString, 0},
    {"server_port", Func::kServerPort, ExprType::kString, 0},
};

const FuncInfo* FindFunc(absl::string_view name) {
  for (const FuncInfo& f : kFuncs) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// expr-lang's builtins (its docs' language definition); meshdns runs none.
bool IsBuiltin(absl::string_view name) {
  static constexpr absl::string_view kBuiltins[] = {
      "all", "none", "any", "one", "filter", "map", "find", "findIndex", "findLast", "findLastIndex", "count",
      "sum", "groupBy", "sortBy", "reduce", "len", "abs", "ceil", "floor", "round", "int", "float", "string",
      "trim", "trimPrefix", "trimSuffix", "upper", "lower", "split", "splitAfter", "replace", "repeat", "indexOf",
      "lastIndexOf", "hasPrefix", "hasSuffix", "max", "min", "mean", "median", "toJSON", "fromJSON", "toBase64",
      "fromBase64", "now", "duration", "date", "timezone", "first", "last", "get", "take", "keys", "values",
      "toPair", "fromPair", "sort", "concat", "flatten", "uniq", "join", "reverse", "bitand", "bitor", "bitxor",
      "bitnand", "bitnot", "bitshl", "bitshr", "bitushr"};
  for (absl::string_view b : kBuiltins) {
    if (b == name) return true;
  }
  return false;
}

}  // namespace

enum class Op : uint8_t {
  kConst, kCall, kNot, kNeg, kAnd, kOr, kEq, kNe, kLt, kGt, kLe, kGe, kAdd, kSub, kMul, kDiv, kMod, kPow,
  kIn, kMatches, kContains, kStartsWith, kEndsWith, kArray, kCond,
};

struct ViewExpression::Node {
  Op op = Op::kConst;
  ExprType type = ExprType::kBool;
  Func func = Func::kName;
  int a = -1, b = -1, c = -1;  // children (node indexes)
  std::vector<int> items;      // array elements, call arguments
  bool boolean = false;
  int64_t integer = 0;
  double real = 0;
  std::string text;
  bool negate = false;                  // `not in`, `not matches`, …
  std::shared_ptr<const re2::RE2> re;  // matches: its constant pattern
  std::optional<Cidr> cidr;            // incidr: its constant network
  std::optional<IpAddress> ip;         // incidr: its constant address
  bool constant_ip_ok = true, constant_cidr_ok = true;  // incidr: whether the constants could be read
};

struct ViewExpression::Tree {
  std::vector<Node> nodes;  // children before parents
  int root = -1;
};

namespace {

using Node = ViewExpression::Node;

// ---- Lexer -----------------------------------------------------------------

enum class Tok : uint8_t { kEnd, kNumber, kString, kIdent, kOp };

struct Token {
  Tok kind = Tok::kEnd;
  absl::string_view text;  // as written; for an operator, its spelling
  std::string value;       // a string's value
  size_t offset = 0;
};

class Lexer {
 public:
  explicit Lexer(absl::string_view src) : src_(src) {}

  // All tokens, or false with `error` set.
  bool Run(std::vector<Token>& out, ViewExpression::Error& error) {
    while (true) {
      while (i_ < src_.size() && absl::ascii_isspace(static_cast<unsigned char>(src_[i_]))) ++i_;
      Token t;
      t.offset = i_;
      if (i_ == src_.size()) {
        out.push_back(std::move(t));
        return true;
      }
      const char c = src_[i_];
      if (absl::ascii_isdigit(static_cast<unsigned char>(c))) {
        Number(t);
      } else if (c == '\'' || c == '"' || c == '`') {
        if (!String(t, error)) return false;
      } else if (absl::ascii_isalpha(static_cast<unsigned char>(c)) || c == '_' || c == '$') {
        size_t j = i_;
        while (j < src_.size() && (absl::ascii_isalnum(static_cast<unsigned char>(src_[j])) || src_[j] == '_' ||
                                   src_[j] == '$')) {
          ++j;
        }
        t.kind = Tok::kIdent;
        t.text = src_.substr(i_, j - i_);
        i_ = j;
      } else {
        static constexpr absl::string_view kOps[] = {"**", "==", "!=", "<=", ">=", "&&", "||", "??", "?.", "..",
                                                     "(",  ")",  "[",  "]",  "{",  "}",  ",",  "?",  ":",  "!",
                                                     "<",  ">",  "+",  "-",  "*",  "/",  "%",  "^",  ".",  "|",
                                                     "#",  ";",  "="};
        for (absl::string_view op : kOps) {
          if (absl::StartsWith(src_.substr(i_), op)) {
            t.kind = Tok::kOp;
            t.text = src_.substr(i_, op.size());
            break;
          }
        }
        if (t.kind != Tok::kOp) {
          error = {i_, absl::StrCat("unrecognized character '", src_.substr(i_, 1), "'")};
          return false;
        }
        i_ += t.text.size();
      }
      out.push_back(std::move(t));
    }
  }

 private:
  void Number(Token& t) {
    size_t j = i_;
    auto digits = [&](auto ok) {
      while (j < src_.size() && (ok(static_cast<unsigned char>(src_[j])) || src_[j] == '_')) ++j;
    };
    if (src_[j] == '0' && j + 1 < src_.size() && std::strchr("xXoObB", src_[j + 1]) != nullptr) {
      j += 2;
      digits([](unsigned char ch) { return absl::ascii_isxdigit(ch); });
    } else {
      digits([](unsigned char ch) { return absl::ascii_isdigit(ch); });
      // A fraction, but not the range operator `..`.
      if (j + 1 < src_.size() && src_[j] == '.' && src_[j + 1] != '.') {
        ++j;
        digits([](unsigned char ch) { return absl::ascii_isdigit(ch); });
      }
      if (j < src_.size() && (src_[j] == 'e' || src_[j] == 'E')) {
        ++j;
        if (j < src_.size() && (src_[j] == '+' || src_[j] == '-')) ++j;
        digits([](unsigned char ch) { return absl::ascii_isdigit(ch); });
      }
    }
    t.kind = Tok::kNumber;
    t.text = src_.substr(i_, j - i_);
    i_ = j;
  }

  // Go's string literal escapes, as expr-lang unquotes them.
  bool String(Token& t, ViewExpression::Error& error) {
    const char quote = src_[i_];
    size_t j = i_ + 1;
    t.kind = Tok::kString;
    while (true) {
      if (j >= src_.size()) {
        error = {i_, "literal not terminated"};
        return false;
      }
      const char ch = src_[j];
      if (ch == quote) break;
      if (ch == '\\' && quote != '`') {
        if (j + 1 >= src_.size()) {
          error = {i_, "literal not terminated"};
          return false;
        }
        const char e = src_[j + 1];
        const size_t at = j;
        j += 2;
        switch (e) {
          case 'a': t.value.push_back('\a'); continue;
          case 'b': t.value.push_back('\b'); continue;
          case 'f': t.value.push_back('\f'); continue;
          case 'n': t.value.push_back('\n'); continue;
          case 'r': t.value.push_back('\r'); continue;
          case 't': t.value.push_back('\t'); continue;
          case 'v': t.value.push_back('\v'); continue;
          case '\\': t.value.push_back('\\'); continue;
          case '\'': t.value.push_back('\''); continue;
          case '"': t.value.push_back('"'); continue;
          case 'x': case 'u': case 'U': {
            const size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
            uint32_t code = 0;
            if (j + n > src_.size() ||
                !absl::SimpleHexAtoi(src_.substr(j, n), &code) || src_.substr(j, n).find_first_of("+-") != absl::string_view::npos) {
              error = {at, "invalid char escape"};
              return false;
            }
            j += n;
            if (e == 'x') {
              t.value.push_back(static_cast<char>(code));
            } else if (!Utf8(code, t.value)) {
              error = {at, "invalid char escape"};
              return false;
            }
            continue;
          }
          default:
            // \ooo: exactly three octal digits, at most 255.
            if (e >= '0' && e <= '7' && j + 2 <= src_.size()) {
              int v = e - '0';
              bool ok = true;
              for (size_t k = j; k < j + 2; ++k) {
                ok = ok && src_[k] >= '0' && src_[k] <= '7';
                v = v * 8 + (src_[k] - '0');
              }
              if (ok && v <= 255) {
                t.value.push_back(static_cast<char>(v));
                j += 2;
                continue;
              }
            }
            break;
        }
        error = {at, "invalid char escape"};
        return false;
      }
      t.value.push_back(ch);
      ++j;
    }
    t.text = src_.substr(i_, j + 1 - i_);
    i_ = j + 1;
    return true;
  }

  static bool Utf8(uint32_t code, std::string& out) {
    if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return false;
    if (code < 0x80) {
      out.push_back(static_cast<char>(code));
    } else if (code < 0x800) {
      out.push_back(static_cast<char>(0xc0 | (code >> 6)));
      out.push_back(static_cast<char>(0x80 | (code & 0x3f)));
    } else if (code < 0x10000) {
      out.push_back(static_cast<char>(0xe0 | (code >> 12)));
      out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (code & 0x3f)));
    } else {
      out.push_back(static_cast<char>(0xf0 | (code >> 18)));
      out.push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (code & 0x3f)));
    }
    return true;
  }

  absl::string_view src_;
  size_t i_ = 0;
};

// An address as Go's net.ParseIP reads one, without allocating.
bool ParseIp(absl::string_view text, IpAddress& out) {
  char buf[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() > INET6_ADDRSTRLEN) return false;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  std::array<uint8_t, 4> v4;
  if (inet_pton(AF_INET, buf, v4.data()) == 1) {
    out = IpAddress::FromV4(v4);
    return true;
  }
  return inet_pton(AF_INET6, buf, out.bytes.data()) == 1;
}

// Go's net.ParseCIDR, without allocating.
bool ParseNetwork(absl::string_view text, Cidr& out) {
  const size_t slash = text.find('/');
  if (slash == absl::string_view::npos) return false;
  IpAddress base;
  if (!ParseIp(text.substr(0, slash), base)) return false;
  // Written as IPv4 when the address part has no ':' (Go: the parsed length).
  const bool v4 = text.substr(0, slash).find(':') == absl::string_view::npos;
  const int max = v4 ? 32 : 128;
  int prefix = 0;
  const absl::string_view bits = text.substr(slash + 1);
  if (bits.empty() || bits.size() > 3) return false;
  for (char c : bits) {
    if (c < '0' || c > '9') return false;
    prefix = prefix * 10 + (c - '0');
  }
  if (prefix > max) return false;
  out = Cidr{.base = base, .prefix = prefix + (v4 ? 96 : 0), .v4 = v4};
  return true;
}

// ---- Parser and checker ----------------------------------------------------

struct Binary {
  absl::string_view spelling;
  int precedence;
  bool right = false;  // right-associative
  Op op;
};
// expr-lang's operator table (parser/operator); the ones with no Op here
// (`|`, `..`, `??`) are refused when met.
constexpr Binary kBinary[] = {
    {"or", 10, false, Op::kOr},       {"||", 10, false, Op::kOr},        {"and", 15, false, Op::kAnd},
    {"&&", 15, false, Op::kAnd},      {"==", 20, false, Op::kEq},        {"!=", 20, false, Op::kNe},
    {"<", 20, false, Op::kLt},        {">", 20, false, Op::kGt},         {">=", 20, false, Op::kGe},
    {"<=", 20, false, Op::kLe},       {"in", 20, false, Op::kIn},        {"matches", 20, false, Op::kMatches},
    {"contains", 20, false, Op::kContains}, {"startsWith", 20, false, Op::kStartsWith},
    {"endsWith", 20, false, Op::kEndsWith}, {"+", 30, false, Op::kAdd},  {"-", 30, false, Op::kSub},
    {"*", 60, false, Op::kMul},       {"/", 60, false, Op::kDiv},        {"%", 60, false, Op::kMod},
    {"**", 100, true, Op::kPow},      {"^", 100, true, Op::kPow},
};
constexpr int kUnaryNotPrecedence = 50;
constexpr int kUnarySignPrecedence = 90;

bool IsWordOperator(absl::string_view w) {
  return w == "or" || w == "and" || w == "in" || w == "matches" || w == "contains" || w == "startsWith" ||
         w == "endsWith" || w == "not";
}

const Binary* FindBinary(const Token& t) {
  if (t.kind != Tok::kOp && t.kind != Tok::kIdent) return nullptr;
  for (const Binary& b : kBinary) {
    if (b.spelling == t.text) return &b;
  }
  return nullptr;
}

class Parser {
 public:
  Parser(std::vector<Token> tokens, ViewExpression::Tree& tree, ViewExpression::Error& error)
      : tokens_(std::move(tokens)), tree_(tree), error_(error) {}

  bool Run() {
    const int root = Expression(0);
    if (root < 0) return false;
    if (Peek().kind != Tok::kEnd) return Fail(Peek().offset, absl::StrCat("unexpected token '", Peek().text, "'"));
    tree_.root = root;
    return true;
  }

 private:
  const Token& Peek(size_t ahead = 0) const { return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)]; }
  const Token& Next() { return tokens_[std::min(pos_++, tokens_.size() - 1)]; }
  bool IsOp(const Token& t, absl::string_view s) const { return t.kind == Tok::kOp && t.text == s; }
  bool IsWord(const Token& t, absl::string_view s) const { return t.kind == Tok::kIdent && t.text == s; }

  bool Fail(size_t offset, std::string reason) {
    if (!failed_) error_ = {offset, std::move(reason)};
    failed_ = true;
    return false;
  }
  int FailNode(size_t offset, std::string reason) {
    Fail(offset, std::move(reason));
    return -1;
  }

  int Add(Node n) {
    tree_.nodes.push_back(std::move(n));
    return static_cast<int>(tree_.nodes.size()) - 1;
  }
  ExprType TypeOf(int n) const { return tree_.nodes[n].type; }
  bool Constant(int n) const { return tree_.nodes[n].op == Op::kConst; }

  int Expression(int precedence) {
    int left = Primary();
    while (left >= 0) {
      const Token& t = Peek();
      bool negate = false;
      const Binary* bin = nullptr;
      size_t width = 1;
      if (IsWord(t, "not")) {
        const Token& after = Peek(1);
        bin = FindBinary(after);
        if (bin == nullptr || !(bin->op == Op::kIn || bin->op == Op::kMatches || bin->op == Op::kContains ||
                                bin->op == Op::kStartsWith || bin->op == Op::kEndsWith)) {
          return FailNode(t.offset, "unexpected token 'not'");
        }
        negate = true;
        width = 2;
      } else if (IsOp(t, "|") || IsOp(t, "..") || IsOp(t, "??")) {
        return FailNode(t.offset, absl::StrCat("operator '", t.text, "' is not supported by meshdns's view"));
      } else {
        bin = FindBinary(t);
      }
      if (bin == nullptr || bin->precedence < precedence) break;
      const size_t at = t.offset;
      pos_ += width;
      const int right = Expression(bin->right ? bin->precedence : bin->precedence + 1);
      if (right < 0) return -1;
      left = MakeBinary(*bin, left, right, negate, at);
    }
    if (left >= 0 && precedence == 0 && IsOp(Peek(), "?")) {
      const size_t at = Next().offset;
      const int yes = Expression(0);
      if (yes < 0) return -1;
      if (!IsOp(Peek(), ":")) return FailNode(Peek().offset, "expected ':' in the conditional");
      ++pos_;
      const int no = Expression(0);
      if (no < 0) return -1;
      if (TypeOf(left) != ExprType::kBool) {
        return FailNode(at, absl::StrCat("non-bool expression (type ", TypeWord(TypeOf(left)),
                                         ") used as condition"));
      }
      ExprType type = TypeOf(yes);
      if (TypeOf(yes) != TypeOf(no)) {
        if (!Numeric(TypeOf(yes)) || !Numeric(TypeOf(no))) {
          return FailNode(at, "the branches of ?: have different types, which meshdns's view does not run");
        }
        type = ExprType::kFloat;
      }
      left = Add(Node{.op = Op::kCond, .type = type, .a = left, .b = yes, .c = no});
    }
    return left;
  }

  int MakeBinary(const Binary& bin, int l, int r, bool negate, size_t at) {
    const ExprType lt = TypeOf(l), rt = TypeOf(r);
    auto mismatch = [&]() {
      return FailNode(at, absl::StrCat("invalid operation: ", bin.spelling, " (mismatched types ", TypeWord(lt),
                                       " and ", TypeWord(rt), ")"));
    };
    Node n{.op = bin.op, .a = l, .b = r, .negate = negate};
    switch (bin.op) {
      case Op::kAnd: case Op::kOr:
        if (lt != ExprType::kBool || rt != ExprType::kBool) return mismatch();
        n.type = ExprType::kBool;
        break;
      case Op::kEq: case Op::kNe:
        if (lt == ExprType::kArray || rt == ExprType::kArray) {
          return FailNode(at, "comparing arrays is not supported by meshdns's view");
        }
        if (lt != rt && !(Numeric(lt) && Numeric(rt))) return mismatch();
        n.type = ExprType::kBool;
        break;
      case Op::kLt: case Op::kGt: case Op::kLe: case Op::kGe:
        if (!(Numeric(lt) && Numeric(rt)) && !(lt == ExprType::kString && rt == ExprType::kString)) return mismatch();
        n.type = ExprType::kBool;
        break;
      case Op::kAdd:
        if (lt == ExprType::kString && rt == ExprType::kString) {
          return FailNode(at, "joining strings with + is not supported by meshdns's view");
        }
        [[fallthrough]];
      case Op::kSub: case Op::kMul:
        if (!Numeric(lt) || !Numeric(rt)) return mismatch();
        n.type = lt == ExprType::kInt && rt == ExprType::kInt ? ExprType::kInt : ExprType::kFloat;
        break;
      case Op::kDiv: case Op::kPow:
        if (!Numeric(lt) || !Numeric(rt)) return mismatch();
        n.type = ExprType::kFloat;
        break;
      case Op::kMod:
        if (lt != ExprType::kInt || rt != ExprType::kInt) return mismatch();
        n.type = ExprType::kInt;
        break;
      case Op::kIn:
        if (rt != ExprType::kArray) {
          return FailNode(at, absl::StrCat("in needs an array such as ['A', 'AAAA'] on its right in meshdns's view, not ",
                                           TypeWord(rt)));
        }
        n.type = ExprType::kBool;
        break;
      case Op::kMatches:
        if (lt != ExprType::kString || rt != ExprType::kString) return mismatch();
        if (!Constant(r)) return FailNode(at, "matches needs a constant pattern in meshdns's view");
        {
          RE2::Options options;
          options.set_log_errors(false);
          auto re = std::make_shared<const re2::RE2>(tree_.nodes[r].text, options);
          if (!re->ok()) return FailNode(at, absl::StrCat("error parsing regexp: ", re->error()));
          n.re = std::move(re);
        }
        n.type = ExprType::kBool;
        break;
      case Op::kContains: case Op::kStartsWith: case Op::kEndsWith:
        if (lt != ExprType::kString || rt != ExprType::kString) return mismatch();
        n.type = ExprType::kBool;
        break;
      default: return FailNode(at, "unexpected operator");
    }
    return Add(std::move(n));
  }

  int Primary() {
    const Token& t = Peek();
    if (IsWord(t, "not") || IsOp(t, "!")) {
      ++pos_;
      const int operand = Expression(kUnaryNotPrecedence);
      if (operand < 0) return -1;
      if (TypeOf(operand) != ExprType::kBool) {
        return FailNode(t.offset, absl::StrCat("invalid operation: ", t.text, " (mismatched type ",
                                               TypeWord(TypeOf(operand)), ")"));
      }
      return Add(Node{.op = Op::kNot, .type = ExprType::kBool, .a = operand});
    }
    if (IsOp(t, "-") || IsOp(t, "+")) {
      ++pos_;
      const int operand = Expression(kUnarySignPrecedence);
      if (operand < 0) return -1;
      if (!Numeric(TypeOf(operand))) {
        return FailNode(t.offset, absl::StrCat("invalid operation: ", t.text, " (mismatched type ",
                                               TypeWord(TypeOf(operand)), ")"));
      }
      if (t.text == "+") return operand;
      return Add(Node{.op = Op::kNeg, .type = TypeOf(operand), .a = operand});
    }
    if (IsOp(t, "(")) {
      ++pos_;
      const int inner = Expression(0);
      if (inner < 0) return -1;
      if (!IsOp(Peek(), ")")) return FailNode(Peek().offset, "expected ')'");
      ++pos_;
      return Postfix(inner);
    }
    return Postfix(Secondary());
  }

  // Member access, indexes and slices: nothing in CoreDNS's environment has
  // members, and meshdns runs no indexing.
  int Postfix(int node) {
    if (node < 0) return -1;
    const Token& t = Peek();
    if (IsOp(t, ".") || IsOp(t, "?.") || IsOp(t, "[")) {
      return FailNode(t.offset, absl::StrCat("'", t.text, "' (member access or index) is not supported by meshdns's view"));
    }
    return node;
  }

  int Secondary() {
    const Token t = Next();
    switch (t.kind) {
      case Tok::kEnd: return FailNode(t.offset, "unexpected end of expression");
      case Tok::kString: return Add(Node{.op = Op::kConst, .type = ExprType::kString, .text = t.value});
      case Tok::kNumber: return NumberNode(t);
      case Tok::kOp:
        if (t.text == "[") return ArrayNode(t);
        if (t.text == "{") return FailNode(t.offset, "maps are not supported by meshdns's view");
        if (t.text == "#") return FailNode(t.offset, "predicates (#) are not supported by meshdns's view");
        return FailNode(t.offset, absl::StrCat("unexpected token '", t.text, "'"));
      case Tok::kIdent: break;
    }
    if (t.text == "true" || t.text == "false") {
      return Add(Node{.op = Op::kConst, .type = ExprType::kBool, .boolean = t.text == "true"});
    }
    if (t.text == "nil") return FailNode(t.offset, "nil is not supported by meshdns's view");
    if (t.text == "let" || t.text == "if" || t.text == "else") {
      return FailNode(t.offset, absl::StrCat("'", t.text, "' is not supported by meshdns's view"));
    }
    if (IsWordOperator(t.text)) return FailNode(t.offset, absl::StrCat("unexpected token '", t.text, "'"));
    const FuncInfo* f = FindFunc(t.text);
    if (!IsOp(Peek(), "(")) {
      if (f != nullptr) return FailNode(t.offset, absl::StrCat(t.text, " is a function: call it as ", t.text, "()"));
      return FailNode(t.offset, absl::StrCat("unknown name ", t.text));
    }
    if (f == nullptr) {
      if (IsBuiltin(t.text)) {
        return FailNode(t.offset, absl::StrCat("expr-lang's builtin ", t.text, "() is not supported by meshdns's view"));
      }
      return FailNode(t.offset, absl::StrCat("unknown func ", t.text));
    }
    ++pos_;  // (
    std::vector<int> args;
    while (!IsOp(Peek(), ")")) {
      if (!args.empty()) {
        if (!IsOp(Peek(), ",")) return FailNode(Peek().offset, "expected ',' or ')'");
        ++pos_;
        if (IsOp(Peek(), ")")) break;  // a trailing comma
      }
      const int arg = Expression(0);
      if (arg < 0) return -1;
      args.push_back(arg);
    }
    ++pos_;  // )
    if (static_cast<int>(args.size()) < f->args) {
      return FailNode(t.offset, absl::StrCat("not enough arguments to call ", f->name));
    }
    if (static_cast<int>(args.size()) > f->args) {
      return FailNode(t.offset, absl::StrCat("too many arguments to call ", f->name));
    }
    for (size_t i = 0; i < args.size(); ++i) {
      if (TypeOf(args[i]) != ExprType::kString) {
        return FailNode(t.offset, absl::StrCat("cannot use ", TypeWord(TypeOf(args[i])), " as argument (type string) to call ",
                                               f->name));
      }
    }
    Node n{.op = Op::kCall, .type = f->result, .func = f->func, .items = args};
    if (f->func == Func::kIncidr) {
      // Constants are read once here. One that cannot be read fails each
      // evaluation, and the view never matches, as in CoreDNS (which reports
      // it only when a query comes).
      if (Constant(args[0])) {
        IpAddress ip;
        n.constant_ip_ok = ParseIp(tree_.nodes[args[0]].text, ip);
        n.ip = ip;
      }
      if (Constant(args[1])) {
        Cidr net;
        n.constant_cidr_ok = ParseNetwork(tree_.nodes[args[1]].text, net);
        n.cidr = net;
      }
    }
    return Add(std::move(n));
  }

  int NumberNode(const Token& t) {
    std::string digits;
    for (char ch : t.text) {
      if (ch != '_') digits.push_back(ch);
    }
    const bool is_float = digits.find_first_of(".eE") != std::string::npos && !absl::StartsWithIgnoreCase(digits, "0x");
    if (is_float) {
      double v = 0;
      if (!absl::SimpleAtod(digits, &v)) return FailNode(t.offset, absl::StrCat("invalid float literal: ", t.text));
      return Add(Node{.op = Op::kConst, .type = ExprType::kFloat, .real = v});
    }
    int base = 10;
    absl::string_view body = digits;
    if (body.size() > 2 && body[0] == '0') {
      const char p = absl::ascii_tolower(static_cast<unsigned char>(body[1]));
      base = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 10;
      if (base != 10) body.remove_prefix(2);
    }
    uint64_t v = 0;
    bool ok = !body.empty();
    for (char ch : body) {
      int d = absl::ascii_isdigit(static_cast<unsigned char>(ch)) ? ch - '0'
                                                                  : absl::ascii_tolower(static_cast<unsigned char>(ch)) - 'a' + 10;
      if (d < 0 || d >= base || v > (static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - d) / base) {
        ok = false;
        break;
      }
      v = v * base + d;
    }
    if (!ok) return FailNode(t.offset, absl::StrCat("invalid integer literal: ", t.text));
    return Add(Node{.op = Op::kConst, .type = ExprType::kInt, .integer = static_cast<int64_t>(v)});
  }

  int ArrayNode(const Token& open) {
    std::vector<int> items;
    while (!IsOp(Peek(), "]")) {
      if (!items.empty()) {
        if (!IsOp(Peek(), ",")) return FailNode(Peek().offset, "expected ',' or ']'");
        ++pos_;
        if (IsOp(Peek(), "]")) break;
      }
      if (Peek().kind == Tok::kEnd) return FailNode(open.offset, "array not closed");
      const int item = Expression(0);
      if (item < 0) return -1;
      if (TypeOf(item) == ExprType::kArray) return FailNode(open.offset, "nested arrays are not supported by meshdns's view");
      items.push_back(item);
    }
    ++pos_;  // ]
    return Add(Node{.op = Op::kArray, .type = ExprType::kArray, .items = std::move(items)});
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  ViewExpression::Tree& tree_;
  ViewExpression::Error& error_;
  bool failed_ = false;
};

// ---- Evaluation ------------------------------------------------------------

struct Value {
  ExprType type = ExprType::kBool;
  bool boolean = false;
  int64_t integer = 0;
  double real = 0;
  absl::string_view text;

  double AsReal() const { return type == ExprType::kInt ? static_cast<double>(integer) : real; }
};

// Texts a query's facts are rendered into, once each per evaluation.
struct Scratch {
  char name[DnsName::kMaxWireSize * 4 + 2];
  char client[INET6_ADDRSTRLEN];
  char server[INET6_ADDRSTRLEN];
  char port[8];
  char server_port[8];
  char type[16];
  char klass[16];
};

absl::string_view IpText(const IpAddress& ip, char* buf) {
  if (ip.IsV4()) {
    inet_ntop(AF_INET, ip.bytes.data() + 12, buf, INET6_ADDRSTRLEN);
  } else {
    inet_ntop(AF_INET6, ip.bytes.data(), buf, INET6_ADDRSTRLEN);
  }
  return buf;
}

absl::string_view PortText(uint16_t port, char* buf) {
  const int n = std::snprintf(buf, 8, "%u", port);
  return {buf, static_cast<size_t>(n)};
}

// The name as CoreDNS's state.Name() gives it: lower case, dot at the end,
// special characters escaped as miekg/dns writes them.
absl::string_view NameText(const DnsName& name, char* buf) {
  if (name.IsRoot()) return ".";
  size_t n = 0;
  for (size_t i = 0; i < name.LabelCount(); ++i) {
    for (char c : name.Label(i)) {
      const auto u = static_cast<unsigned char>(absl::ascii_tolower(static_cast<unsigned char>(c)));
      if (u == '.' || u == '\\' || u == '"' || u == ';' || u == '(' || u == ')' || u == '@' || u == '$') {
        buf[n++] = '\\';
        buf[n++] = static_cast<char>(u);
      } else if (u <= 0x20 || u >= 0x7f) {
        n += std::snprintf(buf + n, 5, "\\%03u", u);
      } else {
        buf[n++] = static_cast<char>(u);
      }
    }
    buf[n++] = '.';
  }
  return {buf, n};
}

class Evaluator {
 public:
  Evaluator(const ViewExpression::Tree& tree, const ViewQuery& q) : tree_(tree), q_(q) {}

  // False on an evaluation error.
  bool Eval(int index, Value& out) {
    const Node& n = tree_.nodes[index];
    out.type = n.type;
    switch (n.op) {
      case Op::kConst:
        out.boolean = n.boolean;
        out.integer = n.integer;
        out.real = n.real;
        out.text = n.text;
        return true;
      case Op::kArray: return true;  // only read through `in`
      case Op::kCall: return Call(n, out);
      case Op::kNot: {
        Value v;
        if (!Eval(n.a, v)) return false;
        out.boolean = !v.boolean;
        return true;
      }
      case Op::kNeg: {
        Value v;
        if (!Eval(n.a, v)) return false;
        out.integer = static_cast<int64_t>(0 - static_cast<uint64_t>(v.integer));
        out.real = -v.real;
        return true;
      }
      case Op::kAnd: case Op::kOr: {
        Value l;
        if (!Eval(n.a, l)) return false;
        if (l.boolean == (n.op == Op::kOr)) {
          out.boolean = l.boolean;
          return true;
        }
        Value r;
        if (!Eval(n.b, r)) return false;
        out.boolean = r.boolean;
        return true;
      }
      case Op::kCond: {
        Value c;
        if (!Eval(n.a, c)) return false;
        Value v;
        if (!Eval(c.boolean ? n.b : n.c, v)) return false;
        out = v;
        if (n.type == ExprType::kFloat) out.real = v.AsReal();
        out.type = n.type;
        return true;
      }
      case Op::kIn: {
        Value l;
        if (!Eval(n.a, l)) return false;
        bool found = false;
        for (int item : tree_.nodes[n.b].items) {
          Value v;
          if (!Eval(item, v)) return false;
          if (Equal(l, v)) {
            found = true;
            break;
          }
        }
        out.boolean = found != n.negate;
        return true;
      }
      default: break;
    }
    Value l, r;
    if (!Eval(n.a, l)) return false;
    if (n.op != Op::kMatches && !Eval(n.b, r)) return false;
    const bool ints = l.type == ExprType::kInt && r.type == ExprType::kInt;
    const auto wrap = [](uint64_t v) { return static_cast<int64_t>(v); };
    switch (n.op) {
      case Op::kEq: out.boolean = Equal(l, r); return true;
      case Op::kNe: out.boolean = !Equal(l, r); return true;
      case Op::kLt: out.boolean = l.type == ExprType::kString ? l.text < r.text : Less(l, r); return true;
      case Op::kGt: out.boolean = l.type == ExprType::kString ? l.text > r.text : Less(r, l); return true;
      case Op::kLe: out.boolean = l.type == ExprType::kString ? l.text <= r.text : !Less(r, l) && !NaN(l, r); return true;
      case Op::kGe: out.boolean = l.type == ExprType::kString ? l.text >= r.text : !Less(l, r) && !NaN(l, r); return true;
      case Op::kAdd:
        if (ints) out.integer = wrap(static_cast<uint64_t>(l.integer) + static_cast<uint64_t>(r.integer));
        out.real = l.AsReal() + r.AsReal();
        return true;
      case Op::kSub:
        if (ints) out.integer = wrap(static_cast<uint64_t>(l.integer) - static_cast<uint64_t>(r.integer));
        out.real = l.AsReal() - r.AsReal();
        return true;
      case Op::kMul:
        if (ints) out.integer = wrap(static_cast<uint64_t>(l.integer) * static_cast<uint64_t>(r.integer));
        out.real = l.AsReal() * r.AsReal();
        return true;
      case Op::kDiv: out.real = l.AsReal() / r.AsReal(); return true;
      case Op::kPow: out.real = std::pow(l.AsReal(), r.AsReal()); return true;
      case Op::kMod:
        if (r.integer == 0) return false;  // Go: integer divide by zero
        out.integer = r.integer == -1 ? 0 : l.integer % r.integer;
        return true;
      case Op::kMatches: out.boolean = re2::RE2::PartialMatch(re2::StringPiece(l.text.data(), l.text.size()), *n.re) != n.negate; return true;
      case Op::kContains: out.boolean = absl::StrContains(l.text, r.text) != n.negate; return true;
      case Op::kStartsWith: out.boolean = absl::StartsWith(l.text, r.text) != n.negate; return true;
      case Op::kEndsWith: out.boolean = absl::EndsWith(l.text, r.text) != n.negate; return true;
      default: return false;
    }
  }

 private:
  static bool NaN(const Value& l, const Value& r) { return std::isnan(l.AsReal()) || std::isnan(r.AsReal()); }
  static bool Less(const Value& l, const Value& r) {
    if (l.type == ExprType::kInt && r.type == ExprType::kInt) return l.integer < r.integer;
    return l.AsReal() < r.AsReal();
  }
  static bool Equal(const Value& l, const Value& r) {
    if (l.type == ExprType::kString || r.type == ExprType::kString) {
      return l.type == r.type && l.text == r.text;
    }
    if (l.type == ExprType::kBool || r.type == ExprType::kBool) return l.type == r.type && l.boolean == r.boolean;
    if (l.type == ExprType::kInt && r.type == ExprType::kInt) return l.integer == r.integer;
    return l.AsReal() == r.AsReal();
  }

  bool Call(const Node& n, Value& out) {
    switch (n.func) {
      case Func::kIncidr: {
        IpAddress ip;
        if (n.ip) {
          if (!n.constant_ip_ok) return false;
          ip = *n.ip;
        } else {
          Value v;
          if (!Eval(n.items[0], v) || !ParseIp(v.text, ip)) return false;
        }
        Cidr net;
        if (n.cidr) {
          if (!n.constant_cidr_ok) return false;
          net = *n.cidr;
        } else {
          Value v;
          if (!Eval(n.items[1], v) || !ParseNetwork(v.text, net)) return false;
        }
        // Go's IPNet.Contains: an IPv4 address only in IPv4 networks.
        out.boolean = net.ContainsSameFamily(ip);
        return true;
      }
      case Func::kMetadata:
        // Only the metadata plugin fills it in, and meshdns runs none.
        out.text = "";
        return true;
      case Func::kType: out.text = TypeText(q_.qtype, scratch_.type); return true;
      case Func::kClass: out.text = ClassText(q_.qclass, scratch_.klass); return true;
      case Func::kName:
        if (name_.data() == nullptr) name_ = q_.name != nullptr ? NameText(*q_.name, scratch_.name) : ".";
        out.text = name_;
        return true;
      case Func::kProto: out.text = q_.tcp ? "tcp" : "udp"; return true;
      case Func::kSize: out.integer = static_cast<int64_t>(q_.size); return true;
      case Func::kClientIp: out.text = IpText(q_.client, scratch_.client); return true;
      case Func::kPort: out.text = PortText(q_.client_port, scratch_.port); return true;
      case Func::kServerIp: out.text = IpText(q_.server, scratch_.server); return true;
      case Func::kServerPort: out.text = PortText(q_.server_port, scratch_.server_port); return true;
      case Func::kId: out.integer = q_.id; return true;
      case Func::kOpcode: out.integer = q_.opcode; return true;
      case Func::kDo: out.boolean = q_.dnssec_ok; return true;
      case Func::kBufsize:
        // CoreDNS's edns.Size: 64K over TCP, and never below 512.
        out.integer = q_.tcp ? 65535 : std::max<int64_t>(512, q_.edns ? q_.edns_size : 0);
        return true;
    }
    return false;
  }

  const ViewExpression::Tree& tree_;
  const ViewQuery& q_;
  Scratch scratch_;
  absl::string_view name_;
};

}  // namespace

std::optional<ViewExpression> ViewExpression::Compile(absl::string_view text, Error& error) {
  std::vector<Token> tokens;
  if (!Lexer(text).Run(tokens, error)) return std::nullopt;
  if (tokens.size() == 1) {
    error = {0, "an empty expression"};
    return std::nullopt;
  }
  auto tree = std::make_shared<Tree>();
  if (!Parser(std::move(tokens), *tree, error).Run()) return std::nullopt;
  return ViewExpression(std::move(tree));
}

bool ViewExpression::Matches(const ViewQuery& query) const {
  const Node& root = tree_->nodes[tree_->root];
  if (root.type != ExprType::kBool) return false;  // as CoreDNS: anything but a boolean true is false
  Evaluator eval(*tree_, query);
  Value v;
  return eval.Eval(tree_->root, v) && v.boolean;
}

absl::string_view TypeText(uint16_t qtype, char* buf) {
  if (const char* name = TypeName(qtype)) return name;
  const int n = std::snprintf(buf, 16, "TYPE%u", qtype);
  return {buf, static_cast<size_t>(n)};
}

absl::string_view ClassText(uint16_t qclass, char* buf) {
  switch (qclass) {
    case 1: return "IN";
    case 2: return "CS";
    case 3: return "CH";
    case 4: return "HS";
    case 254: return "NONE";
    case 255: return "ANY";
    default: break;
  }
  const int n = std::snprintf(buf, 16, "CLASS%u", qclass);
  return {buf, static_cast<size_t>(n)};
}

}  // namespace meshdns
