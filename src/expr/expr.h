#pragma once

// The condition language: the subset of expr-lang (github.com/expr-lang/expr v1.17) that Argo
// Rollouts analysis templates use in successCondition / failureCondition, plus the time-only
// variant used for Prometheus range-query bounds. See docs/conditions.md for the language.
//
// Usage: compile() a condition once (it only checks syntax and names), then evaluate() it for
// each measurement with `result` bound to the provider's value.
//
// Thread safety: a Program is immutable after compile(); evaluate() may be called on the same
// Program from many threads at once. All functions are reentrant.

#include <memory>
#include <string_view>

#include "ramp/clock.h"
#include "ramp/error.h"
#include "ramp/value.h"

namespace ramp::expr {

// A compiled expression (an immutable syntax tree). Defined in src/expr/program.h.
class Program;

// Parses `source` once. On success returns the program. On a syntax error, an unknown name or a
// wrong number of arguments to a built-in, returns ErrorCode::kParse with a message naming the
// 1-based column, e.g. "column 12: unexpected token ')'" ("line 2, column 3: ..." when the
// source spans several lines). Expressions nested deeper than the depth limit are rejected the
// same way, so hostile input cannot exhaust the stack. The one operator of expr that is parsed
// but not implemented (`matches`) gives ErrorCode::kUnsupported.
Result<std::shared_ptr<const Program>> compile(std::string_view source);

// Evaluates `program` with `result` bound to the metric result (Argo's environment: result,
// asInt, asFloat, isNaN, isInf, isNil, default). Returns the value of the expression; the
// caller checks it is a bool. A run-time error (index out of range, mismatched types, asInt of
// a non-number, ...) returns ErrorCode::kInvalidArgument with a message in the spirit of expr's,
// e.g. "index out of range: 0 (array length is 0)".
Result<Value> evaluate(const Program& program, const Value& result);

// Compiles and evaluates a time expression for Prometheus range-query bounds: now() (which
// returns `now`), duration("5m") (Go duration syntax), + and - between them, and parentheses.
// Returns the resulting time. Errors: kParse for syntax, kInvalidArgument when the value is not
// a time (e.g. `now() - now()`) or an operation is not defined.
Result<Time> evaluateTime(std::string_view source, Time now);

}  // namespace ramp::expr
