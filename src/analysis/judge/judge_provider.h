#pragma once

// JudgeProvider: ramp's canary judge as a metric provider, used from an ordinary
// AnalysisTemplate as `provider: {plugin: {ramp/judge: {...}}}`.
//
// One judge measurement is one whole sequential test. run() records the counters' baseline
// and returns kRunning with resumeAt = now + lookInterval; each resume() takes one more look
// and returns kRunning until the judge decides, then kDecided with the phase (Successful,
// Failed or Inconclusive), the explanation as the message and the evidence as displayValue.
// All state lives in the measurement's metadata ("judge.*"), so a restarted daemon resumes the
// test exactly. Use the metric without `interval`/`count`: the look cadence is the judge's own
// `lookInterval`.
//
// The counters come from a CountsSource (the Prometheus glue implements it; tests use a fake).
//
// Thread safety: run/resume/terminate may be called concurrently for different measurements;
// the provider holds no mutable state, and the CountsSource must itself be thread-safe.

#include <memory>
#include <string>

#include "analysis/judge/judge.h"
#include "ramp/analysis/metric_provider.h"

namespace ramp::analysis::judge {

// Where the judge's counters come from.
class CountsSource {
 public:
  virtual ~CountsSource() = default;

  // Fetches the cumulative counters (requests, errors and, when config.latency is set, the
  // latency histogram of each arm) as of ctx.now, using the queries in `config`. On success
  // the input's time is ctx.now. A counter that does not exist yet (no traffic so far) is 0.
  // On error (server unreachable, bad response) returns an Error naming the endpoint/query.
  virtual Result<JudgeInput> fetch(const JudgeConfig& config, const MeasureContext& ctx) = 0;
};

class JudgeProvider final : public MetricProvider {
 public:
  // Consecutive failed fetches tolerated inside one judge measurement before it errors out;
  // until then the measurement stays Running with its state intact and retries next look.
  static constexpr int64_t kMaxFetchErrors = 4;

  explicit JudgeProvider(std::shared_ptr<CountsSource> source) : source_(std::move(source)) {}

  // Parses the config, fetches the baseline counters and returns kRunning (or an Error for a
  // bad config or a failed first fetch: nothing has been judged yet).
  Result<ProviderReply> run(const MeasureContext& ctx) override;

  // Restores the state from inFlight.metadata, fetches, takes one look. Returns kRunning or
  // kDecided. A failed fetch keeps the state and returns kRunning up to kMaxFetchErrors times
  // in a row, then an Error (missing data never counts as success).
  Result<ProviderReply> resume(const MeasureContext& ctx,
                               const spec::Measurement& inFlight) override;

  std::string type() const override { return "ramp/judge"; }

 private:
  Result<ProviderReply> look(const MeasureContext& ctx, const JudgeConfig& config,
                             const JudgeState& state);

  std::shared_ptr<CountsSource> source_;
};

// Reads and parses the metric's provider.plugin["ramp/judge"] config. Error names the field.
Result<JudgeConfig> judgeConfigOf(const spec::Metric& metric);

}  // namespace ramp::analysis::judge
