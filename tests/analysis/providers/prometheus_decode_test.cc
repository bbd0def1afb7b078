// Unit tests for the pure Prometheus response decoder (no server).

#include <gtest/gtest.h>

#include <cmath>

#include "analysis/providers/prometheus/prometheus_provider.h"

namespace ramp::analysis::providers {
namespace {

TEST(PrometheusDecodeTest, ScalarIsAFloat) {
  auto r = parsePrometheusResponse(
      R"({"status":"success","data":{"resultType":"scalar","result":[1767225600.5,"0.25"]}})");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->value, Value::floating(0.25));
  EXPECT_EQ(r->display, "0.25");
  EXPECT_EQ(r->resultType, "scalar");
}

TEST(PrometheusDecodeTest, VectorIsAListOfFloatsInServerOrder) {
  auto r = parsePrometheusResponse(R"({"status":"success","data":{"resultType":"vector","result":[
      {"metric":{"server":"canary"},"value":[1.5,"148"]},
      {"metric":{"server":"stable"},"value":[1.5,"0.054"]}]}})");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->value, Value::list({Value::floating(148), Value::floating(0.054)}));
  EXPECT_EQ(r->display, "[148,0.054]");
}

TEST(PrometheusDecodeTest, EmptyVectorIsAnEmptyList) {
  auto v = decodePrometheusResponse(
      R"({"status":"success","data":{"resultType":"vector","result":[]}})");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(*v, Value::list({}));
}

TEST(PrometheusDecodeTest, MatrixIsFlattenedAcrossSeries) {
  auto r = parsePrometheusResponse(R"({"status":"success","data":{"resultType":"matrix","result":[
      {"metric":{"a":"1"},"values":[[1,"1"],[2,"2"]]},
      {"metric":{"a":"2"},"values":[[1,"3"]]}]}})");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->value, Value::list({Value::floating(1), Value::floating(2), Value::floating(3)}));
  EXPECT_EQ(r->display, "[1,2,3]");
}

TEST(PrometheusDecodeTest, SpecialSampleStringsBecomeFloats) {
  auto v = decodePrometheusResponse(R"({"status":"success","data":{"resultType":"vector","result":[
      {"metric":{},"value":[1,"NaN"]},{"metric":{},"value":[1,"+Inf"]},
      {"metric":{},"value":[1,"-Inf"]},{"metric":{},"value":[1,"1e-3"]}]}})");
  ASSERT_TRUE(v.has_value()) << v.error().message;
  const auto& l = v->asList();
  ASSERT_EQ(l.size(), 4u);
  EXPECT_TRUE(std::isnan(l[0].asFloat()));
  EXPECT_EQ(l[1].asFloat(), INFINITY);
  EXPECT_EQ(l[2].asFloat(), -INFINITY);
  EXPECT_DOUBLE_EQ(l[3].asFloat(), 0.001);
}

TEST(PrometheusDecodeTest, FormatsLikeGo) {
  EXPECT_EQ(formatSampleValue(0.1), "0.1");
  EXPECT_EQ(formatSampleValue(100), "100");
  EXPECT_EQ(formatSampleValue(1e21), "1000000000000000000000");
  EXPECT_EQ(formatSampleValue(NAN), "NaN");
  EXPECT_EQ(formatSampleValue(-INFINITY), "-Inf");
}

TEST(PrometheusDecodeTest, WarningsAreKept) {
  auto r = parsePrometheusResponse(
      R"({"status":"success","warnings":["w1"],"data":{"resultType":"vector","result":[]}})");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->warnings, std::vector<std::string>{"w1"});
}

struct BadCase {
  const char* name;
  const char* body;
  ErrorCode code;
  const char* needle;
};

class PrometheusDecodeErrorTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(PrometheusDecodeErrorTest, IsAnError) {
  auto v = decodePrometheusResponse(GetParam().body);
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code, GetParam().code) << v.error().message;
  EXPECT_NE(v.error().message.find(GetParam().needle), std::string::npos) << v.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Table, PrometheusDecodeErrorTest,
    ::testing::Values(
        BadCase{"NotJson", "<html>bad gateway</html>", ErrorCode::kParse, "not JSON"},
        BadCase{"NoStatus", R"({"data":{}})", ErrorCode::kParse, "status"},
        BadCase{"OddStatus", R"({"status":"weird"})", ErrorCode::kParse, "weird"},
        BadCase{"ErrorEnvelope",
                R"({"status":"error","errorType":"bad_data","error":"1:5: parse error: x"})",
                ErrorCode::kInvalidArgument, "bad_data: 1:5: parse error: x"},
        BadCase{"TimeoutEnvelope",
                R"({"status":"error","errorType":"timeout","error":"query timed out"})",
                ErrorCode::kDeadlineExceeded, "query timed out"},
        BadCase{"StringType",
                R"({"status":"success","data":{"resultType":"string","result":[1,"x"]}})",
                ErrorCode::kUnsupported, "\"string\""},
        BadCase{"NoData", R"({"status":"success"})", ErrorCode::kParse, "data"},
        BadCase{"VectorNotList",
                R"({"status":"success","data":{"resultType":"vector","result":{}}})",
                ErrorCode::kParse, "not a list"},
        BadCase{
            "BadSample",
            R"({"status":"success","data":{"resultType":"vector","result":[{"value":[1,"abc"]}]}})",
            ErrorCode::kParse, "data.result[0].value"},
        BadCase{"NumberNotString",
                R"({"status":"success","data":{"resultType":"scalar","result":[1,2]}})",
                ErrorCode::kParse, "data.result"},
        BadCase{"DoubleSign",
                R"({"status":"success","data":{"resultType":"scalar","result":[1,"+-1"]}})",
                ErrorCode::kParse, "data.result"},
        BadCase{
            "HistogramSample",
            R"({"status":"success","data":{"resultType":"vector","result":[{"histogram":[1,{}]}]}})",
            ErrorCode::kUnsupported, "histogram"},
        BadCase{"MatrixNoValues",
                R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":{}}]}})",
                ErrorCode::kUnsupported, "values"}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace ramp::analysis::providers
