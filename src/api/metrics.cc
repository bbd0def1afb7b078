#include "api/metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "spec/codec.h"
#include "spec/kinds.h"
#include "spec/routing.h"

namespace ramp::api {
namespace {

constexpr auto kGauge = MetricType::kGauge;

// The provider of a metric, as its key in the manifest: "prometheus", "web", "job", "plugin", or
// a provider ramp models but does not run ("datadog", …).
std::string providerType(const spec::MetricProviderSpec& p) {
  if (p.prometheus) return "prometheus";
  if (p.web) return "web";
  if (p.job) return "job";
  if (!p.plugin.empty()) return "plugin";
  if (!p.other.empty()) return p.other.begin()->first;
  return "";
}

// The routers a Rollout configures, comma-separated: Argo's keys, and plugins by name.
std::string trafficRouter(const spec::Rollout& rollout) {
  const spec::TrafficRouting* routing = spec::routersOf(rollout.spec);
  if (routing == nullptr) return "";
  std::string out;
  const auto add = [&](std::string_view name) {
    if (!out.empty()) out += ",";
    out += name;
  };
  for (std::string_view key : spec::argoRouterKeys(*routing)) add(key);
  for (const auto& [name, config] : routing->plugins) add(name);
  return out;
}

// The families of one kind, created once per page.
struct RolloutFamilies {
  explicit RolloutFamilies(MetricsPage& page)
      : info(page.family("rollout_info", kGauge, "Information about a rollout.",
                         {"namespace", "name", "strategy", "traffic_router", "phase"})),
        available(page.family("rollout_info_replicas_available", kGauge,
                              "The number of available replicas per rollout.",
                              {"namespace", "name"})),
        unavailable(page.family("rollout_info_replicas_unavailable", kGauge,
                                "The number of unavailable replicas per rollout.",
                                {"namespace", "name"})),
        desired(page.family("rollout_info_replicas_desired", kGauge,
                            "The number of desired replicas per rollout.", {"namespace", "name"})),
        updated(page.family("rollout_info_replicas_updated", kGauge,
                            "The number of updated replicas per rollout.", {"namespace", "name"})),
        phase(page.family("rollout_phase", kGauge,
                          "Information on the state of the rollout (DEPRECATED - use "
                          "rollout_info).",
                          {"namespace", "name", "strategy", "phase"})),
        verified(page.family("rollout_traffic_weight_verified", kGauge,
                             "0 while a router does not hold the rollout's applied traffic weight "
                             "(status.canary.weights.verified false), else 1. Routed rollouts "
                             "only.",
                             {"namespace", "name"})) {}
  MetricsPage::Family& info;
  MetricsPage::Family& available;
  MetricsPage::Family& unavailable;
  MetricsPage::Family& desired;
  MetricsPage::Family& updated;
  MetricsPage::Family& phase;
  MetricsPage::Family& verified;
};

void appendRollout(const spec::Rollout& r, RolloutFamilies& f) {
  const std::string& ns = r.metadata.namespace_;
  const std::string& name = r.metadata.name;
  const auto& strategy = r.spec.strategy;
  const std::string strategyName = strategy.blueGreen ? "blueGreen"
                                   : strategy.canary  ? "canary"
                                                      : "none";
  const std::string router = trafficRouter(r);
  std::string ph = spec::rolloutPhaseName(r.status.phase);
  if (ph.empty()) ph = "Progressing";
  f.info.add({ns, name, strategyName, router, ph}, 1);
  const int64_t available = r.status.availableReplicas;
  f.available.add({ns, name}, available);
  f.unavailable.add({ns, name}, std::max<int64_t>(0, int64_t{r.status.replicas} - available));
  f.desired.add({ns, name}, spec::replicasOrDefault(r.spec));
  f.updated.add({ns, name}, r.status.updatedReplicas);
  // Routed rollouts: 0 while status.canary.weights.verified is false (a router does not hold the
  // applied weight: a restarted or unreachable proxy), else 1.
  if (!router.empty()) {
    const auto& weights = r.status.canary.weights;
    const bool mismatch = weights && weights->verified && !*weights->verified;
    f.verified.add({ns, name}, mismatch ? 0 : 1);
  }
  for (const char* p : {"Progressing", "Paused", "Healthy", "Degraded", "Error"}) {
    f.phase.add({ns, name, strategyName, p}, ph == p ? 1 : 0);
  }
}

struct RunFamilies {
  explicit RunFamilies(MetricsPage& page)
      : info(page.family("analysis_run_info", kGauge, "Information about analysis run.",
                         {"namespace", "name", "phase"})),
        phase(page.family(
            "analysis_run_phase", kGauge,
            "Information on the state of the Analysis Run (DEPRECATED - use analysis_run_info).",
            {"namespace", "name", "phase"})),
        metricPhase(
            page.family("analysis_run_metric_phase", kGauge,
                        "Information on the duration of a specific metric in the Analysis Run.",
                        {"namespace", "name", "metric", "type", "dry_run", "phase"})),
        metricType(page.family("analysis_run_metric_type", kGauge,
                               "Information on the type of a specific metric in the Analysis Runs.",
                               {"namespace", "name", "metric", "type"})) {}
  MetricsPage::Family& info;
  MetricsPage::Family& phase;
  MetricsPage::Family& metricPhase;
  MetricsPage::Family& metricType;
};

constexpr const char* kRunPhases[] = {"Pending", "Running", "Successful",
                                      "Failed",  "Error",   "Inconclusive"};

void appendRun(const spec::AnalysisRun& run, RunFamilies& f) {
  const std::string& ns = run.metadata.namespace_;
  const std::string& name = run.metadata.name;
  std::string ph = spec::analysisPhaseName(run.status.phase);
  if (ph.empty()) ph = "Pending";
  f.info.add({ns, name, ph}, 1);
  for (const char* p : kRunPhases) f.phase.add({ns, name, p}, ph == p ? 1 : 0);
  // Metric types from spec.metrics, phases from status.metricResults.
  std::map<std::string, std::string> typeOf;
  for (const spec::Metric& m : run.spec.metrics) {
    typeOf[m.name] = providerType(m.provider);
    f.metricType.add({ns, name, m.name, typeOf[m.name]}, 1);
  }
  std::map<std::string, const spec::MetricResult*> resultOf;
  for (const spec::MetricResult& r : run.status.metricResults) resultOf[r.name] = &r;
  for (const auto& [metric, type] : typeOf) {
    auto it = resultOf.find(metric);
    const spec::MetricResult* result = it == resultOf.end() ? nullptr : it->second;
    std::string mph = result ? spec::analysisPhaseName(result->phase) : "";
    if (mph.empty()) mph = "Pending";
    const char* dry = result && result->dryRun ? "true" : "false";
    for (const char* p : kRunPhases) {
      f.metricPhase.add({ns, name, metric, type, dry, p}, mph == p ? 1 : 0);
    }
  }
}

}  // namespace

Status appendObjectMetrics(store::StateStore& store, MetricsPage& page) {
  auto rollouts = store.list(spec::kindInfo(spec::Kind::kRollout).name, "");
  if (!rollouts) return std::unexpected(rollouts.error());
  auto runs = store.list(spec::kindInfo(spec::Kind::kAnalysisRun).name, "");
  if (!runs) return std::unexpected(runs.error());
  auto templates = store.list(spec::kindInfo(spec::Kind::kAnalysisTemplate).name, "");
  if (!templates) return std::unexpected(templates.error());
  auto clusterTemplates = store.list(spec::kindInfo(spec::Kind::kClusterAnalysisTemplate).name, "");
  if (!clusterTemplates) return std::unexpected(clusterTemplates.error());
  int64_t unreadable = 0;

  RolloutFamilies rolloutFamilies(page);
  for (const store::StoredObject& o : rollouts->items) {
    auto decoded = spec::rolloutFromJson(o.json);
    if (!decoded.value) {
      ++unreadable;
      continue;
    }
    appendRollout(*decoded.value, rolloutFamilies);
  }
  RunFamilies runFamilies(page);
  for (const store::StoredObject& o : runs->items) {
    auto decoded = spec::analysisRunFromJson(o.json);
    if (!decoded.value) {
      ++unreadable;
      continue;
    }
    appendRun(*decoded.value, runFamilies);
  }
  auto& templateInfo = page.family("analysis_template_info", kGauge,
                                   "Information about analysis templates.", {"namespace", "name"});
  for (const store::StoredObject& o : templates->items) {
    templateInfo.add({o.key.namespace_, o.key.name}, 1);
  }
  auto& clusterTemplateInfo =
      page.family("cluster_analysis_template_info", kGauge,
                  "Information about cluster analysis templates.", {"name"});
  for (const store::StoredObject& o : clusterTemplates->items) {
    clusterTemplateInfo.add({o.key.name}, 1);
  }
  page.family("ramp_api_metrics_unreadable_objects", kGauge,
              "Stored objects /metrics could not read at the last scrape.")
      .add({}, unreadable);
  return {};
}

void appendProcessMetrics(MetricsPage& page) {
  long ticks = sysconf(_SC_CLK_TCK);
  long pageSize = sysconf(_SC_PAGESIZE);
  std::ifstream statFile("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(statFile)), std::istreambuf_iterator<char>());
  size_t close = stat.rfind(')');
  if (close != std::string::npos && ticks > 0) {
    std::istringstream in(stat.substr(close + 2));
    std::vector<std::string> f;
    std::string tok;
    while (in >> tok) f.push_back(tok);
    // Fields after the command, 0-based from "state" (field 3): utime 14, stime 15,
    // num_threads 20, starttime 22, vsize 23, rss 24 (1-based numbering of proc(5)).
    auto field = [&](int n) -> double {
      size_t i = static_cast<size_t>(n - 3);
      return i < f.size() ? std::strtod(f[i].c_str(), nullptr) : 0.0;
    };
    double cpu = (field(14) + field(15)) / static_cast<double>(ticks);
    page.family("process_cpu_seconds_total", MetricType::kCounter,
                "Total user and system CPU time spent in seconds.")
        .add({}, cpu);
    page.family("process_virtual_memory_bytes", MetricType::kGauge, "Virtual memory size in bytes.")
        .add({}, static_cast<int64_t>(field(23)));
    page.family("process_resident_memory_bytes", MetricType::kGauge,
                "Resident memory size in bytes.")
        .add({}, static_cast<int64_t>(field(24)) * pageSize);
    page.family("process_threads", MetricType::kGauge, "Number of OS threads in the process.")
        .add({}, static_cast<int64_t>(field(20)));
    std::ifstream uptimeFile("/proc/uptime");
    double uptime = 0;
    std::ifstream btimeFile("/proc/stat");
    std::string line;
    double btime = 0;
    while (std::getline(btimeFile, line)) {
      if (line.rfind("btime ", 0) == 0) btime = std::strtod(line.c_str() + 6, nullptr);
    }
    (void)uptime;
    if (btime > 0) {
      page.family("process_start_time_seconds", MetricType::kGauge,
                  "Start time of the process since unix epoch in seconds.")
          .add({}, btime + field(22) / static_cast<double>(ticks));
    }
  }
  if (DIR* d = opendir("/proc/self/fd")) {
    int64_t n = 0;
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') ++n;
    }
    closedir(d);
    page.family("process_open_fds", MetricType::kGauge, "Number of open file descriptors.")
        .add({}, n - 1);  // minus the directory's own fd
  }
  std::ifstream limits("/proc/self/limits");
  std::string line;
  while (std::getline(limits, line)) {
    if (line.rfind("Max open files", 0) == 0) {
      std::istringstream in(line.substr(14));
      std::string soft;
      in >> soft;
      // "unlimited" is no number: the family is left out then.
      if (soft != "unlimited") {
        page.family("process_max_fds", MetricType::kGauge,
                    "Maximum number of open file descriptors.")
            .add({}, std::strtod(soft.c_str(), nullptr));
      }
    }
  }
}

}  // namespace ramp::api
