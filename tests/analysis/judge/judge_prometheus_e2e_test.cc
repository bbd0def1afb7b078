// The judge end to end: a real Prometheus scraping real demo services (stable v1, a bad canary
// v2 with 10x stable's error rate, a healthy canary v3 with stable's rate), load generated here,
// and provider.judge from the registry driven through run()/resume() on the real clock, at the
// times it asks for. The bad canary must be rolled back; the healthy one must not.

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "harness/harness.h"
#include "ramp/registry.h"

namespace ramp {
namespace {

using namespace std::chrono_literals;
using ramp::testing::DemoOptions;
using ramp::testing::DemoService;
using ramp::testing::PrometheusServer;
using ramp::testing::TempDir;

struct Judged {
  std::string name;
  spec::Metric metric;
  analysis::MetricProviderPtr provider;
  std::optional<analysis::ProviderReply> last;
  std::optional<Time> decidedAt;
  int looks = 0;
  bool done() const { return last && last->kind != analysis::ProviderReply::Kind::kRunning; }
};

TEST(JudgeWithPrometheus, RollsBackABadCanaryAndNotAHealthyOne) {
  TempDir dir("ramp-judge-e2e");
  auto stable = DemoService::start({.version = "v1", .errorRate = 0.02, .seed = 11}, dir.path());
  ASSERT_TRUE(stable) << stable.error().message;
  auto bad = DemoService::start({.version = "v2", .errorRate = 0.2, .seed = 12}, dir.path());
  ASSERT_TRUE(bad) << bad.error().message;
  auto healthy = DemoService::start({.version = "v3", .errorRate = 0.02, .seed = 13}, dir.path());
  ASSERT_TRUE(healthy) << healthy.error().message;
  auto prom = PrometheusServer::start(
      {.targets = {{"demo", {(*stable)->hostPort(), (*bad)->hostPort(), (*healthy)->hostPort()}}}},
      dir.path());
  ASSERT_TRUE(prom) << prom.error().message;
  ASSERT_TRUE((*prom)->waitForTargetsUp(3));

  // Load: the same stream of requests to each version, until the test ends.
  std::atomic<bool> stop{false};
  std::atomic<int> transportErrors{0};
  std::thread load([&] {
    while (!stop.load()) {
      for (auto* s : {stable->get(), bad->get(), healthy->get()}) {
        if (!s->drive(1)) ++transportErrors;
      }
    }
  });
  struct StopLoad {
    std::atomic<bool>& stop;
    std::thread& load;
    ~StopLoad() {
      stop = true;
      load.join();
    }
  } stopLoad{stop, load};

  Registry registry;
  registerBuiltins(registry, BuiltinSettings{(*prom)->url()});
  ExtensionContext context;
  context.clock = &realClock();
  auto judged = [&](const std::string& canary) {
    Judged j;
    j.name = canary;
    j.metric.name = "judge-" + canary;
    // alpha 0.1 %: the healthy canary's chance of a (false) rollback in this test is <= 0.001.
    j.metric.provider.plugin["ramp/judge"] = spec::RawJson{
        R"({"preset": {"name": "demo", "canary": ")" + canary +
        R"(", "stable": "v1"}, "alpha": 0.001, "lookInterval": "1s", "maxDuration": "10m",
            "latency": {"thresholdSeconds": 0.1}})"};
    auto p = registry.makeProvider(j.metric.provider, context);
    EXPECT_TRUE(p) << p.error().message;
    if (p) j.provider = std::move(*p);
    return j;
  };
  Judged judges[2] = {judged("v2"), judged("v3")};
  ASSERT_TRUE(judges[0].provider && judges[1].provider);
  spec::AnalysisRun run;
  run.metadata.name = "canary-judge";

  const Time start = realClock().now();
  const Time deadline = start + 90s;
  // The healthy canary is watched at least 15 s past the bad one's rollback (>= 15 looks).
  auto finished = [&](Time now) {
    if (!judges[0].done()) return false;
    return judges[1].done() || now >= *judges[0].decidedAt + 15s;
  };
  while (true) {
    Time now = realClock().now();
    if (finished(now) || now >= deadline) break;
    Time next = deadline;
    for (auto& j : judges) {
      if (j.done()) continue;
      if (!j.last || now >= *j.last->resumeAt) {
        analysis::MeasureContext ctx{&run, &j.metric, now};
        Result<analysis::ProviderReply> r =
            j.last ? j.provider->resume(ctx, spec::Measurement{.phase = j.last->phase,
                                                               .metadata = j.last->metadata})
                   : j.provider->run(ctx);
        ASSERT_TRUE(r) << j.name << ": " << r.error().message;
        ++j.looks;
        j.last = *r;
        if (j.done()) j.decidedAt = now;
      }
      if (!j.done()) next = std::min(next, *j.last->resumeAt);
    }
    // Wait for the earliest look asked for (the scheduler's job in the daemon).
    if (next > realClock().now())
      std::this_thread::sleep_until(std::chrono::system_clock::time_point(next.time_since_epoch()));
  }

  EXPECT_EQ(transportErrors.load(), 0);
  ASSERT_TRUE(judges[0].last);
  EXPECT_TRUE(judges[0].done()) << "bad canary not decided in 90 s; last: "
                                << judges[0].last->message;
  EXPECT_EQ(judges[0].last->phase, spec::AnalysisPhase::kFailed) << judges[0].last->message;
  EXPECT_NE(judges[0].last->message.find("Failed"), std::string::npos) << judges[0].last->message;
  std::cout
      << "bad canary: " << judges[0].looks << " looks, "
      << std::chrono::duration_cast<std::chrono::seconds>(*judges[0].decidedAt - start).count()
      << " s: " << judges[0].last->message << "\n";

  ASSERT_TRUE(judges[1].last);
  EXPECT_NE(judges[1].last->phase, spec::AnalysisPhase::kFailed) << judges[1].last->message;
  EXPECT_GE(judges[1].looks, 10);
  // It judged real traffic, not an empty series.
  EXPECT_EQ(judges[1].last->message.find("canary 0 of 0"), std::string::npos)
      << judges[1].last->message;
  std::cout << "healthy canary: " << judges[1].looks << " looks, phase "
            << static_cast<int>(judges[1].last->phase) << ": " << judges[1].last->message << "\n";
}

}  // namespace
}  // namespace ramp
