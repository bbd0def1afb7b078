// The demo scenario of issue 6, end to end (and its --gitops form, issue 17): ramp-demo --once
// --fast --judge runs v1 (initial deploy), v2 (healthy, canary 5/25/50/100 with Prometheus
// analysis), v3 (10% errors, threshold analysis) and v4 (10% errors, the canary judge of issue 8)
// through a real HAProxy, Prometheus, `ramp serve` and demo service replicas under a steady load of
// 200 requests/s, and writes a JSON summary. The test asserts the outcomes, where stable ends, and
// bounds on what users saw.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <thread>
#include <vector>

#include "gitops/git_servers.h"
#include "harness/harness.h"
#include "harness/promtool.h"

namespace ramp {
namespace {

using namespace std::chrono_literals;

// Runs ramp-demo --once --fast [extra] --json in `dir`; returns the summary, asserting exit 0.
nlohmann::json runDemo(testing::TempDir& dir, const std::vector<std::string>& extra) {
  testing::ProcessOptions o;
  o.argv = {testing::binaryDir() + "/demo/runner/ramp-demo",
            "--once",
            "--fast",
            "--data",
            dir.file("d"),
            "--json",
            dir.file("summary.json")};
  o.argv.insert(o.argv.end(), extra.begin(), extra.end());
  o.logFile = dir.file("demo.log");
  auto p = testing::Process::start(o);
  EXPECT_TRUE(p) << p.error().message;
  if (!p) return {};
  const auto deadline = std::chrono::steady_clock::now() + 270s;
  while ((*p)->running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(200ms);
  }
  const int status = (*p)->stop(15s);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << (*p)->log();
  std::ifstream in(dir.file("summary.json"));
  EXPECT_TRUE(in) << "no summary; log:\n" << (*p)->log();
  if (!in) return {};
  auto j = nlohmann::json::parse(in);
  j["log"] = (*p)->log();
  return j;
}

TEST(DemoE2E, OnceFastPromotesTheHealthyReleaseAndAbortsTheBadOnes) {
  testing::TempDir dir("ramp-e2e");
  const auto j = runDemo(dir, {"--judge"});
  ASSERT_TRUE(j.contains("releases"));
  ASSERT_EQ(j["releases"].size(), 4u) << j.dump(2);
  const auto& v1 = j["releases"][0];
  const auto& v2 = j["releases"][1];
  const auto& v3 = j["releases"][2];
  const auto& v4 = j["releases"][3];
  EXPECT_EQ(v1["outcome"], "Deployed");
  EXPECT_EQ(v2["outcome"], "Promoted");
  EXPECT_EQ(v3["outcome"], "Aborted");
  EXPECT_EQ(v3["analysis"], "threshold");
  EXPECT_EQ(v4["outcome"], "Aborted");
  EXPECT_EQ(v4["analysis"], "judge");
  EXPECT_TRUE(j["ok"].get<bool>());
  // ramp serve's /metrics after four releases on platform.process, as a Prometheus scrape reads
  // it (one HELP, TYPE and label set per name).
  ASSERT_TRUE(j.contains("metricsPage")) << j.value("metricsPageError", "");
  auto checked = testing::promtoolCheckMetrics(j["metricsPage"].get<std::string>());
  EXPECT_TRUE(checked) << (checked ? "" : checked.error().message);
  // Promoted means v2 became stable; aborted means stable stayed v2.
  EXPECT_EQ(v2["stableHash"], v2["hash"]);
  EXPECT_EQ(v3["stableHash"], v2["hash"]);

  // The healthy release costs users nothing (a few transport errors at most, e.g. while
  // HAProxy drops a retired replica's server).
  EXPECT_LE(v2["errors"].get<int64_t>(), 2) << j.dump(2);
  EXPECT_GT(v2["canaryRequests"].get<int64_t>(), 0);

  // The bad release: v3 serves errors at 10% of the canary's 5% share of 200 requests/s, about
  // 1 error per second while it has traffic. The target is weight 0 within 5 s of the
  // first bad answer (measured by bench/demo); here, on a loaded CI machine under ASan, allow 3x
  // that. Errors users saw are bounded by what 30 s of canary traffic at 5% would cause
  // (0.1 x 0.05 x rate x 30 s = 30 at 200 requests/s): a rollout that did not abort, or
  // aborted without moving traffic, exceeds it within the 150 s the runner waits.
  const double rate = j["rate"].get<double>();
  ASSERT_TRUE(v3.contains("firstBadToWeight0S")) << j.dump(2);
  EXPECT_LT(v3["firstBadToWeight0S"].get<double>(), 15.0);
  EXPECT_GE(v3["errors"].get<int64_t>(), 1) << "v3 must have served at least one error";
  EXPECT_LE(v3["errors"].get<double>(), 0.1 * 0.05 * rate * 30) << j.dump(2);
  EXPECT_LE(v3["canaryRequests"].get<double>(), 0.05 * rate * 30) << j.dump(2);

  // The same bad release under the judge: aborted on its evidence (the judge's own Failed
  // measurement, not a threshold), stable still v2, and the same bounds on what users saw.
  EXPECT_EQ(v4["stableHash"], v2["hash"]);
  EXPECT_NE(v4.value("verdict", "").find("judge"), std::string::npos) << j.dump(2);
  EXPECT_NE(v3.value("verdict", "").find("success-rate"), std::string::npos) << j.dump(2);
  ASSERT_TRUE(v4.contains("firstBadToWeight0S")) << j.dump(2);
  EXPECT_LT(v4["firstBadToWeight0S"].get<double>(), 15.0);
  EXPECT_GE(v4["errors"].get<int64_t>(), 1) << "v4 must have served at least one error";
  EXPECT_LE(v4["errors"].get<double>(), 0.1 * 0.05 * rate * 30) << j.dump(2);
  EXPECT_LE(v4["canaryRequests"].get<double>(), 0.05 * rate * 30) << j.dump(2);
}

// Fault: Prometheus is SIGKILLed when v2's first analysis starts. Every measurement errors, the
// analysis ends in Error after consecutiveErrorLimit, and the healthy v2 is aborted rather than
// promoted on missing data: stable stays v1 and v2 stops serving.
TEST(DemoE2E, PrometheusKilledMidReleaseNeverPromotes) {
  testing::TempDir dir("ramp-e2e");
  const auto j = runDemo(dir, {"--kill-prometheus"});
  ASSERT_TRUE(j.contains("releases"));
  ASSERT_EQ(j["releases"].size(), 2u) << j.dump(2);
  const auto& v1 = j["releases"][0];
  const auto& v2 = j["releases"][1];
  EXPECT_EQ(v2["outcome"], "Aborted") << j.dump(2);
  EXPECT_EQ(v2["stableHash"], v1["hash"]);
  EXPECT_EQ(v2["errors"].get<int64_t>(), 0) << "v2 is healthy: the abort costs users nothing";
}

// `make demo ARGS=--gitops`: the same releases from a Git repository through ramp's GitOps agent
// (docs/gitops.md). Each release is a commit; after ramp aborts v3, `ramp app rollback` pushes a
// revert commit (by the operator, the demo's directory back to v2's commit), the agent syncs it
// and the Rollout is back on v2; v4 is committed on top of the revert.
TEST(DemoE2E, GitopsReleasesFromGitAndRollsBackV3ByARevertCommit) {
  testing::TempDir dir("ramp-e2e");
  const auto j = runDemo(dir, {"--gitops", "--judge"});
  ASSERT_TRUE(j.contains("releases"));
  ASSERT_EQ(j["releases"].size(), 4u) << j.dump(2);
  EXPECT_TRUE(j["ok"].get<bool>()) << j.dump(2);
  const auto& v2 = j["releases"][1];
  EXPECT_EQ(j["releases"][2]["outcome"], "Aborted");
  EXPECT_EQ(j["releases"][3]["stableHash"], v2["hash"]) << "v4 replaced v2, restored by the revert";
  const std::string rollback = j["gitops"].value("rollbackCommit", "");
  EXPECT_NE(rollback.find(" by operator: Roll back demo to "), std::string::npos) << j.dump(2);
  EXPECT_NE(j["log"].get<std::string>().find("v3 rolled back in Git by revert commit " + rollback),
            std::string::npos)
      << "the demo prints it";

  const std::string git = "git --git-dir=" + dir.file("d/gitops/deploy.git") + " ";
  EXPECT_EQ(gitops::testing::sh(git + "log --format='%an|%s' main"),
            "ramp-demo|release v4: ramp/demo-service:v4\n"
            "operator|" +
                rollback.substr(rollback.find(": ") + 2) +
                "\n"
                "ramp-demo|release v3: ramp/demo-service:v3\n"
                "ramp-demo|release v2: ramp/demo-service:v2\n"
                "ramp-demo|release v1: ramp/demo-service:v1\n"
                "ramp-demo|analysis templates");
  // The revert's demo/ is v2's commit's, and its message names the reason.
  EXPECT_EQ(gitops::testing::sh(git + "rev-parse main~1:demo"),
            gitops::testing::sh(git + "rev-parse main~3:demo"));
  EXPECT_NE(
      gitops::testing::sh(git + "log -1 --format=%b main~1").find("Reason: v3 aborted by ramp"),
      std::string::npos);
}

}  // namespace
}  // namespace ramp
