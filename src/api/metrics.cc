#include "api/metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "spec/kinds.h"

namespace ramp::api {
namespace {

using nlohmann::json;

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t num(const json& j, const char* key, int64_t def = 0) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : def;
}

const json& sub(const json& j, const char* key) {
  static const json kEmpty = json::object();
  auto it = j.find(key);
  return it != j.end() && it->is_object() ? *it : kEmpty;
}

// The provider of a metric: the first key of metric.provider ("prometheus", "web", "job", …, or
// "plugin" for a plugin provider).
std::string providerType(const json& metric) {
  const json& p = sub(metric, "provider");
  if (p.empty()) return "";
  return p.begin().key();
}

std::string trafficRouter(const json& canary) {
  const json& tr = sub(canary, "trafficRouting");
  std::string out;
  for (const auto& [k, v] : tr.items()) {
    if (k == "managedRoutes" || k == "maxTrafficWeight") continue;
    if (k == "plugins" && v.is_object()) {
      for (const auto& [pk, pv] : v.items()) out += (out.empty() ? "" : ",") + pk;
    } else {
      out += (out.empty() ? "" : ",") + k;
    }
  }
  return out;
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

  constexpr auto kGauge = MetricType::kGauge;
  auto& info = page.family("rollout_info", kGauge, "Information about a rollout.",
                           {"namespace", "name", "strategy", "traffic_router", "phase"});
  auto& available =
      page.family("rollout_info_replicas_available", kGauge,
                  "The number of available replicas per rollout.", {"namespace", "name"});
  auto& unavailable =
      page.family("rollout_info_replicas_unavailable", kGauge,
                  "The number of unavailable replicas per rollout.", {"namespace", "name"});
  auto& desired = page.family("rollout_info_replicas_desired", kGauge,
                              "The number of desired replicas per rollout.", {"namespace", "name"});
  auto& updated = page.family("rollout_info_replicas_updated", kGauge,
                              "The number of updated replicas per rollout.", {"namespace", "name"});
  auto& phase =
      page.family("rollout_phase", kGauge,
                  "Information on the state of the rollout (DEPRECATED - use rollout_info).",
                  {"namespace", "name", "strategy", "phase"});
  auto& verified =
      page.family("rollout_traffic_weight_verified", kGauge,
                  "0 while a router does not hold the rollout's applied traffic weight "
                  "(status.canary.weights.verified false), else 1. Routed rollouts only.",
                  {"namespace", "name"});
  for (const store::StoredObject& o : rollouts->items) {
    json j = json::parse(o.json, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      ++unreadable;
      continue;
    }
    const json& spec = sub(j, "spec");
    const json& status = sub(j, "status");
    const json& strategy = sub(spec, "strategy");
    std::string strategyName = strategy.contains("blueGreen") ? "blueGreen"
                               : strategy.contains("canary")  ? "canary"
                                                              : "none";
    std::string router = trafficRouter(sub(strategy, "canary"));
    std::string ph = str(status, "phase");
    if (ph.empty()) ph = "Progressing";
    const std::string& ns = o.key.namespace_;
    const std::string& name = o.key.name;
    info.add({ns, name, strategyName, router, ph}, 1);
    int64_t replicas = num(status, "replicas");
    int64_t avail = num(status, "availableReplicas");
    available.add({ns, name}, avail);
    unavailable.add({ns, name}, std::max<int64_t>(0, replicas - avail));
    desired.add({ns, name}, num(spec, "replicas", 1));
    updated.add({ns, name}, num(status, "updatedReplicas"));
    // Routed rollouts: 0 while status.canary.weights.verified is false (a router does not hold
    // the applied weight: a restarted or unreachable proxy), else 1.
    if (!router.empty()) {
      const json& weights = sub(sub(status, "canary"), "weights");
      auto v = weights.find("verified");
      const bool mismatch = v != weights.end() && v->is_boolean() && !v->get<bool>();
      verified.add({ns, name}, mismatch ? 0 : 1);
    }
    for (const char* p : {"Progressing", "Paused", "Healthy", "Degraded", "Error"}) {
      phase.add({ns, name, strategyName, p}, ph == p ? 1 : 0);
    }
  }

  auto& runInfo = page.family("analysis_run_info", kGauge, "Information about analysis run.",
                              {"namespace", "name", "phase"});
  auto& runPhase = page.family(
      "analysis_run_phase", kGauge,
      "Information on the state of the Analysis Run (DEPRECATED - use analysis_run_info).",
      {"namespace", "name", "phase"});
  auto& metricPhase =
      page.family("analysis_run_metric_phase", kGauge,
                  "Information on the duration of a specific metric in the Analysis Run.",
                  {"namespace", "name", "metric", "type", "dry_run", "phase"});
  auto& metricType =
      page.family("analysis_run_metric_type", kGauge,
                  "Information on the type of a specific metric in the Analysis Runs.",
                  {"namespace", "name", "metric", "type"});
  for (const store::StoredObject& o : runs->items) {
    json j = json::parse(o.json, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      ++unreadable;
      continue;
    }
    const std::string& ns = o.key.namespace_;
    const std::string& name = o.key.name;
    const json& status = sub(j, "status");
    std::string ph = str(status, "phase");
    if (ph.empty()) ph = "Pending";
    runInfo.add({ns, name, ph}, 1);
    for (const char* p : {"Pending", "Running", "Successful", "Failed", "Error", "Inconclusive"}) {
      runPhase.add({ns, name, p}, ph == p ? 1 : 0);
    }
    // Metric phases come from status.metricResults; types from spec.metrics.
    std::map<std::string, std::string> typeOf;
    const json& spec = sub(j, "spec");
    if (auto m = spec.find("metrics"); m != spec.end() && m->is_array()) {
      for (const json& metric : *m) {
        if (!metric.is_object()) continue;
        std::string mname = str(metric, "name"), type = providerType(metric);
        typeOf[mname] = type;
        metricType.add({ns, name, mname, type}, 1);
      }
    }
    std::map<std::string, std::pair<std::string, bool>> phaseOf;  // metric -> phase, dryRun
    if (auto m = status.find("metricResults"); m != status.end() && m->is_array()) {
      for (const json& r : *m) {
        if (!r.is_object()) continue;
        auto dry = r.find("dryRun");
        phaseOf[str(r, "name")] = {str(r, "phase"),
                                   dry != r.end() && dry->is_boolean() && dry->get<bool>()};
      }
    }
    for (const auto& [mname, type] : typeOf) {
      auto it = phaseOf.find(mname);
      std::string mph =
          it == phaseOf.end() || it->second.first.empty() ? "Pending" : it->second.first;
      bool dry = it != phaseOf.end() && it->second.second;
      for (const char* p :
           {"Pending", "Running", "Successful", "Failed", "Error", "Inconclusive"}) {
        metricPhase.add({ns, name, mname, type, dry ? "true" : "false", p}, mph == p ? 1 : 0);
      }
    }
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
