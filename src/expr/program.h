#pragma once

// Program: the compiled form of a condition — a syntax tree stored in one vector, children
// referenced by index, built by the parser (parser.cc) and walked by the evaluator
// (evaluator.cc, time_eval.cc). Internal to src/expr.
//
// Thread safety: immutable after construction; safe to read from many threads.

#include <cstdint>
#include <string>
#include <vector>

#include "expr/expr.h"
#include "ramp/value.h"

namespace ramp::expr {

// Nesting limits. Parsing recursion and the evaluator's recursion both follow the tree, so
// bounding the tree's depth bounds the stack used.
inline constexpr int kMaxNesting = 200;  // brackets, unary operators, calls within calls
inline constexpr int kMaxTreeDepth = 250;
// Upper bound on list elements an evaluation may create (ranges, map/filter), as expr's memory
// budget does, plus the predicate calls of closures (ours: bounds the time of nested closures
// over empty or tiny lists, which create nothing).
inline constexpr int64_t kMemoryBudget = 1'000'000;

enum class NodeKind : uint8_t {
  kLiteral,    // value in `literal`
  kResult,     // the identifier `result`
  kPointer,    // `#` — the current element of the innermost closure
  kIndex,      // `#index` — the index of the current element
  kUnary,      // op, kids[0]
  kBinary,     // op, kids[0] op kids[1]
  kAnd,        // short-circuit &&
  kOr,         // short-circuit ||
  kCoalesce,   // ??
  kTernary,    // kids[0] ? kids[1] : kids[2]
  kMember,     // kids[0][kids[1]] or kids[0].name; `optional` for ?.
  kSlice,      // kids[0][kids[1]:kids[2]]; a missing bound is -1
  kChain,      // wraps a chain containing ?. so a nil base ends the whole chain with nil
  kList,       // [kids...]
  kMap,        // {kids[0]: kids[1], kids[2]: kids[3], ...}
  kCall,       // builtin `fn` with kids as arguments
  kPredicate,  // a closure body: kids[0], evaluated once per element
};

enum class Op : uint8_t {
  kNone,
  kNot,
  kNeg,
  kPlus,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kIn,
  kContains,
  kStartsWith,
  kEndsWith,
  kRange,
};

enum class Builtin : uint8_t {
  // Argo's environment.
  kAsInt,
  kAsFloat,
  kIsNaN,
  kIsInf,
  kIsNil,
  kDefault,
  // expr's closures.
  kAll,
  kAny,
  kNone,
  kOne,
  kFilter,
  kMap,
  kCount,
  kSum,
  kFind,
  kFindIndex,
  kFindLast,
  kFindLastIndex,
  // expr's other built-ins.
  kLen,
  kAbs,
  kCeil,
  kFloor,
  kRound,
  kInt,
  kFloat,
  kString,
  kMax,
  kMin,
  kMean,
  kMedian,
  kUpper,
  kLower,
  kTrim,
  kTrimPrefix,
  kTrimSuffix,
  kHasPrefix,
  kHasSuffix,
  kIndexOf,
  kSplit,
  kJoin,
  kFirst,
  kLast,
  kKeys,
  kValues,
  kReverse,
  kType,
  // Time built-ins (evaluateTime only).
  kNow,
  kDuration,
};

struct Node {
  NodeKind kind = NodeKind::kLiteral;
  Op op = Op::kNone;
  Builtin fn = Builtin::kLen;
  bool optional = false;  // kMember reached with ?.
  bool negate = false;    // kBinary written as `not in`, `not contains`, ...
  int32_t offset = 0;     // byte offset in the source, for messages
  Value literal;
  std::vector<int32_t> kids;
};

class Program {
 public:
  std::string source;
  std::vector<Node> nodes;
  int32_t root = 0;
  // True when the program mentions now()/duration(), which only evaluateTime() provides.
  bool usesTime = false;
  // Nodes Argo would type-check against the concrete type of the result before evaluating:
  // `result == <literal>` / `!=`, and `result` as an operand of &&, ||, !. Argo compiles each
  // condition with the result in its environment, so e.g. comparing a bool result with a string
  // literal, or `true || result` on a number, is a compile error there (an Error measurement),
  // not a value; evaluate() checks these nodes before evaluating.
  std::vector<int32_t> staticChecks;

  // Formats "column N" (or "line L, column N") for a byte offset in the source.
  std::string position(int32_t offset) const;
};

// Parses `source` into a program; defined in parser.cc.
Result<Program> parse(std::string_view source);

}  // namespace ramp::expr
