// The evaluator: walks a Program's tree with `result` bound to a metric result, following
// expr-lang's run-time rules (int/float arithmetic, Go comparison of NaN, nil on a missing map
// key, negative indexes counting from the end) and Argo's environment functions.

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "expr/expr.h"
#include "expr/program.h"

namespace ramp::expr {
namespace {

using Kind = Value::Kind;

// The Go type name expr would print for a value that came from Argo (JSON-decoded or []float64).
std::string goType(const Value& v) {
  switch (v.kind()) {
    case Kind::kNil: return "<nil>";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kFloat: return "float64";
    case Kind::kString: return "string";
    case Kind::kList: return "[]interface {}";
    case Kind::kMap: return "map[string]interface {}";
  }
  return "unknown";
}

// Go's %v for a value: lists space-separated, maps as map[k:v].
std::string goFormat(const Value& v) {
  if (v.isList()) {
    std::string s = "[";
    bool first = true;
    for (const Value& e : v.asList()) {
      if (!first) s += " ";
      first = false;
      s += goFormat(e);
    }
    return s + "]";
  }
  if (v.isMap()) {
    std::string s = "map[";
    bool first = true;
    for (const auto& [k, e] : v.asMap()) {
      if (!first) s += " ";
      first = false;
      s += k + ":" + goFormat(e);
    }
    return s + "]";
  }
  return formatValue(v);
}

// Go's int64(f) on amd64: NaN and out-of-range values give the minimum int64.
int64_t truncateToInt(double d) {
  if (std::isnan(d) || d >= 9223372036854775808.0 || d < -9223372036854775808.0) {
    return std::numeric_limits<int64_t>::min();
  }
  return static_cast<int64_t>(d);
}

int64_t wrapAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}
int64_t wrapSub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}
int64_t wrapMul(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
}

// Go's strconv.ParseInt(s, 10, 64).
bool parseGoInt(const std::string& s, int64_t& out, std::string& err) {
  std::string_view body = s;
  bool neg = false;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    neg = body[0] == '-';
    body.remove_prefix(1);
  }
  bool digits = !body.empty() &&
                std::all_of(body.begin(), body.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits) {
    err = "strconv.ParseInt: parsing \"" + s + "\": invalid syntax";
    return false;
  }
  uint64_t mag = 0;
  auto [p, ec] = std::from_chars(body.data(), body.data() + body.size(), mag);
  uint64_t limit = neg ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  if (ec != std::errc() || mag > limit) {
    err = "strconv.ParseInt: parsing \"" + s + "\": value out of range";
    return false;
  }
  out = neg ? static_cast<int64_t>(0 - mag) : static_cast<int64_t>(mag);
  return true;
}

// Go's strconv.ParseFloat(s, 64) for decimal input, "Inf", "Infinity" and "NaN".
bool parseGoFloat(const std::string& s, double& out, std::string& err) {
  std::string_view body = s;
  bool neg = false;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    neg = body[0] == '-';
    body.remove_prefix(1);
  }
  auto [p, ec] = std::from_chars(body.data(), body.data() + body.size(), out);
  if (body.empty() || body[0] == '+' || body[0] == '-' || p != body.data() + body.size() ||
      ec == std::errc::invalid_argument) {
    err = "strconv.ParseFloat: parsing \"" + s + "\": invalid syntax";
    return false;
  }
  if (ec == std::errc::result_out_of_range) {
    err = "strconv.ParseFloat: parsing \"" + s + "\": value out of range";
    return false;
  }
  if (neg) out = -out;
  return true;
}

// expr's == : numbers compare by value across int and float (NaN equals nothing), nil equals
// nil, other kinds must match and compare deeply.
bool equal(const Value& a, const Value& b) {
  if (a.isNumber() && b.isNumber()) {
    if (a.isInt() && b.isInt()) return a.asInt() == b.asInt();
    return a.toDouble() == b.toDouble();
  }
  return a == b;
}

class Evaluator {
 public:
  Evaluator(const Program& program, const Value& result) : prog_(program), result_(result) {}

  bool eval(int32_t n, Value& out);
  const Error& error() const { return error_; }

 private:
  const Node& node(int32_t n) const { return prog_.nodes[static_cast<size_t>(n)]; }

  bool fail(int32_t n, std::string message) {
    error_ = Error{ErrorCode::kInvalidArgument,
                   prog_.position(node(n).offset) + ": " + std::move(message)};
    return false;
  }

  // Returns a pointer to the node's value without copying when the node names an existing
  // value (a literal, `result`, `#`); otherwise evaluates into `tmp`. Null on error.
  const Value* ref(int32_t n, Value& tmp) {
    const Node& nd = node(n);
    switch (nd.kind) {
      case NodeKind::kLiteral: return &nd.literal;
      case NodeKind::kResult: return &result_;
      case NodeKind::kPointer:
        if (!scopes_.empty()) return scopes_.back().elem;
        break;
      default: break;
    }
    return eval(n, tmp) ? &tmp : nullptr;
  }

  bool spend(int32_t n, int64_t elements) {
    budget_ -= elements;
    if (budget_ < 0) return fail(n, "memory budget exceeded");
    return true;
  }

  bool unary(int32_t n, Value& out);
  bool logical(int32_t n, Value& out, bool isAnd);
  bool binary(int32_t n, Value& out);
  bool compare(int32_t n, Op op, const Value& a, const Value& b, Value& out);
  bool arithmetic(int32_t n, Op op, const Value& a, const Value& b, Value& out);
  bool member(int32_t n, Value& out);
  bool slice(int32_t n, Value& out);
  bool call(int32_t n, Value& out);
  bool closure(int32_t n, Value& out);
  bool aggregate(int32_t n, Builtin fn, Value& out);
  bool stringFn(int32_t n, Builtin fn, Value& out);

  struct Scope {
    const Value* elem;
    int64_t index;
  };

  const Program& prog_;
  const Value& result_;
  std::vector<Scope> scopes_;
  int64_t budget_ = kMemoryBudget;
  bool chainNil_ = false;
  Error error_;
};

bool Evaluator::eval(int32_t n, Value& out) {
  const Node& nd = node(n);
  switch (nd.kind) {
    case NodeKind::kLiteral: out = nd.literal; return true;
    case NodeKind::kResult: out = result_; return true;
    case NodeKind::kPointer:
      if (scopes_.empty()) return fail(n, "cannot use pointer accessor outside closure");
      out = *scopes_.back().elem;
      return true;
    case NodeKind::kIndex:
      if (scopes_.empty()) return fail(n, "cannot use pointer accessor outside closure");
      out = Value::integer(scopes_.back().index);
      return true;
    case NodeKind::kUnary: return unary(n, out);
    case NodeKind::kAnd: return logical(n, out, true);
    case NodeKind::kOr: return logical(n, out, false);
    case NodeKind::kCoalesce: {
      Value tmp;
      const Value* l = ref(nd.kids[0], tmp);
      if (l == nullptr) return false;
      if (!l->isNil()) {
        out = *l;
        return true;
      }
      return eval(nd.kids[1], out);
    }
    case NodeKind::kTernary: {
      Value tmp;
      const Value* c = ref(nd.kids[0], tmp);
      if (c == nullptr) return false;
      if (!c->isBool()) {
        return fail(n, "non-bool " + goType(*c) + " used as condition of ?:");
      }
      return eval(nd.kids[c->asBool() ? 1 : 2], out);
    }
    case NodeKind::kBinary: return binary(n, out);
    case NodeKind::kMember: return member(n, out);
    case NodeKind::kSlice: return slice(n, out);
    case NodeKind::kChain: {
      if (eval(nd.kids[0], out)) return true;
      if (!chainNil_) return false;
      chainNil_ = false;
      out = Value();
      return true;
    }
    case NodeKind::kList: {
      if (!spend(n, static_cast<int64_t>(nd.kids.size()))) return false;
      Value::List list(nd.kids.size());
      for (size_t i = 0; i < nd.kids.size(); ++i) {
        if (!eval(nd.kids[i], list[i])) return false;
      }
      out = Value::list(std::move(list));
      return true;
    }
    case NodeKind::kMap: {
      if (!spend(n, static_cast<int64_t>(nd.kids.size() / 2))) return false;
      Value::Map map;
      for (size_t i = 0; i + 1 < nd.kids.size(); i += 2) {
        Value key, val;
        if (!eval(nd.kids[i], key)) return false;
        if (!key.isString()) {
          return fail(nd.kids[i], "map keys must be strings, got " + goType(key));
        }
        if (!eval(nd.kids[i + 1], val)) return false;
        map.insert_or_assign(key.asString(), std::move(val));
      }
      out = Value::map(std::move(map));
      return true;
    }
    case NodeKind::kCall: return call(n, out);
    case NodeKind::kPredicate: return fail(n, "unexpected closure");
  }
  return fail(n, "unknown node");
}

bool Evaluator::unary(int32_t n, Value& out) {
  const Node& nd = node(n);
  Value tmp;
  const Value* v = ref(nd.kids[0], tmp);
  if (v == nullptr) return false;
  switch (nd.op) {
    case Op::kNot:
      if (!v->isBool()) return fail(n, "invalid operation: ! " + goType(*v));
      out = Value::boolean(!v->asBool());
      return true;
    case Op::kNeg:
      if (v->isInt()) {
        out = Value::integer(wrapSub(0, v->asInt()));
      } else if (v->isFloat()) {
        out = Value::floating(-v->asFloat());
      } else {
        return fail(n, "invalid operation: - " + goType(*v));
      }
      return true;
    case Op::kPlus:
      if (!v->isNumber()) return fail(n, "invalid operation: + " + goType(*v));
      out = *v;
      return true;
    default: return fail(n, "unknown unary operator");
  }
}

bool Evaluator::logical(int32_t n, Value& out, bool isAnd) {
  const Node& nd = node(n);
  const char* name = isAnd ? "&&" : "||";
  Value tmp;
  const Value* l = ref(nd.kids[0], tmp);
  if (l == nullptr) return false;
  if (!l->isBool()) {
    return fail(n, std::string("invalid operation: non-bool ") + goType(*l) + " used with " + name);
  }
  if (l->asBool() != isAnd) {  // false && x, true || x: the right side is not evaluated
    out = Value::boolean(l->asBool());
    return true;
  }
  Value rtmp;
  const Value* r = ref(nd.kids[1], rtmp);
  if (r == nullptr) return false;
  if (!r->isBool()) {
    return fail(n, std::string("invalid operation: non-bool ") + goType(*r) + " used with " + name);
  }
  out = Value::boolean(r->asBool());
  return true;
}

const char* opName(Op op) {
  switch (op) {
    case Op::kAdd: return "+";
    case Op::kSub: return "-";
    case Op::kMul: return "*";
    case Op::kDiv: return "/";
    case Op::kMod: return "%";
    case Op::kPow: return "**";
    case Op::kEq: return "==";
    case Op::kNe: return "!=";
    case Op::kLt: return "<";
    case Op::kLe: return "<=";
    case Op::kGt: return ">";
    case Op::kGe: return ">=";
    case Op::kIn: return "in";
    case Op::kContains: return "contains";
    case Op::kStartsWith: return "startsWith";
    case Op::kEndsWith: return "endsWith";
    case Op::kRange: return "..";
    default: return "?";
  }
}

std::string mismatched(Op op, const Value& a, const Value& b) {
  return std::string("invalid operation: ") + opName(op) + " (mismatched types " + goType(a) +
         " and " + goType(b) + ")";
}

bool Evaluator::binary(int32_t n, Value& out) {
  const Node& nd = node(n);
  Value ltmp, rtmp;
  const Value* a = ref(nd.kids[0], ltmp);
  if (a == nullptr) return false;
  const Value* b = ref(nd.kids[1], rtmp);
  if (b == nullptr) return false;
  switch (nd.op) {
    case Op::kEq: out = Value::boolean(equal(*a, *b)); return true;
    case Op::kNe: out = Value::boolean(!equal(*a, *b)); return true;
    case Op::kLt:
    case Op::kLe:
    case Op::kGt:
    case Op::kGe: return compare(n, nd.op, *a, *b, out);
    case Op::kIn: {
      if (b->isNil()) {
        out = Value::boolean(false);
      } else if (b->isList()) {
        bool found = false;
        for (const Value& e : b->asList()) {
          if (equal(e, *a)) {
            found = true;
            break;
          }
        }
        out = Value::boolean(found);
      } else if (b->isMap()) {
        if (a->isNil()) {
          out = Value::boolean(b->asMap().contains(""));
        } else if (a->isString()) {
          out = Value::boolean(b->asMap().contains(a->asString()));
        } else {
          return fail(n, "cannot use " + goType(*a) + " as a key of a map with string keys");
        }
      } else {
        return fail(n, "operator \"in\" not defined on " + goType(*b));
      }
      return true;
    }
    case Op::kContains:
    case Op::kStartsWith:
    case Op::kEndsWith: {
      if (!a->isString() || !b->isString()) return fail(n, mismatched(nd.op, *a, *b));
      const std::string& s = a->asString();
      const std::string& t = b->asString();
      bool r = nd.op == Op::kContains     ? s.find(t) != std::string::npos
               : nd.op == Op::kStartsWith ? s.starts_with(t)
                                          : s.ends_with(t);
      out = Value::boolean(r);
      return true;
    }
    case Op::kRange: {
      if (!a->isInt() || !b->isInt()) return fail(n, mismatched(nd.op, *a, *b));
      int64_t lo = a->asInt(), hi = b->asInt();
      if (hi < lo) {
        out = Value::list({});
        return true;
      }
      uint64_t size = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo) + 1;
      if (size > static_cast<uint64_t>(kMemoryBudget) || size == 0) {
        return fail(n, "memory budget exceeded");
      }
      if (!spend(n, static_cast<int64_t>(size))) return false;
      Value::List list;
      list.reserve(size);
      for (uint64_t i = 0; i < size; ++i) {
        list.push_back(Value::integer(wrapAdd(lo, static_cast<int64_t>(i))));
      }
      out = Value::list(std::move(list));
      return true;
    }
    default: return arithmetic(n, nd.op, *a, *b, out);
  }
}

bool Evaluator::compare(int32_t n, Op op, const Value& a, const Value& b, Value& out) {
  int c;  // -1, 0, 1; 2 means unordered (NaN)
  if (a.isInt() && b.isInt()) {
    c = a.asInt() < b.asInt() ? -1 : a.asInt() > b.asInt() ? 1 : 0;
  } else if (a.isNumber() && b.isNumber()) {
    double x = a.toDouble(), y = b.toDouble();
    c = x < y ? -1 : x > y ? 1 : x == y ? 0 : 2;
  } else if (a.isString() && b.isString()) {
    int r = a.asString().compare(b.asString());
    c = r < 0 ? -1 : r > 0 ? 1 : 0;
  } else {
    return fail(n, mismatched(op, a, b));
  }
  bool r = false;
  if (c != 2) {
    switch (op) {
      case Op::kLt: r = c < 0; break;
      case Op::kLe: r = c <= 0; break;
      case Op::kGt: r = c > 0; break;
      case Op::kGe: r = c >= 0; break;
      default: break;
    }
  }
  out = Value::boolean(r);
  return true;
}

bool Evaluator::arithmetic(int32_t n, Op op, const Value& a, const Value& b, Value& out) {
  if (op == Op::kAdd && a.isString() && b.isString()) {
    out = Value::string(a.asString() + b.asString());
    return true;
  }
  if (!a.isNumber() || !b.isNumber()) return fail(n, mismatched(op, a, b));
  bool ints = a.isInt() && b.isInt();
  switch (op) {
    case Op::kAdd:
      out = ints ? Value::integer(wrapAdd(a.asInt(), b.asInt()))
                 : Value::floating(a.toDouble() + b.toDouble());
      return true;
    case Op::kSub:
      out = ints ? Value::integer(wrapSub(a.asInt(), b.asInt()))
                 : Value::floating(a.toDouble() - b.toDouble());
      return true;
    case Op::kMul:
      out = ints ? Value::integer(wrapMul(a.asInt(), b.asInt()))
                 : Value::floating(a.toDouble() * b.toDouble());
      return true;
    case Op::kDiv:  // always float in expr, even for two ints
      out = Value::floating(a.toDouble() / b.toDouble());
      return true;
    case Op::kMod:
      if (!ints) return fail(n, mismatched(op, a, b));
      if (b.asInt() == 0) return fail(n, "integer divide by zero");
      out = Value::integer(b.asInt() == -1 ? 0 : a.asInt() % b.asInt());
      return true;
    case Op::kPow: out = Value::floating(std::pow(a.toDouble(), b.toDouble())); return true;
    default: return fail(n, "unknown operator");
  }
}

bool Evaluator::member(int32_t n, Value& out) {
  const Node& nd = node(n);
  Value btmp, ktmp;
  const Value* base = ref(nd.kids[0], btmp);
  if (base == nullptr) return false;
  if (base->isNil() && nd.optional) {
    chainNil_ = true;
    return false;
  }
  const Value* key = ref(nd.kids[1], ktmp);
  if (key == nullptr) return false;
  switch (base->kind()) {
    case Kind::kMap: {
      if (!key->isString() && !key->isNil()) {
        return fail(n, "cannot use " + goType(*key) + " as a key of a map with string keys");
      }
      const Value::Map& m = base->asMap();
      auto it = m.find(key->isNil() ? std::string() : key->asString());
      if (it == m.end()) {
        out = Value();  // a missing key is nil, as in expr
      } else {
        out = it->second;
      }
      return true;
    }
    case Kind::kList:
    case Kind::kString: {
      if (!key->isNumber())
        return fail(n, "cannot fetch " + goFormat(*key) + " from " + goType(*base));
      int64_t i = key->isInt() ? key->asInt() : truncateToInt(key->asFloat());
      int64_t len = base->isList() ? static_cast<int64_t>(base->asList().size())
                                   : static_cast<int64_t>(base->asString().size());
      if (i < 0) i += len;
      if (i < 0 || i >= len) {
        return fail(n, "index out of range: " + std::to_string(i) + " (array length is " +
                           std::to_string(len) + ")");
      }
      if (base->isList()) {
        out = base->asList()[static_cast<size_t>(i)];
      } else {  // Go indexes a string by byte
        out = Value::integer(static_cast<unsigned char>(base->asString()[static_cast<size_t>(i)]));
      }
      return true;
    }
    default: return fail(n, "cannot fetch " + goFormat(*key) + " from " + goType(*base));
  }
}

bool Evaluator::slice(int32_t n, Value& out) {
  const Node& nd = node(n);
  Value btmp;
  const Value* base = ref(nd.kids[0], btmp);
  if (base == nullptr) return false;
  if (!base->isList() && !base->isString()) return fail(n, "cannot slice " + goType(*base));
  int64_t len = base->isList() ? static_cast<int64_t>(base->asList().size())
                               : static_cast<int64_t>(base->asString().size());
  int64_t bounds[2] = {0, len};
  for (int k = 0; k < 2; ++k) {
    int32_t kid = nd.kids[static_cast<size_t>(k + 1)];
    if (kid < 0) continue;
    Value tmp;
    const Value* v = ref(kid, tmp);
    if (v == nullptr) return false;
    if (!v->isNumber()) return fail(kid, "invalid operation: int(" + goType(*v) + ")");
    int64_t x = v->isInt() ? v->asInt() : truncateToInt(v->asFloat());
    if (x < 0) x += len;
    bounds[k] = std::clamp<int64_t>(x, 0, len);
  }
  int64_t a = std::min(bounds[0], bounds[1]), b = bounds[1];
  if (base->isString()) {
    out =
        Value::string(base->asString().substr(static_cast<size_t>(a), static_cast<size_t>(b - a)));
    return true;
  }
  if (!spend(n, b - a)) return false;
  const Value::List& l = base->asList();
  out = Value::list(Value::List(l.begin() + a, l.begin() + b));
  return true;
}

bool Evaluator::closure(int32_t n, Value& out) {
  const Node& nd = node(n);
  Value ctmp;
  const Value* coll = ref(nd.kids[0], ctmp);
  if (coll == nullptr) return false;
  if (!coll->isList()) return fail(n, "cannot iterate over " + goType(*coll));
  // Keep the collection alive while `#` points into it.
  Value keep = *coll;
  const Value::List& list = keep.asList();
  Builtin fn = nd.fn;
  int32_t body = nd.kids.size() > 1 ? node(nd.kids[1]).kids[0] : -1;  // count(list), sum(list)

  // Evaluates the predicate for element i into `v` (the element itself when there is none).
  auto apply = [&](size_t i, Value& v) {
    if (body < 0) {
      v = list[i];
      return true;
    }
    if (!spend(n, 1)) return false;  // bounds time too: all(1..999999, all(1..0, true))
    scopes_.push_back(Scope{&list[i], static_cast<int64_t>(i)});
    bool ok = eval(body, v);
    scopes_.pop_back();
    return ok;
  };
  auto test = [&](size_t i, bool& r) {
    Value v;
    if (!apply(i, v)) return false;
    if (!v.isBool()) return fail(n, "predicate must return a bool, got " + goType(v));
    r = v.asBool();
    return true;
  };

  switch (fn) {
    case Builtin::kAll:
    case Builtin::kAny:
    case Builtin::kNone:
    case Builtin::kOne: {
      int64_t hits = 0;
      for (size_t i = 0; i < list.size(); ++i) {
        bool r;
        if (!test(i, r)) return false;
        if (r) ++hits;
        if (fn == Builtin::kAll && !r) break;
        if ((fn == Builtin::kAny || fn == Builtin::kNone) && r) break;
        if (fn == Builtin::kOne && hits > 1) break;
      }
      bool r = fn == Builtin::kAll    ? hits == static_cast<int64_t>(list.size())
               : fn == Builtin::kAny  ? hits > 0
               : fn == Builtin::kNone ? hits == 0
                                      : hits == 1;
      out = Value::boolean(r);
      return true;
    }
    case Builtin::kCount: {
      int64_t hits = 0;
      for (size_t i = 0; i < list.size(); ++i) {
        bool r;
        if (!test(i, r)) return false;
        if (r) ++hits;
      }
      out = Value::integer(hits);
      return true;
    }
    case Builtin::kFilter: {
      Value::List kept;
      for (size_t i = 0; i < list.size(); ++i) {
        bool r;
        if (!test(i, r)) return false;
        if (r) {
          if (!spend(n, 1)) return false;
          kept.push_back(list[i]);
        }
      }
      out = Value::list(std::move(kept));
      return true;
    }
    case Builtin::kMap: {
      if (!spend(n, static_cast<int64_t>(list.size()))) return false;
      Value::List mapped(list.size());
      for (size_t i = 0; i < list.size(); ++i) {
        if (!apply(i, mapped[i])) return false;
      }
      out = Value::list(std::move(mapped));
      return true;
    }
    case Builtin::kSum: {
      Value acc = Value::integer(0);
      for (size_t i = 0; i < list.size(); ++i) {
        Value v, next;
        if (!apply(i, v)) return false;
        if (!arithmetic(n, Op::kAdd, acc, v, next)) return false;
        if (next.isString()) return fail(n, mismatched(Op::kAdd, acc, v));
        acc = std::move(next);
      }
      out = std::move(acc);
      return true;
    }
    case Builtin::kFind:
    case Builtin::kFindIndex: {
      for (size_t i = 0; i < list.size(); ++i) {
        bool r;
        if (!test(i, r)) return false;
        if (r) {
          out = fn == Builtin::kFind ? list[i] : Value::integer(static_cast<int64_t>(i));
          return true;
        }
      }
      out = fn == Builtin::kFind ? Value() : Value::integer(-1);
      return true;
    }
    case Builtin::kFindLast:
    case Builtin::kFindLastIndex: {
      for (size_t i = list.size(); i-- > 0;) {
        bool r;
        if (!test(i, r)) return false;
        if (r) {
          out = fn == Builtin::kFindLast ? list[i] : Value::integer(static_cast<int64_t>(i));
          return true;
        }
      }
      out = fn == Builtin::kFindLast ? Value() : Value::integer(-1);
      return true;
    }
    default: return fail(n, "unknown closure");
  }
}

// Collects the numbers of `args` for max/min/mean/median, flattening nested lists.
bool collectNumbers(const Value& v, std::vector<const Value*>& out, std::string& badType,
                    int depth = 0) {
  if (v.isNumber()) {
    out.push_back(&v);
    return true;
  }
  if (v.isList() && depth < kMaxTreeDepth) {
    for (const Value& e : v.asList()) {
      if (!collectNumbers(e, out, badType, depth + 1)) return false;
    }
    return true;
  }
  badType = goType(v);
  return false;
}

bool Evaluator::aggregate(int32_t n, Builtin fn, Value& out) {
  const Node& nd = node(n);
  const char* name = fn == Builtin::kMax    ? "max"
                     : fn == Builtin::kMin  ? "min"
                     : fn == Builtin::kMean ? "mean"
                                            : "median";
  std::vector<Value> args(nd.kids.size());
  for (size_t i = 0; i < nd.kids.size(); ++i) {
    if (!eval(nd.kids[i], args[i])) return false;
  }
  std::vector<const Value*> nums;
  std::string badType;
  for (const Value& a : args) {
    if (collectNumbers(a, nums, badType)) continue;
    // expr's max/min return a lone argument of another type unchanged.
    if ((fn == Builtin::kMax || fn == Builtin::kMin) && args.size() == 1 && !a.isList()) {
      out = a;
      return true;
    }
    return fail(n, std::string("invalid argument for ") + name + " (type " + badType + ")");
  }
  if (fn == Builtin::kMax || fn == Builtin::kMin) {
    const Value* best = nullptr;
    for (const Value* v : nums) {
      if (best == nullptr) {
        best = v;
        continue;
      }
      Value r;
      compare(n, fn == Builtin::kMax ? Op::kLt : Op::kGt, *best, *v, r);
      if (r.asBool()) best = v;
    }
    out = best == nullptr ? Value() : *best;  // nil for an empty list, as expr
    return true;
  }
  if (nums.empty()) {
    out = Value::floating(0.0);
    return true;
  }
  if (fn == Builtin::kMean) {
    double total = 0;
    for (const Value* v : nums) total += v->toDouble();
    out = Value::floating(total / static_cast<double>(nums.size()));
    return true;
  }
  std::vector<double> xs;
  xs.reserve(nums.size());
  for (const Value* v : nums) xs.push_back(v->toDouble());
  std::sort(xs.begin(), xs.end(), [](double a, double b) { return a < b; });
  size_t k = xs.size();
  out = Value::floating(k % 2 == 1 ? xs[k / 2] : (xs[k / 2 - 1] + xs[k / 2]) / 2);
  return true;
}

bool isSpace(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool Evaluator::stringFn(int32_t n, Builtin fn, Value& out) {
  const Node& nd = node(n);
  Value args[2];
  for (size_t i = 0; i < nd.kids.size(); ++i) {
    if (!eval(nd.kids[i], args[i])) return false;
  }
  static constexpr std::pair<Builtin, const char*> kNames[] = {{Builtin::kUpper, "upper"},
                                                               {Builtin::kLower, "lower"},
                                                               {Builtin::kTrim, "trim"},
                                                               {Builtin::kTrimPrefix, "trimPrefix"},
                                                               {Builtin::kTrimSuffix, "trimSuffix"},
                                                               {Builtin::kHasPrefix, "hasPrefix"},
                                                               {Builtin::kHasSuffix, "hasSuffix"},
                                                               {Builtin::kIndexOf, "indexOf"},
                                                               {Builtin::kSplit, "split"}};
  const char* name = "";
  for (const auto& [f, nm] : kNames) {
    if (f == fn) name = nm;
  }
  for (size_t i = 0; i < nd.kids.size(); ++i) {
    if (!args[i].isString()) {
      return fail(n,
                  std::string("invalid argument for ") + name + " (type " + goType(args[i]) + ")");
    }
  }
  const std::string& s = args[0].asString();
  switch (fn) {
    case Builtin::kUpper:
    case Builtin::kLower: {
      std::string r = s;
      for (char& c : r) {
        c = static_cast<char>(fn == Builtin::kUpper ? std::toupper(static_cast<unsigned char>(c))
                                                    : std::tolower(static_cast<unsigned char>(c)));
      }
      out = Value::string(std::move(r));
      return true;
    }
    case Builtin::kTrim: {
      size_t a = 0, b = s.size();
      auto cut = [&](unsigned char c) {
        return nd.kids.size() == 2
                   ? args[1].asString().find(static_cast<char>(c)) != std::string::npos
                   : isSpace(c);
      };
      while (a < b && cut(static_cast<unsigned char>(s[a]))) ++a;
      while (b > a && cut(static_cast<unsigned char>(s[b - 1]))) --b;
      out = Value::string(s.substr(a, b - a));
      return true;
    }
    case Builtin::kTrimPrefix:
    case Builtin::kTrimSuffix: {
      std::string affix = nd.kids.size() == 2 ? args[1].asString() : " ";
      std::string r = s;
      if (fn == Builtin::kTrimPrefix && r.starts_with(affix)) r.erase(0, affix.size());
      if (fn == Builtin::kTrimSuffix && r.ends_with(affix)) r.erase(r.size() - affix.size());
      out = Value::string(std::move(r));
      return true;
    }
    case Builtin::kHasPrefix: out = Value::boolean(s.starts_with(args[1].asString())); return true;
    case Builtin::kHasSuffix: out = Value::boolean(s.ends_with(args[1].asString())); return true;
    case Builtin::kIndexOf: {
      size_t at = s.find(args[1].asString());
      out = Value::integer(at == std::string::npos ? -1 : static_cast<int64_t>(at));
      return true;
    }
    case Builtin::kSplit: {
      const std::string& sep = args[1].asString();
      Value::List parts;
      if (sep.empty()) {  // Go splits into UTF-8 sequences
        size_t i = 0;
        while (i < s.size()) {
          size_t j = i + 1;
          while (j < s.size() && (static_cast<unsigned char>(s[j]) & 0xC0) == 0x80) ++j;
          parts.push_back(Value::string(s.substr(i, j - i)));
          i = j;
        }
      } else {
        size_t start = 0;
        while (true) {
          size_t at = s.find(sep, start);
          if (at == std::string::npos) break;
          parts.push_back(Value::string(s.substr(start, at - start)));
          start = at + sep.size();
        }
        parts.push_back(Value::string(s.substr(start)));
      }
      if (!spend(n, static_cast<int64_t>(parts.size()))) return false;
      out = Value::list(std::move(parts));
      return true;
    }
    default: return fail(n, "unknown string function");
  }
}

bool Evaluator::call(int32_t n, Value& out) {
  const Node& nd = node(n);
  switch (nd.fn) {
    case Builtin::kAll:
    case Builtin::kAny:
    case Builtin::kNone:
    case Builtin::kOne:
    case Builtin::kFilter:
    case Builtin::kMap:
    case Builtin::kCount:
    case Builtin::kSum:
    case Builtin::kFind:
    case Builtin::kFindIndex:
    case Builtin::kFindLast:
    case Builtin::kFindLastIndex: return closure(n, out);
    case Builtin::kMax:
    case Builtin::kMin:
    case Builtin::kMean:
    case Builtin::kMedian: return aggregate(n, nd.fn, out);
    case Builtin::kUpper:
    case Builtin::kLower:
    case Builtin::kTrim:
    case Builtin::kTrimPrefix:
    case Builtin::kTrimSuffix:
    case Builtin::kHasPrefix:
    case Builtin::kHasSuffix:
    case Builtin::kIndexOf:
    case Builtin::kSplit: return stringFn(n, nd.fn, out);
    case Builtin::kNow:
    case Builtin::kDuration:
      return fail(n, "now() and duration() are only available in time expressions");
    default: break;
  }
  // Single- and double-argument functions: evaluate the arguments first, as expr does (so an
  // error in an ignored argument of isNil/default still surfaces).
  Value tmps[2];
  const Value* args[2] = {nullptr, nullptr};
  for (size_t i = 0; i < nd.kids.size() && i < 2; ++i) {
    args[i] = ref(nd.kids[i], tmps[i]);
    if (args[i] == nullptr) return false;
  }
  const Value& x = *args[0];
  switch (nd.fn) {
    case Builtin::kAsInt: {
      if (x.isInt()) {
        out = x;
      } else if (x.isFloat()) {
        out = Value::integer(truncateToInt(x.asFloat()));
      } else if (x.isString()) {
        int64_t v;
        std::string err;
        if (!parseGoInt(x.asString(), v, err)) return fail(n, err);
        out = Value::integer(v);
      } else {
        return fail(n, "asInt() not supported on " + goType(x) + " " + goFormat(x));
      }
      return true;
    }
    case Builtin::kAsFloat: {
      if (x.isNumber()) {
        out = Value::floating(x.toDouble());
      } else if (x.isString()) {
        double v;
        std::string err;
        if (!parseGoFloat(x.asString(), v, err)) return fail(n, err);
        out = Value::floating(v);
      } else {
        return fail(n, "asFloat() not supported on " + goType(x) + " " + goFormat(x));
      }
      return true;
    }
    case Builtin::kIsNaN:
    case Builtin::kIsInf: {
      const char* name = nd.fn == Builtin::kIsNaN ? "isNaN" : "isInf";
      if (!x.isNumber()) {
        return fail(n, "cannot use " + goType(x) + " as argument (type float64) to call " + name);
      }
      double d = x.toDouble();
      out = Value::boolean(nd.fn == Builtin::kIsNaN ? std::isnan(d) : std::isinf(d));
      return true;
    }
    // Argo's quirk: both test the metric result, whatever their first argument is.
    case Builtin::kIsNil: out = Value::boolean(result_.isNil()); return true;
    case Builtin::kDefault: out = result_.isNil() ? *args[1] : result_; return true;
    case Builtin::kLen:
      if (x.isList()) {
        out = Value::integer(static_cast<int64_t>(x.asList().size()));
      } else if (x.isMap()) {
        out = Value::integer(static_cast<int64_t>(x.asMap().size()));
      } else if (x.isString()) {
        out = Value::integer(static_cast<int64_t>(x.asString().size()));
      } else {
        return fail(n, "invalid argument for len (type " + goType(x) + ")");
      }
      return true;
    case Builtin::kAbs:
      if (x.isInt()) {
        out = Value::integer(x.asInt() < 0 ? wrapSub(0, x.asInt()) : x.asInt());
      } else if (x.isFloat()) {
        out = Value::floating(x.asFloat() < 0 ? -x.asFloat() : x.asFloat());
      } else {
        return fail(n, "invalid argument for abs (type " + goType(x) + ")");
      }
      return true;
    case Builtin::kCeil:
    case Builtin::kFloor:
    case Builtin::kRound: {
      const char* name = nd.fn == Builtin::kCeil    ? "ceil"
                         : nd.fn == Builtin::kFloor ? "floor"
                                                    : "round";
      if (!x.isNumber()) {
        return fail(n, std::string("invalid argument for ") + name + " (type " + goType(x) + ")");
      }
      double d = x.toDouble();
      out = Value::floating(nd.fn == Builtin::kCeil    ? std::ceil(d)
                            : nd.fn == Builtin::kFloor ? std::floor(d)
                                                       : std::round(d));
      return true;
    }
    case Builtin::kInt:
      if (x.isInt()) {
        out = x;
      } else if (x.isFloat()) {
        out = Value::integer(truncateToInt(x.asFloat()));
      } else if (x.isString()) {
        int64_t v;
        std::string err;
        if (!parseGoInt(x.asString(), v, err)) {
          return fail(n, "invalid operation: int(" + x.asString() + ")");
        }
        out = Value::integer(v);
      } else {
        return fail(n, "invalid operation: int(" + goType(x) + ")");
      }
      return true;
    case Builtin::kFloat:
      if (x.isNumber()) {
        out = Value::floating(x.toDouble());
      } else if (x.isString()) {
        double v;
        std::string err;
        if (!parseGoFloat(x.asString(), v, err)) {
          return fail(n, "invalid operation: float(" + x.asString() + ")");
        }
        out = Value::floating(v);
      } else {
        return fail(n, "invalid operation: float(" + goType(x) + ")");
      }
      return true;
    case Builtin::kString: out = Value::string(goFormat(x)); return true;
    case Builtin::kJoin: {
      if (!x.isList()) return fail(n, "invalid argument for join (type " + goType(x) + ")");
      std::string glue;
      if (args[1] != nullptr) {
        if (!args[1]->isString()) {
          return fail(n, "invalid argument for join (type " + goType(*args[1]) + ")");
        }
        glue = args[1]->asString();
      }
      std::string r;
      bool first = true;
      for (const Value& e : x.asList()) {
        if (!e.isString()) return fail(n, "invalid argument for join (type " + goType(e) + ")");
        if (!first) r += glue;
        first = false;
        r += e.asString();
      }
      out = Value::string(std::move(r));
      return true;
    }
    case Builtin::kFirst:
    case Builtin::kLast:
      if (x.isList() && !x.asList().empty()) {
        out = nd.fn == Builtin::kFirst ? x.asList().front() : x.asList().back();
      } else {
        out = Value();  // expr recovers from the failed fetch and returns nil
      }
      return true;
    case Builtin::kKeys:
    case Builtin::kValues: {
      if (!x.isMap()) {
        return fail(n, std::string("cannot get ") + (nd.fn == Builtin::kKeys ? "keys" : "values") +
                           " from " + goType(x));
      }
      if (!spend(n, static_cast<int64_t>(x.asMap().size()))) return false;
      Value::List l;
      for (const auto& [k, v] : x.asMap()) {
        l.push_back(nd.fn == Builtin::kKeys ? Value::string(k) : v);
      }
      out = Value::list(std::move(l));
      return true;
    }
    case Builtin::kReverse: {
      if (!x.isList()) return fail(n, "cannot reverse " + goType(x));
      if (!spend(n, static_cast<int64_t>(x.asList().size()))) return false;
      out = Value::list(Value::List(x.asList().rbegin(), x.asList().rend()));
      return true;
    }
    case Builtin::kType: {
      static constexpr const char* kTypeNames[] = {"nil",    "bool",  "int", "float",
                                                   "string", "array", "map"};
      out = Value::string(kTypeNames[static_cast<int>(x.kind())]);
      return true;
    }
    default: return fail(n, "unknown function");
  }
}

}  // namespace

Result<std::shared_ptr<const Program>> compile(std::string_view source) {
  auto parsed = parse(source);
  if (!parsed) return std::unexpected(parsed.error());
  return std::make_shared<const Program>(std::move(*parsed));
}

Result<Value> evaluate(const Program& program, const Value& result) {
  // Argo's compile-time checks against the result's concrete type. A nil result has no static
  // type, so anything goes with it.
  if (!result.isNil()) {
    for (int32_t n : program.staticChecks) {
      const Node& nd = program.nodes[static_cast<size_t>(n)];
      auto fail = [&](std::string message) {
        return makeError(ErrorCode::kInvalidArgument,
                         program.position(nd.offset) + ": " + std::move(message));
      };
      if (nd.kind == NodeKind::kBinary) {
        const Node& l = program.nodes[static_cast<size_t>(nd.kids[0])];
        const Node& r = program.nodes[static_cast<size_t>(nd.kids[1])];
        const Value& a = l.kind == NodeKind::kResult ? result : l.literal;
        const Value& b = r.kind == NodeKind::kResult ? result : r.literal;
        bool comparable =
            a.isNil() || b.isNil() || a.kind() == b.kind() || (a.isNumber() && b.isNumber());
        if (!comparable) return fail(mismatched(nd.op, a, b));
      } else if (!result.isBool()) {  // result as an operand of &&, ||, !
        const char* op = nd.kind == NodeKind::kAnd ? "&&" : nd.kind == NodeKind::kOr ? "||" : "!";
        return fail(std::string("invalid operation: non-bool ") + goType(result) + " used with " +
                    op);
      }
    }
  }
  Evaluator ev(program, result);
  Value out;
  if (!ev.eval(program.root, out)) return std::unexpected(ev.error());
  return out;
}

}  // namespace ramp::expr
