// fuzz_judge: bytes -> parseJudgeConfig, and the same bytes as "key=value" lines ->
// JudgeState::fromMap -> one look with the default config (and with latency on). Every path
// must end in a value or an Error.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <string>

#include "analysis/judge/judge.h"

using namespace ramp::analysis::judge;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto config = parseJudgeConfig(text);
  if (config) {
    // A parsed config must be usable for a first look.
    JudgeInput in;
    in.canary = {1, 0, {{0.25, 1}, {std::numeric_limits<double>::infinity(), 1}}};
    in.stable = in.canary;
    if (config->latency && config->latency->thresholdSeconds) {
      in.canary.buckets[0].le = *config->latency->thresholdSeconds;
      in.stable.buckets[0].le = *config->latency->thresholdSeconds;
    }
    (void)judgeLook(*config, JudgeState{}, in);
  }

  std::map<std::string, std::string> meta;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    const size_t eq = line.find('=');
    if (eq != std::string::npos) meta[line.substr(0, eq)] = line.substr(eq + 1);
    start = end + 1;
  }
  auto state = JudgeState::fromMap(meta);
  if (state) {
    (void)JudgeState::fromMap(state->toMap());
    JudgeInput in;
    in.canary = {100, 1, {}};
    in.stable = {900, 5, {}};
    (void)judgeLook(JudgeConfig{}, *state, in);
    JudgeConfig lat;
    lat.latency = LatencyConfig{};
    lat.canaryWeight = 0.1;
    in.canary.buckets = {{0.1, 50}, {std::numeric_limits<double>::infinity(), 100}};
    in.stable.buckets = {{0.1, 450}, {std::numeric_limits<double>::infinity(), 900}};
    (void)judgeLook(lat, *state, in);
  }
  return 0;
}
