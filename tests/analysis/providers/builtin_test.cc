// makeBuiltinProvider: maps provider specs to providers; refuses the ones ramp does not run.

#include "analysis/providers/builtin.h"

#include <gtest/gtest.h>

#include "fakes/simulated_clock.h"

namespace ramp::analysis::providers {
namespace {

class BuiltinTest : public ::testing::Test {
 protected:
  ProviderEnv env() { return ProviderEnv{&clock_, "/tmp/ramp-builtin-test", nullptr, ""}; }
  ramp::testing::SimulatedClock clock_;
};

TEST_F(BuiltinTest, BuildsEachBuiltinType) {
  spec::MetricProviderSpec prom;
  prom.prometheus.emplace();
  spec::MetricProviderSpec web;
  web.web.emplace();
  spec::MetricProviderSpec job;
  job.job.emplace();
  for (auto [spec, type] :
       {std::pair{prom, "Prometheus"}, std::pair{web, "Web"}, std::pair{job, "Job"}}) {
    auto p = makeBuiltinProvider(spec, env());
    ASSERT_TRUE(p.has_value()) << type << ": " << p.error().message;
    EXPECT_EQ((*p)->type(), type);
  }
}

TEST_F(BuiltinTest, UnsupportedProvidersAreNamed) {
  spec::MetricProviderSpec dd;
  dd.other["datadog"] = spec::RawJson{"{}"};
  auto r = makeBuiltinProvider(dd, env());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(r.error().message.find("datadog"), std::string::npos);

  spec::MetricProviderSpec plugin;
  plugin.plugin["argoproj-labs/something"] = spec::RawJson{"{}"};
  auto pr = makeBuiltinProvider(plugin, env());
  ASSERT_FALSE(pr.has_value());
  EXPECT_NE(pr.error().message.find("argoproj-labs/something"), std::string::npos);

  EXPECT_EQ(makeBuiltinProvider({}, env()).error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace ramp::analysis::providers
