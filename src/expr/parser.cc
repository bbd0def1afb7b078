// Lexer and parser for the condition language: source text -> Program (a syntax tree).
//
// The grammar and operator table follow expr-lang v1.17 (precedence climbing; unary operators
// bind their operand at their own precedence; comparisons chain: a < b < c means
// a < b && b < c; `??` cannot be mixed with other binary operators without parentheses).

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "expr/program.h"

namespace ramp::expr {
namespace {

enum class Tok : uint8_t { kEof, kIdent, kNumber, kString, kOperator, kBracket };

struct Token {
  Tok kind = Tok::kEof;
  std::string text;  // identifier / operator / bracket text; decoded string; number spelling
  int32_t offset = 0;
};

bool isAlnum(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '$' || c >= 0x80;
}
bool isDigit(char c) { return c >= '0' && c <= '9'; }

struct LexError {
  int32_t offset;
  std::string message;
};

void appendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}

  // Returns all tokens, ending with kEof, or the first error.
  std::optional<LexError> run(std::vector<Token>& out) {
    while (true) {
      skipSpaceAndComments();
      if (error_) return error_;
      if (pos_ >= src_.size()) {
        out.push_back(Token{Tok::kEof, "", static_cast<int32_t>(pos_)});
        return std::nullopt;
      }
      Token t;
      if (!next(t)) return error_;
      out.push_back(std::move(t));
    }
  }

 private:
  char peek(size_t ahead = 0) const {
    return pos_ + ahead < src_.size() ? src_[pos_ + ahead] : '\0';
  }
  void fail(size_t at, std::string msg) {
    if (!error_) error_ = LexError{static_cast<int32_t>(at), std::move(msg)};
  }

  void skipSpaceAndComments() {
    while (pos_ < src_.size()) {
      char c = src_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
        ++pos_;
      } else if (c == '/' && peek(1) == '/') {
        while (pos_ < src_.size() && src_[pos_] != '\n') ++pos_;
      } else if (c == '/' && peek(1) == '*') {
        size_t start = pos_;
        pos_ += 2;
        while (pos_ < src_.size() && !(src_[pos_] == '*' && peek(1) == '/')) ++pos_;
        if (pos_ >= src_.size()) {
          fail(start, "unclosed comment");
          return;
        }
        pos_ += 2;
      } else {
        return;
      }
    }
  }

  bool next(Token& t) {
    size_t start = pos_;
    t.offset = static_cast<int32_t>(start);
    char c = src_[pos_];
    if (c == '\'' || c == '"') return lexString(t, c);
    if (c == '`') {
      size_t end = src_.find('`', pos_ + 1);
      if (end == std::string_view::npos) {
        fail(start, "literal not terminated");
        return false;
      }
      t.kind = Tok::kString;
      t.text = std::string(src_.substr(pos_ + 1, end - pos_ - 1));
      pos_ = end + 1;
      return true;
    }
    if (isDigit(c) || (c == '.' && isDigit(peek(1)))) return lexNumber(t);
    if (isAlnum(static_cast<unsigned char>(c))) {
      while (pos_ < src_.size() && isAlnum(static_cast<unsigned char>(src_[pos_]))) ++pos_;
      t.text = std::string(src_.substr(start, pos_ - start));
      static constexpr std::string_view kWordOps[] = {
          "not",        "in",       "or",  "and", "matches", "contains",
          "startsWith", "endsWith", "let", "if",  "else"};
      t.kind = Tok::kIdent;
      for (std::string_view w : kWordOps) {
        if (t.text == w) t.kind = Tok::kOperator;
      }
      return true;
    }
    ++pos_;
    t.kind = Tok::kOperator;
    switch (c) {
      case '(':
      case '[':
      case '{':
      case ')':
      case ']':
      case '}': t.kind = Tok::kBracket; break;
      case '?':
        if (peek() == '.' || peek() == '?') ++pos_;
        break;
      case '.':
        if (peek() == '.') ++pos_;
        break;
      case '#': break;
      case '|':
        if (peek() == '|') ++pos_;
        break;
      case ':':
        if (peek() == ':') ++pos_;
        break;
      case ',':
      case ';':
      case '%':
      case '+':
      case '-':
      case '^':
      case '/': break;
      case '&':
      case '!':
      case '=':
      case '*':
      case '<':
      case '>':
        if (peek() == '&' || peek() == '=' || peek() == '*') ++pos_;
        break;
      default: {
        char buf[64];
        unsigned char u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7f) {
          std::snprintf(buf, sizeof buf, "unrecognized character: U+%04X '%c'", u, c);
        } else {
          std::snprintf(buf, sizeof buf, "unrecognized character: U+%04X", u);
        }
        fail(start, buf);
        return false;
      }
    }
    t.text = std::string(src_.substr(start, pos_ - start));
    return true;
  }

  bool lexString(Token& t, char quote) {
    size_t start = pos_++;
    std::string out;
    while (true) {
      if (pos_ >= src_.size() || src_[pos_] == '\n') {
        fail(start, "literal not terminated");
        return false;
      }
      char c = src_[pos_++];
      if (c == quote) break;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= src_.size()) {
        fail(start, "literal not terminated");
        return false;
      }
      size_t escAt = pos_ - 1;
      char e = src_[pos_++];
      switch (e) {
        case 'a': out += '\a'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'v': out += '\v'; break;
        case '\\': out += '\\'; break;
        case '\'': out += '\''; break;
        case '"': out += '"'; break;
        case 'x':
        case 'u':
        case 'U': {
          int n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          uint32_t v = 0;
          for (int i = 0; i < n; ++i) {
            int h = hexValue(peek());
            if (h < 0) {
              fail(escAt, "invalid char escape");
              return false;
            }
            v = v * 16 + static_cast<uint32_t>(h);
            ++pos_;
          }
          if (e == 'x') {
            out += static_cast<char>(v);
          } else {
            if (v > 0x10FFFF || (v >= 0xD800 && v < 0xE000)) {
              fail(escAt, "invalid char escape");
              return false;
            }
            appendUtf8(out, v);
          }
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            uint32_t v = static_cast<uint32_t>(e - '0');
            for (int i = 0; i < 2; ++i) {
              char d = peek();
              if (d < '0' || d > '7') {
                fail(escAt, "invalid char escape");
                return false;
              }
              v = v * 8 + static_cast<uint32_t>(d - '0');
              ++pos_;
            }
            if (v > 255) {
              fail(escAt, "invalid char escape");
              return false;
            }
            out += static_cast<char>(v);
            break;
          }
          fail(escAt, "invalid char escape");
          return false;
      }
    }
    t.kind = Tok::kString;
    t.text = std::move(out);
    return true;
  }

  bool lexNumber(Token& t) {
    size_t start = pos_;
    std::string_view digits = "0123456789_";
    if (peek() == '0') {
      char x = peek(1);
      if (x == 'x' || x == 'X') {
        digits = "0123456789abcdefABCDEF_";
        pos_ += 2;
      } else if (x == 'o' || x == 'O') {
        digits = "01234567_";
        pos_ += 2;
      } else if (x == 'b' || x == 'B') {
        digits = "01_";
        pos_ += 2;
      }
    }
    auto run = [&] {
      while (pos_ < src_.size() && digits.find(src_[pos_]) != std::string_view::npos) ++pos_;
    };
    run();
    if (peek() == '.' && peek(1) != '.') {
      ++pos_;
      run();
    }
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      run();
    }
    if (pos_ < src_.size() && isAlnum(static_cast<unsigned char>(src_[pos_]))) {
      ++pos_;
      fail(start, "bad number syntax: \"" + std::string(src_.substr(start, pos_ - start)) + "\"");
      return false;
    }
    t.kind = Tok::kNumber;
    t.text = std::string(src_.substr(start, pos_ - start));
    return true;
  }

  std::string_view src_;
  size_t pos_ = 0;
  std::optional<LexError> error_;
};

struct BuiltinInfo {
  std::string_view name;
  Builtin fn;
  int minArgs;
  int maxArgs;       // -1: any number
  int predicateArg;  // index of the closure argument, -1 for none
};

constexpr BuiltinInfo kBuiltins[] = {
    {"asInt", Builtin::kAsInt, 1, 1, -1},
    {"asFloat", Builtin::kAsFloat, 1, 1, -1},
    {"isNaN", Builtin::kIsNaN, 1, 1, -1},
    {"isInf", Builtin::kIsInf, 1, 1, -1},
    {"isNil", Builtin::kIsNil, 1, 1, -1},
    {"default", Builtin::kDefault, 2, 2, -1},
    {"all", Builtin::kAll, 2, 2, 1},
    {"any", Builtin::kAny, 2, 2, 1},
    {"none", Builtin::kNone, 2, 2, 1},
    {"one", Builtin::kOne, 2, 2, 1},
    {"filter", Builtin::kFilter, 2, 2, 1},
    {"map", Builtin::kMap, 2, 2, 1},
    {"count", Builtin::kCount, 1, 2, 1},
    {"sum", Builtin::kSum, 1, 2, 1},
    {"find", Builtin::kFind, 2, 2, 1},
    {"findIndex", Builtin::kFindIndex, 2, 2, 1},
    {"findLast", Builtin::kFindLast, 2, 2, 1},
    {"findLastIndex", Builtin::kFindLastIndex, 2, 2, 1},
    {"len", Builtin::kLen, 1, 1, -1},
    {"abs", Builtin::kAbs, 1, 1, -1},
    {"ceil", Builtin::kCeil, 1, 1, -1},
    {"floor", Builtin::kFloor, 1, 1, -1},
    {"round", Builtin::kRound, 1, 1, -1},
    {"int", Builtin::kInt, 1, 1, -1},
    {"float", Builtin::kFloat, 1, 1, -1},
    {"string", Builtin::kString, 1, 1, -1},
    {"max", Builtin::kMax, 1, -1, -1},
    {"min", Builtin::kMin, 1, -1, -1},
    {"mean", Builtin::kMean, 1, -1, -1},
    {"median", Builtin::kMedian, 1, -1, -1},
    {"upper", Builtin::kUpper, 1, 1, -1},
    {"lower", Builtin::kLower, 1, 1, -1},
    {"trim", Builtin::kTrim, 1, 2, -1},
    {"trimPrefix", Builtin::kTrimPrefix, 1, 2, -1},
    {"trimSuffix", Builtin::kTrimSuffix, 1, 2, -1},
    {"hasPrefix", Builtin::kHasPrefix, 2, 2, -1},
    {"hasSuffix", Builtin::kHasSuffix, 2, 2, -1},
    {"indexOf", Builtin::kIndexOf, 2, 2, -1},
    {"split", Builtin::kSplit, 2, 2, -1},
    {"join", Builtin::kJoin, 1, 2, -1},
    {"first", Builtin::kFirst, 1, 1, -1},
    {"last", Builtin::kLast, 1, 1, -1},
    {"keys", Builtin::kKeys, 1, 1, -1},
    {"values", Builtin::kValues, 1, 1, -1},
    {"reverse", Builtin::kReverse, 1, 1, -1},
    {"type", Builtin::kType, 1, 1, -1},
    {"now", Builtin::kNow, 0, 0, -1},
    {"duration", Builtin::kDuration, 1, 1, -1},
};

const BuiltinInfo* findBuiltin(std::string_view name) {
  for (const BuiltinInfo& b : kBuiltins) {
    if (b.name == name) return &b;
  }
  return nullptr;
}

struct BinaryInfo {
  std::string_view text;
  int precedence;
  bool rightAssoc;
  Op op;
  NodeKind kind;
};

constexpr BinaryInfo kBinary[] = {
    {"|", 0, false, Op::kNone, NodeKind::kCall},
    {"or", 10, false, Op::kNone, NodeKind::kOr},
    {"||", 10, false, Op::kNone, NodeKind::kOr},
    {"and", 15, false, Op::kNone, NodeKind::kAnd},
    {"&&", 15, false, Op::kNone, NodeKind::kAnd},
    {"==", 20, false, Op::kEq, NodeKind::kBinary},
    {"!=", 20, false, Op::kNe, NodeKind::kBinary},
    {"<", 20, false, Op::kLt, NodeKind::kBinary},
    {">", 20, false, Op::kGt, NodeKind::kBinary},
    {">=", 20, false, Op::kGe, NodeKind::kBinary},
    {"<=", 20, false, Op::kLe, NodeKind::kBinary},
    {"in", 20, false, Op::kIn, NodeKind::kBinary},
    {"matches", 20, false, Op::kNone, NodeKind::kBinary},
    {"contains", 20, false, Op::kContains, NodeKind::kBinary},
    {"startsWith", 20, false, Op::kStartsWith, NodeKind::kBinary},
    {"endsWith", 20, false, Op::kEndsWith, NodeKind::kBinary},
    {"..", 25, false, Op::kRange, NodeKind::kBinary},
    {"+", 30, false, Op::kAdd, NodeKind::kBinary},
    {"-", 30, false, Op::kSub, NodeKind::kBinary},
    {"*", 60, false, Op::kMul, NodeKind::kBinary},
    {"/", 60, false, Op::kDiv, NodeKind::kBinary},
    {"%", 60, false, Op::kMod, NodeKind::kBinary},
    {"**", 100, true, Op::kPow, NodeKind::kBinary},
    {"^", 100, true, Op::kPow, NodeKind::kBinary},
    {"??", 500, false, Op::kNone, NodeKind::kCoalesce},
};

const BinaryInfo* findBinary(const Token& t) {
  if (t.kind != Tok::kOperator) return nullptr;
  for (const BinaryInfo& b : kBinary) {
    if (b.text == t.text) return &b;
  }
  return nullptr;
}

bool negatable(const Token& t) {
  return t.kind == Tok::kOperator &&
         (t.text == "in" || t.text == "matches" || t.text == "contains" || t.text == "startsWith" ||
          t.text == "endsWith");
}

std::string describe(const Token& t) {
  switch (t.kind) {
    case Tok::kEof: return "end of expression";
    case Tok::kString: return "token string \"" + t.text + "\"";
    default: return "token '" + t.text + "'";
  }
}

class Parser {
 public:
  Parser(Program& program, std::vector<Token> tokens) : prog_(program), toks_(std::move(tokens)) {}

  bool parseAll() {
    int32_t root = parseExpression(0);
    if (ok() && cur().kind != Tok::kEof) fail(cur(), "unexpected " + describe(cur()));
    prog_.root = root;
    if (!ok()) return false;
    for (size_t i = 0; i < prog_.nodes.size(); ++i) {
      const Node& n = prog_.nodes[i];
      auto kindOf = [&](size_t k) { return prog_.nodes[static_cast<size_t>(n.kids[k])].kind; };
      bool check = false;
      if (n.kind == NodeKind::kBinary && (n.op == Op::kEq || n.op == Op::kNe)) {
        check = (kindOf(0) == NodeKind::kResult && kindOf(1) == NodeKind::kLiteral) ||
                (kindOf(0) == NodeKind::kLiteral && kindOf(1) == NodeKind::kResult);
      } else if (n.kind == NodeKind::kAnd || n.kind == NodeKind::kOr) {
        check = kindOf(0) == NodeKind::kResult || kindOf(1) == NodeKind::kResult;
      } else if (n.kind == NodeKind::kUnary && n.op == Op::kNot) {
        check = kindOf(0) == NodeKind::kResult;
      }
      if (check) prog_.staticChecks.push_back(static_cast<int32_t>(i));
    }
    return true;
  }

  const std::optional<LexError>& error() const { return error_; }

 private:
  bool ok() const { return !error_.has_value(); }
  const Token& cur() const { return toks_[pos_]; }
  const Token& peekTok(size_t ahead) const {
    return toks_[std::min(pos_ + ahead, toks_.size() - 1)];
  }
  void advance() {
    if (pos_ + 1 < toks_.size()) ++pos_;
  }
  bool is(Tok kind, std::string_view text) const {
    return cur().kind == kind && cur().text == text;
  }
  void fail(const Token& t, std::string msg) {
    if (!error_) error_ = LexError{t.offset, std::move(msg)};
  }
  void failAt(int32_t offset, std::string msg) {
    if (!error_) error_ = LexError{offset, std::move(msg)};
  }
  void expect(Tok kind, std::string_view text) {
    if (is(kind, text)) {
      advance();
      return;
    }
    if (cur().kind == Tok::kEof) {
      fail(cur(), "unexpected end of expression");
    } else {
      fail(cur(), "unexpected " + describe(cur()));
    }
  }

  // Appends a node; its depth is one more than its deepest child's.
  int32_t add(Node n) {
    int depth = 1;
    for (int32_t k : n.kids) {
      if (k >= 0) depth = std::max(depth, depth_[static_cast<size_t>(k)] + 1);
    }
    if (depth > kMaxTreeDepth) failAt(n.offset, "expression is nested too deeply");
    prog_.nodes.push_back(std::move(n));
    depth_.push_back(depth);
    return static_cast<int32_t>(prog_.nodes.size() - 1);
  }
  int32_t literal(Value v, int32_t offset) {
    Node n;
    n.kind = NodeKind::kLiteral;
    n.literal = std::move(v);
    n.offset = offset;
    return add(std::move(n));
  }
  int32_t placeholder() { return literal(Value(), cur().offset); }

  struct NestGuard {
    explicit NestGuard(Parser& p) : p_(p) {
      if (++p_.nesting_ > kMaxNesting) p_.fail(p_.cur(), "expression is nested too deeply");
    }
    ~NestGuard() { --p_.nesting_; }
    Parser& p_;
  };

  int32_t parseExpression(int precedence) {
    NestGuard guard(*this);
    if (!ok()) return placeholder();
    if (precedence == 0 && is(Tok::kOperator, "let")) {
      fail(cur(), "variable declarations (let) are not supported");
      return placeholder();
    }
    int32_t left = parsePrimary();
    std::string prevOp;
    while (ok() && cur().kind == Tok::kOperator) {
      Token opTok = cur();
      bool negate = false;
      if (opTok.text == "not") {
        const Token& nextTok = peekTok(1);
        if (!negatable(nextTok)) {
          advance();
          fail(cur(), "unexpected " + describe(cur()));
          break;
        }
        const BinaryInfo* b = findBinary(nextTok);
        if (b == nullptr || b->precedence < precedence) break;
        advance();
        opTok = cur();
        negate = true;
      }
      const BinaryInfo* info = findBinary(opTok);
      if (info == nullptr || info->precedence < precedence) break;
      advance();
      if (prevOp == "??" && opTok.text != "??") {
        fail(opTok, "operator (" + opTok.text +
                        ") and coalesce expressions (?\?) cannot be mixed; wrap either in "
                        "parentheses");
        break;
      }
      if (opTok.text == "matches") {
        failAt(opTok.offset, "operator 'matches' is not supported");
        unsupported_ = true;
        break;
      }
      if (opTok.text == "|") {
        Token name = cur();
        if (name.kind != Tok::kIdent) {
          fail(name, "unexpected " + describe(name));
          break;
        }
        advance();
        left = parseCall(name, {left});
      } else if (info->precedence == 20) {
        left = parseComparison(left, opTok, negate);
      } else {
        int32_t right = parseExpression(info->rightAssoc ? info->precedence : info->precedence + 1);
        Node n;
        n.kind = info->kind;
        n.op = info->op;
        n.offset = opTok.offset;
        n.kids = {left, right};
        left = add(std::move(n));
      }
      prevOp = opTok.text;
    }
    if (precedence == 0) left = parseConditional(left);
    return left;
  }

  int32_t comparisonNode(int32_t left, int32_t right, const Token& opTok, bool negate) {
    const BinaryInfo* info = findBinary(opTok);
    Node n;
    n.kind = NodeKind::kBinary;
    n.op = info->op;
    n.offset = opTok.offset;
    n.kids = {left, right};
    int32_t node = add(std::move(n));
    if (!negate) return node;
    Node neg;
    neg.kind = NodeKind::kUnary;
    neg.op = Op::kNot;
    neg.offset = opTok.offset;
    neg.kids = {node};
    return add(std::move(neg));
  }

  int32_t parseComparison(int32_t left, Token opTok, bool negate) {
    int32_t root = -1;
    while (true) {
      int32_t right = parseExpression(21);
      int32_t cmp = comparisonNode(left, right, opTok, negate);
      if (root < 0) {
        root = cmp;
      } else {
        Node n;
        n.kind = NodeKind::kAnd;
        n.offset = opTok.offset;
        n.kids = {root, cmp};
        root = add(std::move(n));
      }
      left = right;
      if (!ok()) break;
      negate = false;
      if (is(Tok::kOperator, "not") && negatable(peekTok(1))) {
        advance();
        negate = true;
      }
      const BinaryInfo* info = findBinary(cur());
      if (info == nullptr || info->precedence != 20) break;
      if (cur().text == "matches") {
        failAt(cur().offset, "operator 'matches' is not supported");
        unsupported_ = true;
        break;
      }
      opTok = cur();
      advance();
    }
    return root;
  }

  int32_t parseConditional(int32_t node) {
    while (ok() && is(Tok::kOperator, "?")) {
      int32_t offset = cur().offset;
      advance();
      int32_t a, b;
      if (is(Tok::kOperator, ":")) {
        advance();
        a = node;
        b = parseExpression(0);
      } else {
        a = parseExpression(0);
        expect(Tok::kOperator, ":");
        b = parseExpression(0);
      }
      Node n;
      n.kind = NodeKind::kTernary;
      n.offset = offset;
      n.kids = {node, a, b};
      node = add(std::move(n));
    }
    return node;
  }

  int32_t parsePrimary() {
    if (!ok()) return placeholder();
    const Token t = cur();
    if (t.kind == Tok::kOperator) {
      Op op = Op::kNone;
      int prec = 0;
      if (t.text == "not" || t.text == "!") {
        op = Op::kNot;
        prec = 50;
      } else if (t.text == "-") {
        op = Op::kNeg;
        prec = 90;
      } else if (t.text == "+") {
        op = Op::kPlus;
        prec = 90;
      }
      if (op != Op::kNone) {
        advance();
        int32_t operand = parseExpression(prec);
        Node n;
        n.kind = NodeKind::kUnary;
        n.op = op;
        n.offset = t.offset;
        n.kids = {operand};
        return parsePostfix(add(std::move(n)));
      }
    }
    if (t.kind == Tok::kBracket && t.text == "(") {
      advance();
      int32_t inner = parseExpression(0);
      expect(Tok::kBracket, ")");
      return parsePostfix(inner);
    }
    if (t.kind == Tok::kOperator && (t.text == "#" || t.text == ".")) {
      if (closureDepth_ == 0) {
        fail(t, "cannot use pointer accessor outside closure");
        return placeholder();
      }
      Node n;
      n.kind = NodeKind::kPointer;
      n.offset = t.offset;
      if (t.text == "#") {
        advance();
        if (cur().kind == Tok::kIdent) {
          if (cur().text != "index") {
            fail(cur(), "unknown pointer #" + cur().text);
            return placeholder();
          }
          n.kind = NodeKind::kIndex;
          advance();
        }
      }
      // For ".field" the "." stays current and parsePostfix reads the member access.
      return parsePostfix(add(std::move(n)));
    }
    return parseSecondary();
  }

  int32_t parseSecondary() {
    const Token t = cur();
    int32_t node = -1;
    switch (t.kind) {
      case Tok::kIdent:
        advance();
        if (t.text == "true") return literal(Value::boolean(true), t.offset);
        if (t.text == "false") return literal(Value::boolean(false), t.offset);
        if (t.text == "nil") return literal(Value(), t.offset);
        if (is(Tok::kBracket, "(")) {
          node = parseCall(t, {});
        } else if (t.text == "result") {
          Node n;
          n.kind = NodeKind::kResult;
          n.offset = t.offset;
          node = add(std::move(n));
        } else {
          fail(t, "unknown name " + t.text);
          return placeholder();
        }
        break;
      case Tok::kNumber: advance(); return parseNumber(t);
      case Tok::kString:
        advance();
        node = literal(Value::string(t.text), t.offset);
        break;
      case Tok::kBracket:
        if (t.text == "[") {
          node = parseList();
          break;
        }
        if (t.text == "{") {
          node = parseMapLiteral();
          break;
        }
        [[fallthrough]];
      default:
        if (t.kind == Tok::kEof) {
          fail(t, "unexpected end of expression");
        } else {
          fail(t, "unexpected " + describe(t));
        }
        return placeholder();
    }
    return parsePostfix(node);
  }

  int32_t parseNumber(const Token& t) {
    std::string s;
    for (char c : t.text) {
      if (c != '_') s += c;
    }
    std::string lower = s;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    int base = 10;
    size_t skip = 0;
    if (lower.starts_with("0x")) {
      base = 16;
      skip = 2;
    } else if (lower.starts_with("0o")) {
      base = 8;
      skip = 2;
    } else if (lower.starts_with("0b")) {
      base = 2;
      skip = 2;
    } else if (lower.find_first_of(".e") != std::string::npos) {
      double d = 0;
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
      if (ec != std::errc() || p != s.data() + s.size()) {
        fail(t, "invalid float literal: " + t.text);
        return placeholder();
      }
      return literal(Value::floating(d), t.offset);
    }
    int64_t v = 0;
    const char* b = s.data() + skip;
    const char* e = s.data() + s.size();
    auto [p, ec] = std::from_chars(b, e, v, base);
    if (ec == std::errc::result_out_of_range) {
      fail(t, "integer literal is too large");
      return placeholder();
    }
    if (ec != std::errc() || p != e || b == e) {
      fail(t, "invalid integer literal: " + t.text);
      return placeholder();
    }
    return literal(Value::integer(v), t.offset);
  }

  int32_t parseList() {
    Node n;
    n.kind = NodeKind::kList;
    n.offset = cur().offset;
    expect(Tok::kBracket, "[");
    while (ok() && !is(Tok::kBracket, "]")) {
      if (!n.kids.empty()) {
        expect(Tok::kOperator, ",");
        if (is(Tok::kBracket, "]")) break;
      }
      n.kids.push_back(parseExpression(0));
    }
    expect(Tok::kBracket, "]");
    return add(std::move(n));
  }

  int32_t parseMapLiteral() {
    Node n;
    n.kind = NodeKind::kMap;
    n.offset = cur().offset;
    expect(Tok::kBracket, "{");
    while (ok() && !is(Tok::kBracket, "}")) {
      if (!n.kids.empty()) {
        expect(Tok::kOperator, ",");
        if (is(Tok::kBracket, "}")) break;
      }
      const Token k = cur();
      if (k.kind == Tok::kNumber || k.kind == Tok::kString || k.kind == Tok::kIdent) {
        n.kids.push_back(literal(Value::string(k.text), k.offset));
        advance();
      } else if (k.kind == Tok::kBracket && k.text == "(") {
        n.kids.push_back(parseExpression(0));
      } else {
        fail(k,
             "a map key must be a quoted string, a number, an identifier, or an expression "
             "in parentheses (unexpected " +
                 describe(k) + ")");
        break;
      }
      expect(Tok::kOperator, ":");
      n.kids.push_back(parseExpression(0));
    }
    expect(Tok::kBracket, "}");
    return add(std::move(n));
  }

  int32_t parseCall(const Token& name, std::vector<int32_t> args) {
    const BuiltinInfo* info = findBuiltin(name.text);
    if (info == nullptr) {
      fail(name, "unknown func " + name.text);
      return placeholder();
    }
    if (info->fn == Builtin::kNow || info->fn == Builtin::kDuration) prog_.usesTime = true;
    expect(Tok::kBracket, "(");
    const size_t piped = args.size();  // the pipe operator passes its left side first
    while (ok() && !is(Tok::kBracket, ")")) {
      if (args.size() > piped) {
        expect(Tok::kOperator, ",");
        if (is(Tok::kBracket, ")")) break;
      }
      if (static_cast<int>(args.size()) == info->predicateArg) {
        args.push_back(parsePredicate());
      } else {
        args.push_back(parseExpression(0));
      }
    }
    expect(Tok::kBracket, ")");
    if (!ok()) return placeholder();
    int n = static_cast<int>(args.size());
    if (n < info->minArgs || (info->maxArgs >= 0 && n > info->maxArgs)) {
      std::string expected =
          info->maxArgs < 0 ? "at least " + std::to_string(info->minArgs)
          : info->minArgs == info->maxArgs
              ? std::to_string(info->minArgs)
              : std::to_string(info->minArgs) + " or " + std::to_string(info->maxArgs);
      fail(name, "invalid number of arguments for " + name.text + " (expected " + expected +
                     ", got " + std::to_string(n) + ")");
      return placeholder();
    }
    Node call;
    call.kind = NodeKind::kCall;
    call.fn = info->fn;
    call.offset = name.offset;
    call.kids = std::move(args);
    return add(std::move(call));
  }

  int32_t parsePredicate() {
    int32_t offset = cur().offset;
    bool braces = is(Tok::kBracket, "{");
    if (braces) advance();
    ++closureDepth_;
    int32_t body = parseExpression(0);
    --closureDepth_;
    if (braces) expect(Tok::kBracket, "}");
    Node n;
    n.kind = NodeKind::kPredicate;
    n.offset = offset;
    n.kids = {body};
    return add(std::move(n));
  }

  int32_t member(int32_t base, int32_t property, int32_t offset, bool optional) {
    bool chained = base >= 0 && prog_.nodes[static_cast<size_t>(base)].kind == NodeKind::kChain;
    if (chained) base = prog_.nodes[static_cast<size_t>(base)].kids[0];
    Node n;
    n.kind = NodeKind::kMember;
    n.optional = optional;
    n.offset = offset;
    n.kids = {base, property};
    int32_t node = add(std::move(n));
    if (!chained && !optional) return node;
    Node c;
    c.kind = NodeKind::kChain;
    c.offset = offset;
    c.kids = {node};
    return add(std::move(c));
  }

  int32_t parsePostfix(int32_t node) {
    while (ok()) {
      const Token t = cur();
      bool optional = t.kind == Tok::kOperator && t.text == "?.";
      if (t.kind == Tok::kOperator && (t.text == "." || optional)) {
        advance();
        if (optional && is(Tok::kBracket, "[")) {
          node = parseIndex(node, true);
          continue;
        }
        const Token prop = cur();
        bool wordOp = prop.kind == Tok::kOperator && !prop.text.empty() &&
                      std::isalpha(static_cast<unsigned char>(prop.text[0]));
        if (prop.kind != Tok::kIdent && !wordOp) {
          fail(prop, "expected name");
          break;
        }
        advance();
        if (is(Tok::kBracket, "(")) {
          fail(prop, "method calls are not supported");
          break;
        }
        node = member(node, literal(Value::string(prop.text), prop.offset), prop.offset, optional);
      } else if (t.kind == Tok::kBracket && t.text == "[") {
        node = parseIndex(node, false);
      } else {
        break;
      }
    }
    return node;
  }

  int32_t parseIndex(int32_t node, bool optional) {
    const Token open = cur();
    expect(Tok::kBracket, "[");
    int32_t from = -1, to = -1;
    bool slice = false;
    if (is(Tok::kOperator, ":")) {
      slice = true;
      advance();
      if (!is(Tok::kBracket, "]")) to = parseExpression(0);
    } else {
      from = parseExpression(0);
      if (is(Tok::kOperator, ":")) {
        slice = true;
        advance();
        if (!is(Tok::kBracket, "]")) to = parseExpression(0);
      }
    }
    expect(Tok::kBracket, "]");
    if (!ok()) return placeholder();
    if (!slice) return member(node, from, open.offset, optional);
    bool chained = prog_.nodes[static_cast<size_t>(node)].kind == NodeKind::kChain;
    if (chained) node = prog_.nodes[static_cast<size_t>(node)].kids[0];
    Node n;
    n.kind = NodeKind::kSlice;
    n.offset = open.offset;
    n.kids = {node, from, to};
    int32_t s = add(std::move(n));
    if (!chained) return s;
    Node c;
    c.kind = NodeKind::kChain;
    c.offset = open.offset;
    c.kids = {s};
    return add(std::move(c));
  }

 public:
  bool unsupported_ = false;

 private:
  Program& prog_;
  std::vector<Token> toks_;
  size_t pos_ = 0;
  std::vector<int> depth_;
  int nesting_ = 0;
  int closureDepth_ = 0;
  std::optional<LexError> error_;
};

}  // namespace

std::string Program::position(int32_t offset) const {
  int line = 1;
  int32_t lineStart = 0;
  bool multiLine = source.find('\n') != std::string::npos;
  for (int32_t i = 0; i < offset && i < static_cast<int32_t>(source.size()); ++i) {
    if (source[static_cast<size_t>(i)] == '\n') {
      ++line;
      lineStart = i + 1;
    }
  }
  std::string col = "column " + std::to_string(offset - lineStart + 1);
  return multiLine ? "line " + std::to_string(line) + ", " + col : col;
}

Result<Program> parse(std::string_view source) {
  Program program;
  program.source = std::string(source);
  std::vector<Token> tokens;
  Lexer lexer(source);
  if (auto err = lexer.run(tokens)) {
    return makeError(ErrorCode::kParse, program.position(err->offset) + ": " + err->message);
  }
  Parser parser(program, std::move(tokens));
  if (!parser.parseAll()) {
    const LexError& err = *parser.error();
    return makeError(parser.unsupported_ ? ErrorCode::kUnsupported : ErrorCode::kParse,
                     program.position(err.offset) + ": " + err.message);
  }
  return program;
}

}  // namespace ramp::expr
