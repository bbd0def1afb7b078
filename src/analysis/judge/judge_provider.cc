#include "analysis/judge/judge_provider.h"

namespace ramp::analysis::judge {

namespace {

spec::AnalysisPhase toAnalysisPhase(Phase phase) {
  switch (phase) {
    case Phase::kRunning: return spec::AnalysisPhase::kRunning;
    case Phase::kSuccessful: return spec::AnalysisPhase::kSuccessful;
    case Phase::kFailed: return spec::AnalysisPhase::kFailed;
    case Phase::kInconclusive: return spec::AnalysisPhase::kInconclusive;
  }
  return spec::AnalysisPhase::kError;
}

}  // namespace

Result<JudgeConfig> judgeConfigOf(const spec::Metric& metric) {
  auto it = metric.provider.plugin.find("ramp/judge");
  if (it == metric.provider.plugin.end()) {
    return makeError(ErrorCode::kInvalidArgument,
                     "metric " + metric.name + ": provider.plugin has no ramp/judge entry");
  }
  auto config = parseJudgeConfig(it->second.empty() ? "{}" : it->second.text);
  if (!config) {
    return makeError(config.error().code,
                     "metric " + metric.name + ": provider.plugin." + config.error().message);
  }
  return config;
}

Result<ProviderReply> JudgeProvider::run(const MeasureContext& ctx) {
  auto config = judgeConfigOf(*ctx.metric);
  if (!config) return std::unexpected(config.error());
  return look(ctx, *config, JudgeState{});
}

Result<ProviderReply> JudgeProvider::resume(const MeasureContext& ctx,
                                            const spec::Measurement& inFlight) {
  auto config = judgeConfigOf(*ctx.metric);
  if (!config) return std::unexpected(config.error());
  auto state = JudgeState::fromMap(inFlight.metadata);
  if (!state) return std::unexpected(state.error());
  return look(ctx, *config, *state);
}

Result<ProviderReply> JudgeProvider::look(const MeasureContext& ctx, const JudgeConfig& config,
                                          const JudgeState& state) {
  auto input = source_->fetch(config, ctx);
  if (!input) {
    if (state.looks == 0 || state.fetchErrors + 1 > kMaxFetchErrors) {
      return makeError(input.error().code, "judge: counters unavailable" +
                                               std::string(state.looks ? " too many times" : "") +
                                               ": " + input.error().message);
    }
    JudgeState kept = state;
    ++kept.fetchErrors;
    ProviderReply reply;
    reply.kind = ProviderReply::Kind::kRunning;
    reply.phase = spec::AnalysisPhase::kRunning;
    reply.message = "judge: counters unavailable (" + std::to_string(kept.fetchErrors) + " of " +
                    std::to_string(kMaxFetchErrors) +
                    " tolerated), look skipped: " + input.error().message;
    reply.metadata = kept.toMap();
    reply.resumeAt = ctx.now + config.lookInterval;
    return reply;
  }
  input->time = ctx.now;
  auto verdict = judgeLook(config, state, *input);
  if (!verdict) return std::unexpected(verdict.error());
  verdict->state.fetchErrors = 0;
  ProviderReply reply;
  reply.phase = toAnalysisPhase(verdict->phase);
  reply.message = verdict->explanation;
  reply.displayValue = verdict->displayValue;
  reply.metadata = verdict->state.toMap();
  if (verdict->phase == Phase::kRunning) {
    reply.kind = ProviderReply::Kind::kRunning;
    reply.resumeAt = ctx.now + config.lookInterval;
  } else {
    reply.kind = ProviderReply::Kind::kDecided;
  }
  return reply;
}

}  // namespace ramp::analysis::judge
