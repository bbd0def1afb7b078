#pragma once

// MetricsPage: the one writer of Prometheus text (exposition format 0.0.4) in ramp. Every part
// that contributes to `/metrics` (the API's object and process metrics, the watch hub's event
// counts, the controller's reconcile metrics) declares its families on the same page, so the
// page holds each metric name once, with one HELP, one TYPE and one label set, and all of a
// family's samples together: what `promtool check metrics` and a Prometheus scrape require.
//
//   MetricsPage page;
//   auto& info = page.family("rollout_info", MetricType::kGauge, "Information about a rollout.",
//                            {"namespace", "name"});
//   info.add({"prod", "demo"}, 1);
//   std::string text = page.text();
//
// Families are written in the order they were declared; samples in the order they were added.
// Mistakes are programming errors, but a scrape must not fail for them: they are recorded in
// errors() (a test asserts there are none) and the offending family or sample is left out.
//
// Thread safety: a MetricsPage is not synchronised; one scrape builds one page on one thread.

#include <cstdint>
#include <deque>
#include <initializer_list>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ramp {

enum class MetricType { kCounter, kGauge, kHistogram };

class MetricsPage {
 public:
  // One metric family: a name, its type, its help and its label names. Obtained from family().
  class Family {
   public:
    // Adds one sample. `labelValues` pairs one for one with the family's label names; a sample
    // with another number of values is left out and recorded in errors(). Not for histograms.
    void add(std::initializer_list<std::string_view> labelValues, double value);
    void add(std::initializer_list<std::string_view> labelValues, int64_t value);
    void add(std::initializer_list<std::string_view> labelValues, int value) {
      add(labelValues, static_cast<int64_t>(value));
    }
    void add(std::initializer_list<std::string_view> labelValues, uint64_t value) {
      add(labelValues, static_cast<int64_t>(value));
    }

    // Adds one histogram (kHistogram families only): the cumulative `_bucket` series with an
    // `le` label per upper bound in `bounds` and one for +Inf, then `_sum` and `_count`.
    // `counts` holds the observations per bucket (not cumulative): one per bound, then the
    // count above the last bound.
    void addHistogram(std::initializer_list<std::string_view> labelValues,
                      std::span<const double> bounds, std::span<const int64_t> counts, double sum);

   private:
    friend class MetricsPage;
    Family(MetricsPage* page, std::string name, MetricType type, std::string help,
           std::vector<std::string> labelNames);
    void sample(std::string_view suffix, std::initializer_list<std::string_view> labelValues,
                std::string_view extraName, std::string_view extraValue, std::string_view value);

    MetricsPage* page_;
    std::string name_;
    MetricType type_;
    std::string help_;
    std::vector<std::string> labelNames_;
    bool dropped_ = false;  // declared in error: samples are discarded
    std::string samples_;
  };

  MetricsPage() = default;
  MetricsPage(const MetricsPage&) = delete;
  MetricsPage& operator=(const MetricsPage&) = delete;

  // Declares the family `name`. Returns it, to add samples to. A name may be declared once per
  // page; a second declaration, an invalid metric or label name, or a counter whose name does not
  // end in "_total" is recorded in errors() and returns a family that discards its samples.
  Family& family(std::string_view name, MetricType type, std::string_view help,
                 std::vector<std::string> labelNames = {});

  // The page: each family's HELP and TYPE lines, then its samples, in declaration order.
  std::string text() const;

  // The mistakes made while building the page, one sentence each; empty when the page is sound.
  const std::vector<std::string>& errors() const { return errors_; }

 private:
  std::deque<Family> families_;  // a deque: references returned by family() stay valid
  std::map<std::string, size_t, std::less<>> index_;
  std::vector<std::string> errors_;
};

// Escapes a label value for the text format: backslash, double quote and newline.
std::string escapeLabelValue(std::string_view value);

// Formats a sample value (or a histogram bound) as Go's %v does, which Prometheus reads: the
// shortest decimal that reads back as the same double ("0.0001", "1e+21"), "+Inf", "-Inf", "NaN".
std::string formatSampleValue(double value);

}  // namespace ramp
