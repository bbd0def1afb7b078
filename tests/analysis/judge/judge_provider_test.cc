// JudgeProvider over a fake CountsSource: the Argo measurement protocol (kRunning with
// resumeAt, then kDecided), state carried only in metadata, fetch failures.

#include "analysis/judge/judge_provider.h"

#include <deque>
#include <mutex>

#include <gtest/gtest.h>

#include "fakes/simulated_clock.h"

namespace ramp::analysis::judge {
namespace {

using std::chrono::seconds;

class FakeCounts : public CountsSource {
 public:
  Result<JudgeInput> fetch(const JudgeConfig& config, const MeasureContext& ctx) override {
    std::lock_guard lock(mu_);
    lastQuery = config.canary.requests;
    if (replies.empty()) return makeError(ErrorCode::kInternal, "fake: no reply queued");
    auto r = replies.front();
    replies.pop_front();
    return r;
  }
  void push(double cr, double ce, double sr, double se) {
    JudgeInput in;
    in.canary = {cr, ce, {}};
    in.stable = {sr, se, {}};
    replies.push_back(in);
  }
  void fail() { replies.push_back(makeError(ErrorCode::kUnavailable, "prometheus: refused")); }

  std::mutex mu_;
  std::deque<Result<JudgeInput>> replies;
  std::string lastQuery;
};

struct Fixture {
  Fixture(const std::string& config) {
    metric.name = "judge";
    metric.provider.plugin["ramp/judge"] = spec::RawJson{config};
    run.metadata.name = "r";
    ctx.run = &run;
    ctx.metric = &metric;
    ctx.now = clock.now();
  }
  testing::SimulatedClock clock;
  spec::Metric metric;
  spec::AnalysisRun run;
  MeasureContext ctx;
};

const char* kConfig =
    R"({"preset": {"name": "demo", "canary": "v2", "stable": "v1"}, "lookInterval": "10s"})";

spec::Measurement inFlight(const ProviderReply& r) {
  spec::Measurement m;
  m.phase = r.phase;
  m.metadata = r.metadata;
  return m;
}

TEST(JudgeProvider, RunsThenDecidesFailedWithExplanation) {
  auto counts = std::make_shared<FakeCounts>();
  JudgeProvider provider(counts);
  EXPECT_EQ(provider.type(), "ramp/judge");
  Fixture f(kConfig);
  counts->push(0, 0, 0, 0);
  auto first = provider.run(f.ctx);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->kind, ProviderReply::Kind::kRunning);
  EXPECT_EQ(first->phase, spec::AnalysisPhase::kRunning);
  ASSERT_TRUE(first->resumeAt);
  EXPECT_EQ(*first->resumeAt, f.ctx.now + seconds(10));
  EXPECT_EQ(counts->lastQuery, "sum(http_requests_total{version=\"v2\"})");

  // A fresh provider instance (a restarted daemon) resumes from the metadata alone.
  JudgeProvider restarted(counts);
  f.clock.advance(seconds(10));
  f.ctx.now = f.clock.now();
  counts->push(20, 14, 380, 6);
  auto second = restarted.resume(f.ctx, inFlight(*first));
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(second->kind, ProviderReply::Kind::kDecided);
  EXPECT_EQ(second->phase, spec::AnalysisPhase::kFailed);
  EXPECT_NE(second->message.find("canary 14 of 20"), std::string::npos) << second->message;
  EXPECT_NE(second->displayValue.find("threshold 100"), std::string::npos);
  EXPECT_EQ(second->metadata.at("judge.looks"), "2");
}

TEST(JudgeProvider, ToleratesAFewFailedFetchesThenErrors) {
  auto counts = std::make_shared<FakeCounts>();
  JudgeProvider provider(counts);
  Fixture f(kConfig);
  counts->push(0, 0, 0, 0);
  auto reply = provider.run(f.ctx);
  ASSERT_TRUE(reply);
  for (int i = 1; i <= JudgeProvider::kMaxFetchErrors; ++i) {
    counts->fail();
    auto next = provider.resume(f.ctx, inFlight(*reply));
    ASSERT_TRUE(next) << next.error().message;
    EXPECT_EQ(next->kind, ProviderReply::Kind::kRunning);
    EXPECT_NE(next->message.find("prometheus: refused"), std::string::npos);
    EXPECT_EQ(next->metadata.at("judge.looks"), "1");  // the state survives the failure
    reply = next;
  }
  counts->fail();
  auto last = provider.resume(f.ctx, inFlight(*reply));
  ASSERT_FALSE(last);
  EXPECT_NE(last.error().message.find("counters unavailable too many times"), std::string::npos);
}

TEST(JudgeProvider, SuccessfulFetchResetsTheFailureCount) {
  auto counts = std::make_shared<FakeCounts>();
  JudgeProvider provider(counts);
  Fixture f(kConfig);
  counts->push(0, 0, 0, 0);
  auto reply = provider.run(f.ctx);
  counts->fail();
  reply = provider.resume(f.ctx, inFlight(*reply));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->metadata.at("judge.counters"), "0,0,1");
  counts->push(10, 0, 190, 1);
  reply = provider.resume(f.ctx, inFlight(*reply));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->metadata.at("judge.counters"), "0,0,0");
}

TEST(JudgeProvider, FirstFetchFailureIsAnError) {
  auto counts = std::make_shared<FakeCounts>();
  JudgeProvider provider(counts);
  Fixture f(kConfig);
  counts->fail();
  auto r = provider.run(f.ctx);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
}

TEST(JudgeProvider, BadConfigNamesMetricAndField) {
  auto counts = std::make_shared<FakeCounts>();
  JudgeProvider provider(counts);
  Fixture f(R"({"preset": {"name": "demo", "canary": "v2", "stable": "v1"}, "alpha": 0})");
  auto r = provider.run(f.ctx);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("metric judge: provider.plugin.ramp/judge.alpha"),
            std::string::npos)
      << r.error().message;
}

TEST(JudgeProvider, CorruptStateIsAnError) {
  auto counts = std::make_shared<FakeCounts>();
  JudgeProvider provider(counts);
  Fixture f(kConfig);
  spec::Measurement m;
  m.metadata["judge.version"] = "1";
  auto r = provider.resume(f.ctx, m);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("judge.looks"), std::string::npos);
}

}  // namespace
}  // namespace ramp::analysis::judge
