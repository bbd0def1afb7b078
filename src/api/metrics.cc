#include "api/metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

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

void header(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

std::string labels(std::initializer_list<std::pair<const char*, std::string>> kv) {
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : kv) {
    if (!first) out += ',';
    first = false;
    out += k;
    out += "=\"";
    out += escapeLabelValue(v);
    out += '"';
  }
  out += '}';
  return out;
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

std::string escapeLabelValue(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

Status appendObjectMetrics(store::StateStore& store, std::string& out) {
  auto rollouts = store.list("Rollout", "");
  if (!rollouts) return std::unexpected(rollouts.error());
  auto runs = store.list("AnalysisRun", "");
  if (!runs) return std::unexpected(runs.error());
  auto templates = store.list("AnalysisTemplate", "");
  if (!templates) return std::unexpected(templates.error());
  auto clusterTemplates = store.list("ClusterAnalysisTemplate", "");
  if (!clusterTemplates) return std::unexpected(clusterTemplates.error());
  int64_t unreadable = 0;

  std::string info, available, unavailable, desired, updated, phase, verified;
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
    std::string ns = o.key.namespace_, name = o.key.name;
    info += "rollout_info" +
            labels({{"namespace", ns},
                    {"name", name},
                    {"strategy", strategyName},
                    {"traffic_router", router},
                    {"phase", ph}}) +
            " 1\n";
    std::string l = labels({{"namespace", ns}, {"name", name}});
    int64_t replicas = num(status, "replicas");
    int64_t avail = num(status, "availableReplicas");
    available += "rollout_info_replicas_available" + l + " " + std::to_string(avail) + "\n";
    unavailable += "rollout_info_replicas_unavailable" + l + " " +
                   std::to_string(std::max<int64_t>(0, replicas - avail)) + "\n";
    desired +=
        "rollout_info_replicas_desired" + l + " " + std::to_string(num(spec, "replicas", 1)) + "\n";
    updated += "rollout_info_replicas_updated" + l + " " +
               std::to_string(num(status, "updatedReplicas")) + "\n";
    // Routed rollouts: 0 while status.canary.weights.verified is false (a router does not hold
    // the applied weight: a restarted or unreachable proxy), else 1.
    if (!router.empty()) {
      const json& weights = sub(sub(status, "canary"), "weights");
      auto v = weights.find("verified");
      const bool mismatch = v != weights.end() && v->is_boolean() && !v->get<bool>();
      verified += "rollout_traffic_weight_verified" + l + (mismatch ? " 0\n" : " 1\n");
    }
    for (const char* p : {"Progressing", "Paused", "Healthy", "Degraded", "Error"}) {
      phase +=
          "rollout_phase" +
          labels({{"namespace", ns}, {"name", name}, {"strategy", strategyName}, {"phase", p}}) +
          (ph == p ? " 1\n" : " 0\n");
    }
  }
  header(out, "rollout_info", "gauge", "Information about a rollout.");
  out += info;
  header(out, "rollout_info_replicas_available", "gauge",
         "The number of available replicas per rollout.");
  out += available;
  header(out, "rollout_info_replicas_unavailable", "gauge",
         "The number of unavailable replicas per rollout.");
  out += unavailable;
  header(out, "rollout_info_replicas_desired", "gauge",
         "The number of desired replicas per rollout.");
  out += desired;
  header(out, "rollout_info_replicas_updated", "gauge",
         "The number of updated replicas per rollout.");
  out += updated;
  header(out, "rollout_phase", "gauge",
         "Information on the state of the rollout (DEPRECATED - use rollout_info).");
  out += phase;
  header(out, "rollout_traffic_weight_verified", "gauge",
         "0 while a router does not hold the rollout's applied traffic weight "
         "(status.canary.weights.verified false), else 1. Routed rollouts only.");
  out += verified;

  std::string runInfo, runPhase, metricPhase, metricType;
  for (const store::StoredObject& o : runs->items) {
    json j = json::parse(o.json, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      ++unreadable;
      continue;
    }
    std::string ns = o.key.namespace_, name = o.key.name;
    const json& status = sub(j, "status");
    std::string ph = str(status, "phase");
    if (ph.empty()) ph = "Pending";
    runInfo +=
        "analysis_run_info" + labels({{"namespace", ns}, {"name", name}, {"phase", ph}}) + " 1\n";
    for (const char* p : {"Pending", "Running", "Successful", "Failed", "Error", "Inconclusive"}) {
      runPhase += "analysis_run_phase" + labels({{"namespace", ns}, {"name", name}, {"phase", p}}) +
                  (ph == p ? " 1\n" : " 0\n");
    }
    // Metric phases come from status.metricResults; types from spec.metrics.
    std::map<std::string, std::string> typeOf;
    const json& spec = sub(j, "spec");
    if (auto m = spec.find("metrics"); m != spec.end() && m->is_array()) {
      for (const json& metric : *m) {
        if (!metric.is_object()) continue;
        std::string mname = str(metric, "name"), type = providerType(metric);
        typeOf[mname] = type;
        metricType +=
            "analysis_run_metric_type" +
            labels({{"namespace", ns}, {"name", name}, {"metric", mname}, {"type", type}}) + " 1\n";
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
        metricPhase += "analysis_run_metric_phase" +
                       labels({{"namespace", ns},
                               {"name", name},
                               {"metric", mname},
                               {"type", type},
                               {"dry_run", dry ? "true" : "false"},
                               {"phase", p}}) +
                       (mph == p ? " 1\n" : " 0\n");
      }
    }
  }
  header(out, "analysis_run_info", "gauge", "Information about analysis run.");
  out += runInfo;
  header(out, "analysis_run_phase", "gauge",
         "Information on the state of the Analysis Run (DEPRECATED - use analysis_run_info).");
  out += runPhase;
  header(out, "analysis_run_metric_phase", "gauge",
         "Information on the duration of a specific metric in the Analysis Run.");
  out += metricPhase;
  header(out, "analysis_run_metric_type", "gauge",
         "Information on the type of a specific metric in the Analysis Runs.");
  out += metricType;

  header(out, "analysis_template_info", "gauge", "Information about analysis templates.");
  for (const store::StoredObject& o : templates->items) {
    out += "analysis_template_info" +
           labels({{"namespace", o.key.namespace_}, {"name", o.key.name}}) + " 1\n";
  }
  header(out, "cluster_analysis_template_info", "gauge",
         "Information about cluster analysis templates.");
  for (const store::StoredObject& o : clusterTemplates->items) {
    out += "cluster_analysis_template_info" + labels({{"name", o.key.name}}) + " 1\n";
  }
  header(out, "ramp_api_metrics_unreadable_objects", "gauge",
         "Stored objects /metrics could not read at the last scrape.");
  out += "ramp_api_metrics_unreadable_objects " + std::to_string(unreadable) + "\n";
  return {};
}

void appendProcessMetrics(std::string& out) {
  long ticks = sysconf(_SC_CLK_TCK);
  long page = sysconf(_SC_PAGESIZE);
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
    header(out, "process_cpu_seconds_total", "counter",
           "Total user and system CPU time spent in seconds.");
    out += "process_cpu_seconds_total " + std::to_string(cpu) + "\n";
    header(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
    out += "process_virtual_memory_bytes " + std::to_string(static_cast<int64_t>(field(23))) + "\n";
    header(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
    out += "process_resident_memory_bytes " +
           std::to_string(static_cast<int64_t>(field(24)) * page) + "\n";
    header(out, "process_threads", "gauge", "Number of OS threads in the process.");
    out += "process_threads " + std::to_string(static_cast<int64_t>(field(20))) + "\n";
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
      header(out, "process_start_time_seconds", "gauge",
             "Start time of the process since unix epoch in seconds.");
      out += "process_start_time_seconds " +
             std::to_string(btime + field(22) / static_cast<double>(ticks)) + "\n";
    }
  }
  if (DIR* d = opendir("/proc/self/fd")) {
    int64_t n = 0;
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') ++n;
    }
    closedir(d);
    header(out, "process_open_fds", "gauge", "Number of open file descriptors.");
    out += "process_open_fds " + std::to_string(n - 1) + "\n";  // minus the directory's own fd
  }
  std::ifstream limits("/proc/self/limits");
  std::string line;
  while (std::getline(limits, line)) {
    if (line.rfind("Max open files", 0) == 0) {
      std::istringstream in(line.substr(14));
      std::string soft;
      in >> soft;
      header(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
      out += "process_max_fds " + soft + "\n";
    }
  }
}

}  // namespace ramp::api
