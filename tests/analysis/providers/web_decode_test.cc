// Unit tests for the web provider's pure decoder and its Kubernetes JSONPath subset.

#include <gtest/gtest.h>

#include "analysis/providers/web/json_path.h"
#include "analysis/providers/web/web_provider.h"

namespace ramp::analysis::providers {
namespace {

constexpr const char* kDoc = R"({
  "data": {"ok": true, "successPercent": 0.95, "count": 3},
  "items": [{"value": 1}, {"value": 2}, {"value": 3}],
  "a": {"b.c": "dotted"},
  "n": null,
  "s": "text"
})";

struct PathCase {
  const char* name;
  const char* path;
  Value expected;
  const char* display;
};

class WebDecodeTest : public ::testing::TestWithParam<PathCase> {};

TEST_P(WebDecodeTest, SelectsTheFirstMatch) {
  auto r = parseWebResponse(kDoc, GetParam().path);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->value, GetParam().expected) << formatValue(r->value);
  EXPECT_EQ(r->display, GetParam().display);
}

INSTANTIATE_TEST_SUITE_P(
    Forms, WebDecodeTest,
    ::testing::Values(PathCase{"DollarField", "{$.data.ok}", Value::boolean(true), "true"},
                      PathCase{"DotField", "{.data.successPercent}", Value::floating(0.95), "0.95"},
                      PathCase{"IntegerIsFloat", "{$.data.count}", Value::floating(3), "3"},
                      PathCase{"Index", "{$.items[0].value}", Value::floating(1), "1"},
                      PathCase{"NegativeIndex", "{$.items[-1].value}", Value::floating(3), "3"},
                      PathCase{"QuotedName", "{$.a['b.c']}", Value::string("dotted"), "\"dotted\""},
                      PathCase{"DoubleQuotedName", "{$.a[\"b.c\"]}", Value::string("dotted"),
                               "\"dotted\""},
                      PathCase{"Wildcard", "{$.items[*].value}", Value::floating(1), "1"},
                      PathCase{"Slice", "{$.items[1:].value}", Value::floating(2), "2"},
                      PathCase{"Recursive", "{$..value}", Value::floating(1), "1"},
                      PathCase{"Null", "{$.n}", Value::nil(), "null"},
                      PathCase{"Spaces", "{ $.s }", Value::string("text"), "\"text\""},
                      PathCase{"Map", "{$.data}",
                               Value::map({{"count", Value::floating(3)},
                                           {"ok", Value::boolean(true)},
                                           {"successPercent", Value::floating(0.95)}}),
                               R"({"count":3,"ok":true,"successPercent":0.95})"},
                      PathCase{"List", "{$.items}",
                               Value::list({Value::map({{"value", Value::floating(1)}}),
                                            Value::map({{"value", Value::floating(2)}}),
                                            Value::map({{"value", Value::floating(3)}})}),
                               R"([{"value":1},{"value":2},{"value":3}])"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(WebDecodeWholeTest, DefaultPathIsTheWholeDocument) {
  auto r = decodeWebResponse(R"([1, "x", false])", "");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, Value::list({Value::floating(1), Value::string("x"), Value::boolean(false)}));
  auto dollar = decodeWebResponse(R"({"k": 1})", "{$}");
  ASSERT_TRUE(dollar.has_value());
  EXPECT_EQ(*dollar, Value::map({{"k", Value::floating(1)}}));
}

TEST(WebDecodeWholeTest, NonJsonBodyIsTheRawString) {
  auto r = parseWebResponse("ok: all good\n", "{$.data}");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->value, Value::string("ok: all good\n"));
  auto empty = decodeWebResponse("", "");
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(*empty, Value::string(""));
}

TEST(WebDecodeWholeTest, MissingFieldIsNotFound) {
  auto r = decodeWebResponse(kDoc, "{$.data.missing}");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(r.error().message, "Could not find JSONPath in body: missing is not found");
}

TEST(WebDecodeWholeTest, IndexOutOfRangeIsNotFound) {
  auto r = decodeWebResponse(kDoc, "{$.items[7]}");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("array index out of bounds: index 7, length 3"),
            std::string::npos);
}

TEST(WebDecodeWholeTest, WildcardOverEmptyListProducesNoValue) {
  auto r = decodeWebResponse(R"({"items": []})", "{$.items[*]}");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "result of web metric produced no value");
}

TEST(WebDecodeWholeTest, DeepNestingIsRejectedNotCrashed) {
  std::string deep(5000, '[');
  deep += std::string(5000, ']');
  auto r = decodeWebResponse(deep, "");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
}

struct BadPath {
  const char* name;
  const char* path;
  ErrorCode code;
};
class JsonPathErrorTest : public ::testing::TestWithParam<BadPath> {};

TEST_P(JsonPathErrorTest, IsRejected) {
  auto p = JsonPath::parse(GetParam().path);
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(p.error().code, GetParam().code) << p.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Table, JsonPathErrorTest,
    ::testing::Values(BadPath{"NoBraces", "$.a", ErrorCode::kParse},
                      BadPath{"Unclosed", "{$.a", ErrorCode::kParse},
                      BadPath{"UnclosedBracket", "{$.a[0}", ErrorCode::kParse},
                      BadPath{"UnclosedQuote", "{$.a['b}", ErrorCode::kParse},
                      BadPath{"Filter", "{$.a[?(@.x==1)]}", ErrorCode::kUnsupported},
                      BadPath{"TextAround", "x{$.a}", ErrorCode::kParse},
                      BadPath{"TwoExpressions", "{$.a}{$.b}", ErrorCode::kUnsupported},
                      BadPath{"EmptyIndex", "{$.a[]}", ErrorCode::kParse},
                      BadPath{"ZeroStep", "{$.a[0:2:0]}", ErrorCode::kParse}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(JsonPathTest, ErrorNamesTheColumn) {
  auto p = JsonPath::parse("{$.a[0}");
  ASSERT_FALSE(p.has_value());
  EXPECT_NE(p.error().message.find("column 7"), std::string::npos) << p.error().message;
}

}  // namespace
}  // namespace ramp::analysis::providers
