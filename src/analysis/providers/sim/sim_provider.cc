#include "analysis/providers/sim/sim_provider.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace ramp::analysis::providers {
namespace {

using nlohmann::json;

constexpr std::string_view kPlugin = "ramp/sim";
const std::string kPath = "provider.plugin[\"ramp/sim\"]";

std::unexpected<Error> invalid(const std::string& path, const std::string& what) {
  return makeError(ErrorCode::kInvalidArgument, path + ": " + what);
}

}  // namespace

Result<SimConfig> parseSimConfig(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return invalid(kPath, "must be a JSON object");
  SimConfig config;
  bool haveKey = false;
  bool haveScript = false;
  for (const auto& [field, value] : j.items()) {
    if (field == "key") {
      if (!value.is_string()) return invalid(kPath + ".key", "must be a string");
      config.key = value.get<std::string>();
      haveKey = true;
    } else if (field == "script") {
      if (!value.is_object()) return invalid(kPath + ".script", "must be an object");
      for (const auto& [key, steps] : value.items()) {
        std::string path = kPath + ".script[\"" + key + "\"]";
        if (!steps.is_array() || steps.empty()) return invalid(path, "must be a non-empty list");
        std::vector<SimStep> out;
        for (size_t i = 0; i < steps.size(); ++i) {
          const json& s = steps[i];
          if (s.is_number()) {
            out.push_back({false, s.get<double>()});
          } else if (s.is_string() && s.get<std::string>() == "error") {
            out.push_back({true, 0});
          } else {
            return invalid(path + "[" + std::to_string(i) + "]",
                           "must be a number or \"error\", got " + s.dump());
          }
        }
        config.script.emplace_back(key, std::move(out));
      }
      haveScript = true;
    } else {
      return invalid(kPath + "." + field, "unknown field (known: key, script)");
    }
  }
  if (!haveKey) return invalid(kPath + ".key", "is required");
  if (!haveScript) return invalid(kPath + ".script", "is required");
  return config;
}

Result<SimStep> simStepFor(const SimConfig& config, int64_t index) {
  const std::vector<SimStep>* steps = nullptr;
  for (const auto& [key, s] : config.script) {
    if (key == config.key) steps = &s;
  }
  if (steps == nullptr) {
    for (const auto& [key, s] : config.script) {
      if (key == "*") steps = &s;
    }
  }
  if (steps == nullptr) {
    return makeError(ErrorCode::kNotFound,
                     kPath + ".script: no entry for key \"" + config.key + "\" and no \"*\"");
  }
  size_t i = static_cast<size_t>(std::clamp<int64_t>(index, 0, int64_t(steps->size()) - 1));
  return (*steps)[i];
}

Result<ProviderReply> SimProvider::run(const MeasureContext& ctx) {
  auto it = ctx.metric->provider.plugin.find(std::string(kPlugin));
  if (it == ctx.metric->provider.plugin.end()) {
    return makeError(ErrorCode::kInvalidArgument,
                     kPath + ": missing in metric " + ctx.metric->name);
  }
  auto config = parseSimConfig(it->second.text);
  if (!config) return std::unexpected(config.error());
  int64_t index = 0;
  for (const spec::MetricResult& r : ctx.run->status.metricResults) {
    if (r.name == ctx.metric->name) index = int64_t{r.count} + r.error;
  }
  auto step = simStepFor(*config, index);
  if (!step) return std::unexpected(step.error());
  if (step->error) {
    return makeError(ErrorCode::kUnavailable, "ramp/sim: scripted error for key \"" + config->key +
                                                  "\" (measurement " + std::to_string(index) + ")");
  }
  ProviderReply reply;
  reply.kind = ProviderReply::Kind::kValue;
  reply.value = Value::floating(step->value);
  return reply;
}

Result<MetricProviderPtr> makeSimProvider(const spec::MetricProviderSpec& spec,
                                          const ExtensionContext& context) {
  auto it = spec.plugin.find(std::string(kPlugin));
  if (it == spec.plugin.end()) {
    return makeError(ErrorCode::kInvalidArgument, kPath + ": missing");
  }
  if (auto config = parseSimConfig(it->second.text); !config) {
    return std::unexpected(config.error());
  }
  return MetricProviderPtr(std::make_unique<SimProvider>());
}

}  // namespace ramp::analysis::providers
