// common/metrics_page.h: the one writer of Prometheus text.
#include "common/metrics_page.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace ramp {
namespace {

TEST(MetricsPageTest, WritesEachFamilyOnceWithItsSamplesTogether) {
  MetricsPage page;
  auto& info = page.family("rollout_info", MetricType::kGauge, "Information about a rollout.",
                           {"namespace", "name"});
  auto& events = page.family("rollout_events_total", MetricType::kCounter, "Events.",
                             {"namespace", "name", "type", "reason"});
  info.add({"prod", "a"}, 1);
  events.add({"prod", "a", "Normal", "RolloutCompleted"}, int64_t{3});
  info.add({"prod", "b"}, 0);
  page.family("controller_workqueue_depth", MetricType::kGauge, "Keys queued and ready.")
      .add({}, 7);
  EXPECT_EQ(page.errors(), std::vector<std::string>{});
  EXPECT_EQ(page.text(),
            "# HELP rollout_info Information about a rollout.\n"
            "# TYPE rollout_info gauge\n"
            "rollout_info{namespace=\"prod\",name=\"a\"} 1\n"
            "rollout_info{namespace=\"prod\",name=\"b\"} 0\n"
            "# HELP rollout_events_total Events.\n"
            "# TYPE rollout_events_total counter\n"
            "rollout_events_total{namespace=\"prod\",name=\"a\",type=\"Normal\","
            "reason=\"RolloutCompleted\"} 3\n"
            "# HELP controller_workqueue_depth Keys queued and ready.\n"
            "# TYPE controller_workqueue_depth gauge\n"
            "controller_workqueue_depth 7\n");
}

TEST(MetricsPageTest, WritesAHistogramCumulatively) {
  MetricsPage page;
  const std::array<double, 2> bounds = {0.01, 0.5};
  const std::array<int64_t, 3> counts = {2, 1, 4};
  page.family("rollout_reconcile", MetricType::kHistogram, "Reconciliation performance.")
      .addHistogram({}, bounds, counts, 3.25);
  EXPECT_EQ(page.errors(), std::vector<std::string>{});
  EXPECT_EQ(page.text(),
            "# HELP rollout_reconcile Reconciliation performance.\n"
            "# TYPE rollout_reconcile histogram\n"
            "rollout_reconcile_bucket{le=\"0.01\"} 2\n"
            "rollout_reconcile_bucket{le=\"0.5\"} 3\n"
            "rollout_reconcile_bucket{le=\"+Inf\"} 7\n"
            "rollout_reconcile_sum 3.25\n"
            "rollout_reconcile_count 7\n");
}

TEST(MetricsPageTest, EscapesLabelValuesAndHelp) {
  MetricsPage page;
  page.family("x_info", MetricType::kGauge, "a \\ b\nc", {"name"}).add({"q\"b\\s\nn"}, 1);
  EXPECT_EQ(page.text(),
            "# HELP x_info a \\\\ b\\nc\n"
            "# TYPE x_info gauge\n"
            "x_info{name=\"q\\\"b\\\\s\\nn\"} 1\n");
  EXPECT_EQ(escapeLabelValue("plain"), "plain");
}

TEST(MetricsPageTest, FormatsValuesAsPrometheusReadsThem) {
  struct Case {
    double value;
    const char* text;
  };
  const Case cases[] = {
      {0, "0"},
      {1, "1"},
      {0.1, "0.1"},
      {1e-4, "0.0001"},
      {-2.5, "-2.5"},
      {1e21, "1e+21"},
      {std::numeric_limits<double>::infinity(), "+Inf"},
      {-std::numeric_limits<double>::infinity(), "-Inf"},
      {std::nan(""), "NaN"},
  };
  for (const Case& c : cases) EXPECT_EQ(formatSampleValue(c.value), c.text) << c.text;
}

// What promtool rejects (or lints) is refused here, recorded in errors(), and left off the page.
TEST(MetricsPageTest, RefusesWhatAScrapeWouldReject) {
  struct Case {
    const char* what;
    void (*build)(MetricsPage&);
    const char* error;
  };
  const Case cases[] = {
      {"a name declared twice",
       [](MetricsPage& p) {
         p.family("rollout_events_total", MetricType::kCounter, "a", {"reason"}).add({"r"}, 1);
         p.family("rollout_events_total", MetricType::kCounter, "b", {"namespace", "name"})
             .add({"n", "m"}, 2);
       },
       "metric rollout_events_total is declared twice on one page"},
      {"a counter without _total",
       [](MetricsPage& p) { p.family("rollout_reconcile_error", MetricType::kCounter, "h"); },
       "metric rollout_reconcile_error is a counter whose name does not end in _total"},
      {"an invalid metric name",
       [](MetricsPage& p) { p.family("rollout-info", MetricType::kGauge, "h"); },
       "metric rollout-info is not a valid metric name"},
      {"an invalid label name",
       [](MetricsPage& p) { p.family("x", MetricType::kGauge, "h", {"dry-run"}); },
       "metric x has an invalid label name \"dry-run\""},
      {"a histogram with an le label",
       [](MetricsPage& p) { p.family("h", MetricType::kHistogram, "h", {"le"}); },
       "metric h has an invalid label name \"le\""},
      {"a sample with too few label values",
       [](MetricsPage& p) {
         p.family("x", MetricType::kGauge, "h", {"a", "b"}).add({"1"}, 1);
       },
       "metric x: a sample has 1 label values for 2 label names"},
      {"a plain sample on a histogram",
       [](MetricsPage& p) { p.family("h", MetricType::kHistogram, "h").add({}, 1); },
       "metric h: a histogram takes addHistogram()"},
  };
  for (const Case& c : cases) {
    MetricsPage page;
    c.build(page);
    ASSERT_EQ(page.errors().size(), 1u) << c.what;
    EXPECT_EQ(page.errors()[0], c.error) << c.what;
  }
  // The first declaration of a name wins; the second is not written at all.
  MetricsPage page;
  page.family("rollout_events_total", MetricType::kCounter, "a", {"reason"}).add({"r"}, 1);
  page.family("rollout_events_total", MetricType::kCounter, "b", {"namespace"}).add({"n"}, 2);
  EXPECT_EQ(page.text(),
            "# HELP rollout_events_total a\n"
            "# TYPE rollout_events_total counter\n"
            "rollout_events_total{reason=\"r\"} 1\n");
}

}  // namespace
}  // namespace ramp
