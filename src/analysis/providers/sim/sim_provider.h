#pragma once

// SimProvider ("ramp/sim", registered as "provider.sim"): a scripted metric provider for the
// controller's crash test and scale benchmark. The metric's config says which value each
// measurement returns:
//
//   provider:
//     plugin:
//       ramp/sim:
//         key: "{{args.image}}"            # chooses the script (args substituted by the engine)
//         script:
//           "demo:v2": [1, 1, 0.2]          # i-th measurement -> script[key][min(i, n-1)]
//           "*": [1]                        # fallback for any other key
//
// i is the number of measurements already recorded for the metric in the run (its count plus
// its errors), so the provider is stateless and carries on where it was after a restart. A
// number is returned as a value for the metric's conditions; the string "error" makes the
// measurement fail with an Error. A key with no script and no "*" is an Error (missing data is
// never success).
//
// Thread safety: holds no state; run() may be called concurrently.

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ramp/analysis/metric_provider.h"
#include "ramp/error.h"
#include "ramp/registry.h"
#include "ramp/spec/analysis.h"

namespace ramp::analysis::providers {

// One scripted step: a value, or a measurement error.
struct SimStep {
  bool error = false;
  double value = 0;
  bool operator==(const SimStep&) const = default;
};

struct SimConfig {
  std::string key;
  std::vector<std::pair<std::string, std::vector<SimStep>>> script;  // in config order
  bool operator==(const SimConfig&) const = default;
};

// Parses the provider.plugin["ramp/sim"] JSON. On error returns kInvalidArgument naming the
// field path, e.g. `provider.plugin["ramp/sim"].script: must be an object`.
Result<SimConfig> parseSimConfig(std::string_view json);

// The step of measurement `index` (0-based) for config.key: script[key][min(index, n-1)], else
// the "*" script. kNotFound naming the key when neither exists.
Result<SimStep> simStepFor(const SimConfig& config, int64_t index);

class SimProvider final : public MetricProvider {
 public:
  // Reads the metric's provider.plugin["ramp/sim"] and returns the scripted step: kValue with
  // the number, or an Error for "error", a missing script or bad config (field path named).
  Result<ProviderReply> run(const MeasureContext& ctx) override;
  std::string type() const override { return "ramp/sim"; }
};

// The registry factory: checks spec.plugin["ramp/sim"] parses (kInvalidArgument otherwise).
Result<MetricProviderPtr> makeSimProvider(const spec::MetricProviderSpec& spec,
                                          const ExtensionContext& context);

}  // namespace ramp::analysis::providers
