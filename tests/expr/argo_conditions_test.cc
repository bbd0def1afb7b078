// The conditions real Argo Rollouts templates use (reference §4.1), each evaluated on the result
// shapes providers produce — scalar, list, empty list, NaN, map, nil — with the outcome Argo
// gives: true, false, or an error (an Error measurement, never success).

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "expr/expr.h"

namespace ramp::expr {
namespace {

enum class Want { kTrue, kFalse, kError };

Value f(double d) { return Value::floating(d); }
Value floats(std::vector<double> xs) {
  Value::List l;
  for (double x : xs) l.push_back(Value::floating(x));
  return Value::list(std::move(l));
}
Value m(Value::Map map) { return Value::map(std::move(map)); }
Value s(const char* str) { return Value::string(str); }

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

struct Case {
  const char* condition;
  const char* resultName;
  Value result;
  Want want;
};

Want outcome(const std::string& condition, const Value& result, std::string& detail) {
  auto program = compile(condition);
  if (!program) {
    detail = program.error().message;
    return Want::kError;
  }
  auto v = evaluate(**program, result);
  if (!v) {
    detail = v.error().message;
    return Want::kError;
  }
  if (!v->isBool()) {  // Argo: "expected bool, but got ..."
    detail = "not a bool";
    return Want::kError;
  }
  return v->asBool() ? Want::kTrue : Want::kFalse;
}

const char* name(Want w) {
  return w == Want::kTrue ? "true" : w == Want::kFalse ? "false" : "error";
}

void runCases(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    std::string detail;
    Want got = outcome(c.condition, c.result, detail);
    EXPECT_EQ(name(got), std::string(name(c.want)))
        << c.condition << " on " << c.resultName << " (" << detail << ")";
  }
}

Value cloudwatch(std::vector<double> values) {
  return Value::list({m({{"Values", floats(std::move(values))}})});
}

Value skywalking(std::vector<const char*> values) {
  Value::List rows;
  for (const char* v : values) rows.push_back(m({{"value", s(v)}}));
  return m({{"service_apdex", m({{"values", m({{"values", Value::list(std::move(rows))}})}})}});
}

TEST(ArgoConditions, PrometheusIndexing) {  // §4.1 #1, #2
  const char* c1 = "result[0] >= 0.95";
  const char* c2 = "result[0] >= 10";
  runCases({
      {c1, "[0.97]", floats({0.97}), Want::kTrue},
      {c1, "[0.5]", floats({0.5}), Want::kFalse},
      {c1, "[0.95]", floats({0.95}), Want::kTrue},
      {c1, "[]", floats({}), Want::kError},  // empty vector: Error, not Failed
      {c1, "[NaN]", floats({kNaN}), Want::kFalse},
      {c1, "scalar", f(0.97), Want::kError},
      {c1, "map", m({{"a", f(1)}}), Want::kError},
      {c1, "nil", Value(), Want::kError},
      {c2, "[12]", floats({12}), Want::kTrue},
      {c2, "[3]", floats({3}), Want::kFalse},
      {c2, "[]", floats({}), Want::kError},
  });
}

TEST(ArgoConditions, NoDataGuards) {  // §4.1 #3, #4
  const char* c3 = "len(result) == 0 || result[0] >= 0.95";
  const char* c4 = "len(result) > 0 && result[0] >= 0.95";
  runCases({
      {c3, "[]", floats({}), Want::kTrue},
      {c3, "[0.97]", floats({0.97}), Want::kTrue},
      {c3, "[0.5]", floats({0.5}), Want::kFalse},
      {c3, "[NaN]", floats({kNaN}), Want::kFalse},
      {c3, "nil", Value(), Want::kError},  // len(nil) is an error
      {c3, "scalar", f(0.97), Want::kError},
      {c4, "[]", floats({}), Want::kFalse},
      {c4, "[0.97]", floats({0.97}), Want::kTrue},
      {c4, "[0.5]", floats({0.5}), Want::kFalse},
      {c4, "[NaN]", floats({kNaN}), Want::kFalse},
  });
}

TEST(ArgoConditions, ScalarNaNAndInf) {  // §4.1 #5, #6
  const char* c5 = "isNaN(result) || result >= 0.95";
  const char* c6 = "isInf(result)";
  runCases({
      {c5, "NaN", f(kNaN), Want::kTrue},
      {c5, "0.97", f(0.97), Want::kTrue},
      {c5, "0.5", f(0.5), Want::kFalse},
      {c5, "[0.97]", floats({0.97}), Want::kError},
      {c5, "nil", Value(), Want::kError},
      {c6, "+Inf", f(kInf), Want::kTrue},
      {c6, "-Inf", f(-kInf), Want::kTrue},
      {c6, "1", f(1), Want::kFalse},
      {c6, "NaN", f(kNaN), Want::kFalse},
      {c6, "[1]", floats({1}), Want::kError},
  });
}

TEST(ArgoConditions, DatadogDefault) {  // §4.1 #7, #8 (arg spliced in before compiling)
  const char* c7 = "default(result, 0) < 0.05";
  const char* c8 = "default(result, 0) > 3";
  runCases({
      {c7, "nil", Value(), Want::kTrue},
      {c7, "0.01", f(0.01), Want::kTrue},
      {c7, "0.5", f(0.5), Want::kFalse},
      {c7, "NaN", f(kNaN), Want::kFalse},
      {c7, "[]", floats({}), Want::kError},  // an empty list is not nil: [] < 0.05 fails
      {c8, "nil", Value(), Want::kFalse},
      {c8, "5", f(5), Want::kTrue},
      {c8, "2", f(2), Want::kFalse},
  });
}

TEST(ArgoConditions, DatadogMaxAndRangeAll) {  // §4.1 #9, #10
  const char* c9 = "max(result) < 0.05";
  const char* c10 = "all(result, # < 1000)";
  runCases({
      {c9, "[0.01,0.02]", floats({0.01, 0.02}), Want::kTrue},
      {c9, "[0.01,0.2]", floats({0.01, 0.2}), Want::kFalse},
      {c9, "[]", floats({}), Want::kError},  // max([]) is nil
      {c9, "scalar 0.01", f(0.01), Want::kTrue},
      {c9, "nil", Value(), Want::kError},
      {c9, "[NaN,0.01]", floats({kNaN, 0.01}), Want::kFalse},
      {c10, "[1,999]", floats({1, 999}), Want::kTrue},
      {c10, "[1,1000]", floats({1, 1000}), Want::kFalse},
      {c10, "[]", floats({}), Want::kTrue},  // vacuous truth: guard range queries with len()
      {c10, "[NaN]", floats({kNaN}), Want::kFalse},
      {c10, "nil", Value(), Want::kError},
      {c10, "scalar", f(1), Want::kError},
  });
}

TEST(ArgoConditions, WebJsonAndValues) {  // §4.1 #11, #12, #15
  const char* c11 = "result.ok && result.successPercent >= 0.90";
  const char* c15 = "result.successRate >= 0.95";
  runCases({
      {c11, "{ok:true,0.95}", m({{"ok", Value::boolean(true)}, {"successPercent", f(0.95)}}),
       Want::kTrue},
      {c11, "{ok:false,0.95}", m({{"ok", Value::boolean(false)}, {"successPercent", f(0.95)}}),
       Want::kFalse},
      {c11, "{ok:true,0.5}", m({{"ok", Value::boolean(true)}, {"successPercent", f(0.5)}}),
       Want::kFalse},
      {c11, "{ok:true}", m({{"ok", Value::boolean(true)}}), Want::kError},  // nil >= 0.90
      {c11, "{}", m({}), Want::kError},  // nil && ... : not a bool
      {c11, "[1]", floats({1}), Want::kError},
      {c11, "nil", Value(), Want::kError},
      {"result == true", "true", Value::boolean(true), Want::kTrue},
      {"result == true", "false", Value::boolean(false), Want::kFalse},
      {"result == true", "'true'", s("true"), Want::kError},  // Argo: mismatched types at compile
      {"result == 'true'", "'true'", s("true"), Want::kTrue},
      {"result == 'true'", "'false'", s("false"), Want::kFalse},
      {"result == 'true'", "true", Value::boolean(true), Want::kError},
      {"result == 'true'", "nil", Value(), Want::kFalse},
      {"result == \"I am OK\"", "'I am OK'", s("I am OK"), Want::kTrue},
      {"result == \"I am OK\"", "'down'", s("down"), Want::kFalse},
      {"result != 1", "1.0", f(1), Want::kFalse},  // int and float compare by value
      // Argo type-checks `result` as an operand of &&, ||, ! before evaluating, so the
      // short-circuit does not hide a non-bool result.
      {"true || result", "1.0", f(1), Want::kError},
      {"true || result", "true", Value::boolean(true), Want::kTrue},
      {"true || result", "nil", Value(), Want::kTrue},
      {"!result", "false", Value::boolean(false), Want::kTrue},
      {"!result", "'x'", s("x"), Want::kError},
      {"false && result == 'x'", "true", Value::boolean(true), Want::kError},
      {c15, "{0.97}", m({{"successRate", f(0.97)}}), Want::kTrue},
      {c15, "{0.5}", m({{"successRate", f(0.5)}}), Want::kFalse},
      {c15, "{}", m({}), Want::kError},
      {c15, "nil", Value(), Want::kError},
  });
}

TEST(ArgoConditions, CloudWatchAndSkyWalking) {  // §4.1 #13, #14
  const char* c13 = "len(result[0].Values) >= 5 and all(result[0].Values, {# <= 0.01})";
  const char* c14 = "all(result.service_apdex.values.values, {asFloat(.value) >= 9900})";
  runCases({
      {c13, "5 low", cloudwatch({0.001, 0.002, 0.0, 0.01, 0.005}), Want::kTrue},
      {c13, "5 with high", cloudwatch({0.001, 0.02, 0.0, 0.01, 0.005}), Want::kFalse},
      {c13, "1 low", cloudwatch({0.001}), Want::kFalse},
      {c13, "[]", Value::list({}), Want::kError},
      {c14, "9950,9901", skywalking({"9950", "9901"}), Want::kTrue},
      {c14, "9950,9800", skywalking({"9950", "9800"}), Want::kFalse},
      {c14, "abc", skywalking({"abc"}), Want::kError},
      {c14, "{}", m({}), Want::kError},
  });
}

TEST(ArgoConditions, ProviderUnitTestConditions) {  // §4.1 #16
  runCases({
      {"asInt(result) > 0", "'5'", s("5"), Want::kTrue},
      {"asInt(result) > 0", "'0'", s("0"), Want::kFalse},
      {"asInt(result) > 0", "'x'", s("x"), Want::kError},
      {"asInt(result) > 0", "3.0", f(3), Want::kTrue},
      {"asFloat(result) < 1.3", "'1.2'", s("1.2"), Want::kTrue},
      {"asFloat(result) < 1.3", "'1.4'", s("1.4"), Want::kFalse},
      {"asFloat(result) < 1.3", "nil", Value(), Want::kError},
      {"any(result, {# > 5})", "[1,6]", floats({1, 6}), Want::kTrue},
      {"any(result, {# > 5})", "[]", floats({}), Want::kFalse},
      {"10 in result", "[10.0,2]", floats({10, 2}), Want::kTrue},
      {"10 in result", "[1]", floats({1}), Want::kFalse},
      {"result.count == 10 and result['average.duration'] < 15.0", "{10,12}",
       m({{"count", f(10)}, {"average.duration", f(12)}}), Want::kTrue},
      {"result.count == 10 and result['average.duration'] < 15.0", "{10,20}",
       m({{"count", f(10)}, {"average.duration", f(20)}}), Want::kFalse},
  });
}

TEST(ArgoConditions, RealWorldGuards) {  // §4.1 #17
  const char* a = "len(result) == 1 && !isNaN(result[0]) && !isInf(result[0]) && result[0] >= 20";
  const char* b = "len(result) == 0 || isNaN(result[0]) || result[0] < 0.02";
  const char* fail = "len(result) > 0 && result[0] < 0.05";
  const char* pass = "len(result) == 0 || result[0] >= 0.05";
  runCases({
      {a, "[25]", floats({25}), Want::kTrue},
      {a, "[NaN]", floats({kNaN}), Want::kFalse},
      {a, "[+Inf]", floats({kInf}), Want::kFalse},
      {a, "[]", floats({}), Want::kFalse},
      {a, "[25,30]", floats({25, 30}), Want::kFalse},
      {a, "[10]", floats({10}), Want::kFalse},
      {b, "[]", floats({}), Want::kTrue},
      {b, "[NaN]", floats({kNaN}), Want::kTrue},
      {b, "[0.01]", floats({0.01}), Want::kTrue},
      {b, "[0.5]", floats({0.5}), Want::kFalse},
      {fail, "[]", floats({}), Want::kFalse},
      {fail, "[0.01]", floats({0.01}), Want::kTrue},
      {pass, "[]", floats({}), Want::kTrue},
      {pass, "[0.01]", floats({0.01}), Want::kFalse},
  });
}

TEST(ArgoConditions, NonBoolResultIsForTheCallerToReject) {
  auto p = compile("result[0]");
  ASSERT_TRUE(p.has_value());
  auto v = evaluate(**p, floats({0.5}));
  ASSERT_TRUE(v.has_value());
  EXPECT_FALSE(v->isBool());
}

}  // namespace
}  // namespace ramp::expr
