#pragma once

// ScriptedProvider: a MetricProvider whose answers a test scripts in advance, one per call.
//
// Each run() / resume() pops the next scripted answer (a value, a decided phase, an in-flight
// reply or an error); terminate() returns the scripted status. Every call is logged with the
// metric it was given (args and secrets substituted), so tests can check what the engine asked.
// Calling run() or resume() with nothing scripted is an error reply ("script exhausted"), which
// the engine records as an Error measurement: a test that forgets a step fails visibly.
//
// Thread-safe (the engine calls providers from several threads).

#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "ramp/analysis/metric_provider.h"

namespace ramp::testing {

class ScriptedProvider final : public analysis::MetricProvider {
 public:
  using Reply = Result<analysis::ProviderReply>;

  struct Call {
    std::string op;  // "run", "resume", "terminate"
    spec::Metric metric;
    spec::Measurement inFlight;  // for resume/terminate
    Time now;
  };

  static Reply value(Value v) {
    analysis::ProviderReply r;
    r.kind = analysis::ProviderReply::Kind::kValue;
    r.value = std::move(v);
    return r;
  }
  static Reply number(double d) { return value(Value::floating(d)); }
  static Reply decided(spec::AnalysisPhase phase, std::string message = "") {
    analysis::ProviderReply r;
    r.kind = analysis::ProviderReply::Kind::kDecided;
    r.phase = phase;
    r.message = std::move(message);
    return r;
  }
  static Reply running(std::optional<Time> resumeAt, std::map<std::string, std::string> md = {}) {
    analysis::ProviderReply r;
    r.kind = analysis::ProviderReply::Kind::kRunning;
    r.resumeAt = resumeAt;
    r.metadata = std::move(md);
    return r;
  }
  static Reply error(std::string message) {
    return std::unexpected(Error{ErrorCode::kUnavailable, std::move(message)});
  }

  // Appends answers for run() / resume().
  ScriptedProvider& onRun(Reply r) {
    std::lock_guard lock(mu_);
    runs_.push_back(std::move(r));
    return *this;
  }
  ScriptedProvider& onResume(Reply r) {
    std::lock_guard lock(mu_);
    resumes_.push_back(std::move(r));
    return *this;
  }
  ScriptedProvider& onTerminate(Status s) {
    std::lock_guard lock(mu_);
    terminate_ = std::move(s);
    return *this;
  }

  Reply run(const analysis::MeasureContext& ctx) override {
    std::lock_guard lock(mu_);
    calls_.push_back({"run", *ctx.metric, {}, ctx.now});
    return pop(runs_);
  }
  Reply resume(const analysis::MeasureContext& ctx, const spec::Measurement& inFlight) override {
    std::lock_guard lock(mu_);
    calls_.push_back({"resume", *ctx.metric, inFlight, ctx.now});
    return pop(resumes_);
  }
  Status terminate(const analysis::MeasureContext& ctx,
                   const spec::Measurement& inFlight) override {
    std::lock_guard lock(mu_);
    calls_.push_back({"terminate", *ctx.metric, inFlight, ctx.now});
    return terminate_;
  }
  std::string type() const override { return "Scripted"; }

  std::vector<Call> calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }
  size_t count(const std::string& op) const {
    std::lock_guard lock(mu_);
    size_t n = 0;
    for (const Call& c : calls_) n += c.op == op ? 1 : 0;
    return n;
  }

 private:
  static Reply pop(std::deque<Reply>& q) {
    if (q.empty()) return error("script exhausted");
    Reply r = std::move(q.front());
    q.pop_front();
    return r;
  }

  mutable std::mutex mu_;
  std::deque<Reply> runs_;
  std::deque<Reply> resumes_;
  Status terminate_;
  std::vector<Call> calls_;
};

}  // namespace ramp::testing
