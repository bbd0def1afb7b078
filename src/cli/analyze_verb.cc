// `ramp analyze`: runs an AnalysisRun in the foreground, in real time, with the built-in metric
// providers, printing each measurement as it completes and the run's verdict at the end.
//
//   ramp analyze -f FILE [--template NAME] [--arg NAME=VALUE]… [-o json] [--secrets-dir DIR]
//                [--prometheus URL]
//
// FILE holds AnalysisTemplates / ClusterAnalysisTemplates (a run is created from the one named by
// --template, or the only one) or one AnalysisRun (run as is). Exit codes: 0 Successful,
// 1 Failed, 2 Error, 3 Inconclusive, 4 invalid input. Ctrl-C terminates the run the way Argo's
// `spec.terminate` does and reports the phase it ends in. A configuration error (no Prometheus
// address, an unsupported provider) stops the run at once with exit 2, not after its retries.

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <ostream>
#include <random>
#include <sstream>

#include "analysis/args.h"
#include "analysis/engine.h"
#include "analysis/providers/builtin.h"
#include "analysis/run_factory.h"
#include "analysis/runner.h"
#include "analysis/secret_dir.h"
#include "cli/verb.h"
#include "common/redact.h"
#include "spec/codec.h"
#include "spec/validation.h"

namespace ramp::cli {
namespace {

using spec::AnalysisPhase;

std::atomic<bool> gInterrupted{false};

extern "C" void onSigint(int) { gInterrupted.store(true); }

int exitCodeFor(AnalysisPhase phase) {
  switch (phase) {
    case AnalysisPhase::kSuccessful: return 0;
    case AnalysisPhase::kFailed: return 1;
    case AnalysisPhase::kInconclusive: return 3;
    default: return 2;
  }
}

std::string randomSuffix() {
  static const char kChars[] = "bcdfghjklmnpqrstvwxz2456789";
  std::random_device rd;
  std::string s;
  for (int i = 0; i < 5; ++i) s += kChars[rd() % (sizeof(kChars) - 1)];
  return s;
}

// A short human explanation of a measurement's phase.
std::string why(const spec::Metric& metric, const spec::Measurement& m) {
  if (!m.message.empty()) return m.message;
  const std::string& sc = metric.successCondition;
  const std::string& fc = metric.failureCondition;
  switch (m.phase) {
    case AnalysisPhase::kSuccessful:
      if (sc.empty() && fc.empty()) return "no conditions: any value succeeds";
      if (!sc.empty()) return "successCondition met: " + sc;
      return "failureCondition not met: " + fc;
    case AnalysisPhase::kFailed:
      if (!fc.empty()) return "failureCondition met: " + fc;
      return "successCondition not met: " + sc;
    case AnalysisPhase::kInconclusive: return "neither successCondition nor failureCondition met";
    case AnalysisPhase::kRunning: return "in progress";
    default: return "";
  }
}

// Whether a provider's error is the metric's configuration (no Prometheus address, an
// unsupported provider or option), which no retry can fix, rather than a failed query.
bool isConfigurationError(const Error& e) {
  return e.code == ErrorCode::kInvalidArgument || e.code == ErrorCode::kUnsupported;
}

// Wraps a provider for `ramp analyze`: the first configuration error stops the run at once
// (through `stop`, as Ctrl-C does) instead of being retried until consecutiveErrorLimit, and is
// kept for the report. Thread safety: as the wrapped provider; the shared state is atomic or
// behind `mu`.
class FailFastProvider final : public analysis::MetricProvider {
 public:
  FailFastProvider(analysis::MetricProviderPtr inner, std::atomic<bool>* stop, std::mutex* mu,
                   std::string* firstError)
      : inner_(std::move(inner)), stop_(stop), mu_(mu), firstError_(firstError) {}

  Result<analysis::ProviderReply> run(const analysis::MeasureContext& ctx) override {
    return check(ctx, inner_->run(ctx));
  }
  Result<analysis::ProviderReply> resume(const analysis::MeasureContext& ctx,
                                         const spec::Measurement& inFlight) override {
    return check(ctx, inner_->resume(ctx, inFlight));
  }
  Status terminate(const analysis::MeasureContext& ctx,
                   const spec::Measurement& inFlight) override {
    return inner_->terminate(ctx, inFlight);
  }
  std::string type() const override { return inner_->type(); }

 private:
  Result<analysis::ProviderReply> check(const analysis::MeasureContext& ctx,
                                        Result<analysis::ProviderReply> reply) {
    if (!reply && isConfigurationError(reply.error())) {
      std::lock_guard lock(*mu_);
      if (firstError_->empty()) {
        *firstError_ = "metric \"" + ctx.metric->name + "\": " + reply.error().message;
      }
      stop_->store(true);
    }
    return reply;
  }

  analysis::MetricProviderPtr inner_;
  std::atomic<bool>* stop_;
  std::mutex* mu_;
  std::string* firstError_;
};

class AnalyzeVerb final : public Verb {
 public:
  std::string name() const override { return "analyze"; }
  std::string summary() const override {
    return "Run an AnalysisTemplate or AnalysisRun now and print its verdict";
  }
  void configure(CLI::App& cmd) override {
    cmd.add_option("-f,--filename", file_, "YAML/JSON file with the template(s) or a run")
        ->required();
    cmd.add_option("--template", template_, "Template to run when the file holds several");
    cmd.add_option("--arg", args_, "Argument NAME=VALUE (repeatable); overrides the run's args");
    cmd.add_option("-o,--output", output_, "Output format: text (default) or json")
        ->check(CLI::IsMember({"text", "json"}));
    cmd.add_option("--secrets-dir", secretsDir_,
                   "Directory of secrets <dir>/<namespace>/<secret>/<key> for secretKeyRef args");
    cmd.add_option("--state-dir", stateDir_, "Directory for job measurement state");
    cmd.add_option("--name", runName_, "Name of the created run (default <template>-<random>)");
    cmd.add_option("--prometheus", prometheus_,
                   "Prometheus address for metrics that name none (default: "
                   "$ARGO_ROLLOUTS_PROMETHEUS_ADDRESS)");
  }

  int run(IoStreams& io) override {
    auto run = buildRun(io);
    if (!run) return 4;
    if (auto plan = analysis::planRun(*run); !plan) {
      io.err << "ramp analyze: " << plan.error().message << "\n";
      return 4;
    }
    return execute(*run, io);
  }

 private:
  std::optional<spec::AnalysisRun> buildRun(IoStreams& io) {
    std::ifstream in(file_, std::ios::binary);
    if (!in) {
      io.err << "ramp analyze: cannot read " << file_ << "\n";
      return std::nullopt;
    }
    std::stringstream buf;
    buf << in.rdbuf();
    spec::LintResult lint = spec::lintText(buf.str(), file_);
    for (const spec::Diagnostic& d : lint.diagnostics) {
      if (d.severity != spec::Severity::kNote) io.err << spec::formatDiagnostic(d) << "\n";
    }
    if (lint.unreadable || spec::hasErrors(lint.diagnostics)) return std::nullopt;

    std::vector<spec::AnalysisTemplate> templates;
    std::vector<spec::AnalysisRun> runs;
    for (const spec::Document& doc : lint.documents) {
      if (auto* t = std::get_if<spec::AnalysisTemplate>(&doc.object)) templates.push_back(*t);
      if (auto* r = std::get_if<spec::AnalysisRun>(&doc.object)) runs.push_back(*r);
    }
    std::vector<spec::Argument> cliArgs;
    for (const std::string& a : args_) {
      auto eq = a.find('=');
      if (eq == std::string::npos || eq == 0) {
        io.err << "ramp analyze: --arg " << a << ": expected NAME=VALUE\n";
        return std::nullopt;
      }
      cliArgs.push_back({a.substr(0, eq), a.substr(eq + 1), std::nullopt});
    }

    if (template_.empty() && runs.size() == 1 && templates.empty()) {
      spec::AnalysisRun run = runs[0];
      run.status = {};
      auto merged = analysis::mergeArgs(cliArgs, run.spec.args);
      if (!merged) {
        io.err << "ramp analyze: " << merged.error().message << "\n";
        return std::nullopt;
      }
      run.spec.args = std::move(*merged);
      if (!runName_.empty()) run.metadata.name = runName_;
      if (run.metadata.name.empty()) run.metadata.name = run.metadata.generateName + randomSuffix();
      return run;
    }

    const spec::AnalysisTemplate* chosen = nullptr;
    if (!template_.empty()) {
      for (const auto& t : templates) {
        if (t.metadata.name == template_ && (chosen == nullptr || chosen->clusterScoped)) {
          chosen = &t;
        }
      }
      if (chosen == nullptr) {
        io.err << "ramp analyze: " << file_ << ": no AnalysisTemplate named \"" << template_
               << "\"\n";
        return std::nullopt;
      }
    } else if (templates.size() == 1) {
      chosen = &templates[0];
    } else {
      io.err << "ramp analyze: " << file_ << " holds " << templates.size() << " templates and "
             << runs.size() << " runs; choose a template with --template NAME\n";
      return std::nullopt;
    }
    auto find = [&](const spec::AnalysisTemplateRef& ref) -> Result<spec::AnalysisTemplate> {
      for (const auto& t : templates) {
        if (t.metadata.name == ref.templateName && t.clusterScoped == ref.clusterScope) return t;
      }
      return makeError(
          ErrorCode::kNotFound,
          std::string(ref.clusterScope ? "clusteranalysistemplate" : "analysistemplate") +
              ".argoproj.io \"" + ref.templateName + "\" not found in " + file_);
    };
    auto all = analysis::expandTemplateRefs(*chosen, find);
    if (!all) {
      io.err << "ramp analyze: " << all.error().message << "\n";
      return std::nullopt;
    }
    analysis::NewRunOptions opts;
    opts.name = runName_.empty() ? chosen->metadata.name + "-" + randomSuffix() : runName_;
    opts.namespace_ = chosen->metadata.namespace_;
    opts.args = cliArgs;
    auto run = analysis::newRunFromTemplates(*all, opts);
    if (!run) {
      io.err << "ramp analyze: " << run.error().message << "\n";
      return std::nullopt;
    }
    return *run;
  }

  int execute(spec::AnalysisRun& run, IoStreams& io) {
    Redactor redactor;
    analysis::providers::ProviderEnv penv;
    penv.clock = &realClock();
    penv.redactor = &redactor;
    penv.prometheusAddress = prometheus_;
    std::filesystem::path state = stateDir_;
    bool ownState = false;
    if (state.empty()) {
      state = std::filesystem::temp_directory_path() /
              ("ramp-analyze-" + std::to_string(::getpid()) + "-" + randomSuffix());
      ownState = true;
    }
    std::error_code ec;
    std::filesystem::create_directories(state, ec);
    penv.stateDir = state.string();

    std::mutex mu;
    std::map<std::string, analysis::MetricProviderPtr> providers;
    std::unique_ptr<analysis::SecretDir> secrets;
    if (!secretsDir_.empty()) secrets = std::make_unique<analysis::SecretDir>(secretsDir_);

    analysis::ReconcileEnv env;
    env.clock = &realClock();
    env.secrets = secrets.get();
    env.onSecret = [&](const std::string& s) { redactor.add(s); };
    std::string configError;  // the first configuration error: it ends the run at once
    gInterrupted.store(false);
    env.resolve = [&](const spec::Metric& m) -> Result<analysis::MetricProvider*> {
      std::lock_guard lock(mu);
      auto it = providers.find(m.name);
      if (it != providers.end()) return it->second.get();
      auto p = analysis::providers::makeBuiltinProvider(m.provider, penv);
      if (!p) {
        if (configError.empty()) configError = "metric \"" + m.name + "\": " + p.error().message;
        gInterrupted.store(true);
        return std::unexpected(p.error());
      }
      auto wrapped =
          std::make_unique<FailFastProvider>(std::move(*p), &gInterrupted, &mu, &configError);
      return (providers[m.name] = std::move(wrapped)).get();
    };

    std::map<std::string, const spec::Metric*> metrics;
    for (const auto& m : run.spec.metrics) metrics[m.name] = &m;
    const bool json = output_ == "json";
    analysis::RunnerCallbacks cb;
    cb.onMeasurement = [&](const analysis::RecordedMeasurement& r) {
      if (json) return;
      const spec::Measurement& m = r.measurement;
      auto it = metrics.find(r.metric);
      std::string explain = it == metrics.end() ? m.message : why(*it->second, m);
      io.out << r.metric << (r.dryRun ? " (dry-run)" : "") << "  "
             << spec::analysisPhaseName(m.phase);
      if (!m.value.empty()) io.out << "  value=" << m.value;
      if (!explain.empty()) io.out << "  " << redactor.redact(explain);
      io.out << std::endl;
    };
    cb.onEvent = [&](const analysis::PhaseEvent& e) {
      if (!json && !e.metric.empty()) {
        io.out << "metric " << e.metric << ": " << spec::analysisPhaseName(e.phase) << std::endl;
      }
    };

    if (!json) io.out << "AnalysisRun " << run.metadata.name << " started" << std::endl;
    auto previous = std::signal(SIGINT, onSigint);
    AnalysisPhase phase = analysis::runToCompletion(run, env, cb, &gInterrupted);
    std::signal(SIGINT, previous);
    if (ownState) std::filesystem::remove_all(state, ec);
    {
      std::lock_guard lock(mu);
      if (!configError.empty()) {
        io.err << "ramp analyze: " << redactor.redact(configError)
               << " (a configuration error: the run stopped at once)" << std::endl;
        if (json) io.out << spec::toJson(run) << std::endl;
        return 2;
      }
    }

    if (json) {
      io.out << spec::toJson(run) << std::endl;
    } else {
      io.out << "AnalysisRun " << run.metadata.name << ": " << spec::analysisPhaseName(phase);
      if (!run.status.message.empty()) io.out << ": " << run.status.message;
      io.out << std::endl;
      const spec::RunSummary& s = run.status.runSummary;
      io.out << "metrics: " << s.count << " (successful " << s.successful << ", failed " << s.failed
             << ", inconclusive " << s.inconclusive << ", error " << s.error << ")" << std::endl;
    }
    return exitCodeFor(phase);
  }

  std::string file_;
  std::string template_;
  std::vector<std::string> args_;
  std::string output_ = "text";
  std::string secretsDir_;
  std::string stateDir_;
  std::string runName_;
  std::string prometheus_;
};

}  // namespace

VerbPtr makeAnalyzeVerb() { return std::make_unique<AnalyzeVerb>(); }

}  // namespace ramp::cli
