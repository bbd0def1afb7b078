#include "spec/validation.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "common/go_duration.h"
#include "spec/values.h"

namespace ramp::spec {
namespace {

using json = nlohmann::json;

class Errors {
 public:
  void add(std::string path, std::string message, Severity severity = Severity::kError) {
    Diagnostic d;
    d.path = std::move(path);
    d.message = std::move(message);
    d.severity = severity;
    list_.push_back(std::move(d));
  }
  void warn(std::string path, std::string message) {
    add(std::move(path), std::move(message), Severity::kWarning);
  }
  std::vector<Diagnostic> take() { return std::move(list_); }

 private:
  std::vector<Diagnostic> list_;
};

std::string idx(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

json parseRaw(const RawJson& raw) {
  if (raw.empty()) return json();
  json j = json::parse(raw.text, nullptr, false);
  return j.is_discarded() ? json() : j;
}

// The integer in an IntOrString field of a metric, or nullopt when it is a placeholder.
// Reports strings that are neither integers nor placeholders.
std::optional<int64_t> metricInt(const std::optional<IntOrString>& v, const std::string& path,
                                 Errors& errors, int64_t fallback) {
  if (!v) return fallback;
  if (v->isInt()) return v->intValue();
  const std::string& s = v->stringValue();
  if (isTemplated(s)) return std::nullopt;
  int64_t n = 0;
  try {
    size_t used = 0;
    n = std::stoll(s, &used);
    if (used != s.size()) throw std::invalid_argument(s);
  } catch (const std::exception&) {
    errors.add(path, "must be an integer or a {{args.name}} placeholder, got \"" + s + "\"");
    return std::nullopt;
  }
  return n;
}

// Go's regexp (RE2) and ECMAScript agree on the constructs metric-name patterns use; a pattern
// std::regex rejects is reported.
void checkRegex(const std::string& pattern, const std::string& path, Errors& errors) {
  if (isTemplated(pattern)) return;
  try {
    std::regex re(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    errors.add(path, "is not a valid regular expression: \"" + pattern +
                         "\" (use \".*\" to match every metric)");
  }
}

void validateMetricInto(const Metric& m, const std::string& path, Errors& errors) {
  if (m.name.empty()) errors.add(path + ".name", "must be set");
  auto count = metricInt(m.count, path + ".count", errors, 0);
  auto failureLimit = metricInt(m.failureLimit, path + ".failureLimit", errors, 0);
  auto inconclusiveLimit = metricInt(m.inconclusiveLimit, path + ".inconclusiveLimit", errors, 0);
  auto consecutiveErrorLimit =
      metricInt(m.consecutiveErrorLimit, path + ".consecutiveErrorLimit", errors, 4);
  auto consecutiveSuccessLimit =
      metricInt(m.consecutiveSuccessLimit, path + ".consecutiveSuccessLimit", errors, 0);

  if (count && *count < 0) errors.add(path + ".count", "must be >= 0");
  if (failureLimit && *failureLimit < -1) errors.add(path + ".failureLimit", "must be >= -1");
  if (inconclusiveLimit && *inconclusiveLimit < 0)
    errors.add(path + ".inconclusiveLimit", "must be >= 0");
  if (consecutiveErrorLimit && *consecutiveErrorLimit < 0)
    errors.add(path + ".consecutiveErrorLimit", "must be >= 0");
  if (consecutiveSuccessLimit && *consecutiveSuccessLimit < 0)
    errors.add(path + ".consecutiveSuccessLimit", "must be >= 0");
  if (failureLimit && consecutiveSuccessLimit && *failureLimit == -1 &&
      *consecutiveSuccessLimit == 0) {
    errors.add(path + ".failureLimit",
               "failureLimit -1 (disabled) needs consecutiveSuccessLimit > 0, or the metric "
               "could never fail or succeed");
  }
  if (count && *count > 0) {
    if (failureLimit && consecutiveSuccessLimit && *failureLimit >= 0 &&
        *consecutiveSuccessLimit >= 0 && *count < *failureLimit + *consecutiveSuccessLimit) {
      errors.add(path + ".count", "must be >= failureLimit + consecutiveSuccessLimit");
    }
    if (inconclusiveLimit && *count < *inconclusiveLimit) {
      errors.add(path + ".count", "must be >= inconclusiveLimit");
    }
  }
  if (count && *count > 1 && m.interval.empty()) {
    errors.add(path + ".interval", "must be set when count > 1");
  }
  if (!m.interval.empty() && !isTemplated(m.interval)) {
    if (auto d = parseGoDuration(m.interval); !d) {
      errors.add(path + ".interval", "invalid interval: " + d.error().message);
    }
  }
  if (!m.initialDelay.empty() && !isTemplated(m.initialDelay)) {
    if (auto d = parseGoDuration(m.initialDelay); !d) {
      errors.add(path + ".initialDelay", "invalid initialDelay: " + d.error().message);
    }
  }
  const MetricProviderSpec& p = m.provider;
  size_t providers = (p.prometheus ? 1 : 0) + (p.web ? 1 : 0) + (p.job ? 1 : 0) +
                     (p.plugin.empty() ? 0 : 1) + p.other.size();
  if (providers == 0) {
    errors.add(path + ".provider", "no provider specified");
  } else if (providers > 1) {
    errors.add(path + ".provider", "multiple providers specified (exactly one is allowed)");
  }
  if (p.plugin.size() > 1) {
    errors.add(path + ".provider.plugin", "must name exactly one plugin");
  }
  if (p.web) {
    const WebMetric& w = *p.web;
    std::string wp = path + ".provider.web";
    if (w.url.empty()) errors.add(wp + ".url", "must be set");
    if (!w.method.empty() && w.method != "GET" && w.method != "POST" && w.method != "PUT") {
      errors.add(wp + ".method", "must be GET, POST or PUT, got \"" + w.method + "\"");
    }
    if (!w.body.empty() && !w.jsonBody.empty()) {
      errors.add(wp + ".jsonBody", "body and jsonBody cannot both be set");
    }
    if ((!w.body.empty() || !w.jsonBody.empty()) && (w.method.empty() || w.method == "GET")) {
      errors.add(wp + ".method", "a request body needs method POST or PUT");
    }
  }
  if (p.prometheus && p.prometheus->query.empty()) {
    errors.add(path + ".provider.prometheus.query", "must be set");
  }
}

void validateMetricList(const std::vector<Metric>& metrics, const std::string& path,
                        Errors& errors) {
  std::set<std::string> names;
  for (size_t i = 0; i < metrics.size(); ++i) {
    std::string mp = idx(path, i);
    if (!metrics[i].name.empty() && !names.insert(metrics[i].name).second) {
      errors.add(mp + ".name", "duplicate metric name \"" + metrics[i].name + "\"");
    }
    validateMetricInto(metrics[i], mp, errors);
  }
}

void validateArgs(const std::vector<Argument>& args, const std::string& path, Errors& errors,
                  bool rolloutSide) {
  std::set<std::string> names;
  for (size_t i = 0; i < args.size(); ++i) {
    const Argument& a = args[i];
    std::string ap = idx(path, i);
    if (a.name.empty()) errors.add(ap + ".name", "must be set");
    if (!a.name.empty() && !names.insert(a.name).second) {
      errors.add(ap + ".name", "duplicate argument \"" + a.name + "\"");
    }
    if (a.value && a.valueFrom) {
      errors.add(ap, "value and valueFrom cannot both be set");
    }
    if (a.valueFrom) {
      const ArgumentValueFrom& vf = *a.valueFrom;
      int set =
          (vf.secretKeyRef ? 1 : 0) + (vf.fieldRef ? 1 : 0) + (vf.podTemplateHashValue ? 1 : 0);
      if (set != 1) {
        errors.add(ap + ".valueFrom",
                   "must set exactly one of secretKeyRef, fieldRef, podTemplateHashValue");
      }
      if (vf.podTemplateHashValue && *vf.podTemplateHashValue != "Stable" &&
          *vf.podTemplateHashValue != "Latest") {
        errors.add(ap + ".valueFrom.podTemplateHashValue",
                   "must be Stable or Latest, got \"" + *vf.podTemplateHashValue + "\"");
      }
      if (vf.fieldRef && vf.fieldRef->fieldPath.empty()) {
        errors.add(ap + ".valueFrom.fieldRef.fieldPath", "must be set");
      }
      if (rolloutSide && vf.fieldRef && vf.fieldRef->fieldPath.rfind("metadata", 0) == 0) {
        static const std::regex kDownward(
            R"(^metadata\.(name|namespace|uid|labels|annotations)$|^metadata\.(labels|annotations)\['[^']+'\]$)");
        if (!std::regex_match(vf.fieldRef->fieldPath, kDownward)) {
          errors.add(ap + ".valueFrom.fieldRef.fieldPath",
                     "must refer to object metadata supported by the downward API "
                     "(metadata.name, metadata.namespace, metadata.uid, "
                     "metadata.labels['key'], metadata.annotations['key'])");
        }
      }
      if (vf.secretKeyRef && (vf.secretKeyRef->name.empty() || vf.secretKeyRef->key.empty())) {
        errors.add(ap + ".valueFrom.secretKeyRef", "name and key must be set");
      }
    }
  }
}

void validateDryRunRetention(const std::vector<DryRun>& dryRun,
                             const std::vector<MeasurementRetention>& retention,
                             const std::string& path, Errors& errors) {
  for (size_t i = 0; i < dryRun.size(); ++i) {
    std::string p = idx(path + ".dryRun", i) + ".metricName";
    if (dryRun[i].metricName.empty()) {
      errors.add(p, "must be set");
    } else {
      checkRegex(dryRun[i].metricName, p, errors);
    }
  }
  for (size_t i = 0; i < retention.size(); ++i) {
    std::string p = idx(path + ".measurementRetention", i);
    if (retention[i].metricName.empty()) {
      errors.add(p + ".metricName", "must be set");
    } else {
      checkRegex(retention[i].metricName, p + ".metricName", errors);
    }
    if (retention[i].limit < 0) errors.add(p + ".limit", "must be >= 0");
  }
}

void validateRolloutAnalysis(const RolloutAnalysis& a, const std::string& path, Errors& errors) {
  if (a.templates.empty()) errors.add(path + ".templates", "must name at least one template");
  for (size_t i = 0; i < a.templates.size(); ++i) {
    if (a.templates[i].templateName.empty()) {
      errors.add(idx(path + ".templates", i) + ".templateName", "must be set");
    }
  }
  validateArgs(a.args, path + ".args", errors, true);
  validateDryRunRetention(a.dryRun, a.measurementRetention, path, errors);
}

void validateAntiAffinity(const std::optional<AntiAffinity>& aa, const std::string& path,
                          Errors& errors) {
  if (!aa) return;
  bool preferred = aa->preferredDuringSchedulingIgnoredDuringExecution.has_value();
  bool required = aa->requiredDuringSchedulingIgnoredDuringExecution;
  if (preferred == required) errors.add(path, "AntiAffinity must have exactly one strategy listed");
  if (preferred) {
    int32_t w = aa->preferredDuringSchedulingIgnoredDuringExecution->weight;
    if (w < 1 || w > 100) {
      errors.add(path + ".preferredDuringSchedulingIgnoredDuringExecution.weight",
                 "AntiAffinity weight must be between 1-100");
    }
  }
}

// A Kubernetes label selector requirement and label key/value syntax (the parts lint can check).
void validateSelector(const LabelSelector& s, const std::string& path, Errors& errors) {
  for (size_t i = 0; i < s.matchExpressions.size(); ++i) {
    const LabelSelectorRequirement& r = s.matchExpressions[i];
    std::string p = idx(path + ".matchExpressions", i);
    if (r.key.empty()) errors.add(p + ".key", "must be set");
    if (r.operator_ == "In" || r.operator_ == "NotIn") {
      if (r.values.empty())
        errors.add(p + ".values", "must be specified when operator is In or NotIn");
    } else if (r.operator_ == "Exists" || r.operator_ == "DoesNotExist") {
      if (!r.values.empty())
        errors.add(p + ".values", "may not be specified when operator is Exists or DoesNotExist");
    } else {
      errors.add(p + ".operator",
                 "must be In, NotIn, Exists or DoesNotExist, got \"" + r.operator_ + "\"");
    }
  }
}

bool selectorMatches(const LabelSelector& s, const std::map<std::string, std::string>& labels) {
  for (const auto& [k, v] : s.matchLabels) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  for (const LabelSelectorRequirement& r : s.matchExpressions) {
    auto it = labels.find(r.key);
    bool in = it != labels.end() &&
              std::find(r.values.begin(), r.values.end(), it->second) != r.values.end();
    if (r.operator_ == "In" && !in) return false;
    if (r.operator_ == "NotIn" && in) return false;
    if (r.operator_ == "Exists" && it == labels.end()) return false;
    if (r.operator_ == "DoesNotExist" && it != labels.end()) return false;
  }
  return true;
}

bool isDnsLabel(const std::string& s) {
  static const std::regex kLabel("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$");
  return !s.empty() && s.size() <= 63 && std::regex_match(s, kLabel);
}

void validateProbe(const std::optional<Probe>& probe, const Container& c, const std::string& path,
                   Errors& errors) {
  if (!probe) return;
  int handlers = (probe->httpGet ? 1 : 0) + (probe->tcpSocket ? 1 : 0) + (probe->exec ? 1 : 0) +
                 (probe->extra.count("grpc") ? 1 : 0);
  if (handlers != 1) {
    errors.add(path, "must specify exactly one handler: httpGet, tcpSocket, exec or grpc");
  }
  auto nonNegative = [&](const std::optional<int32_t>& v, const char* name) {
    if (v && *v < 0) errors.add(path + "." + name, "must be greater than or equal to 0");
  };
  nonNegative(probe->initialDelaySeconds, "initialDelaySeconds");
  nonNegative(probe->periodSeconds, "periodSeconds");
  nonNegative(probe->timeoutSeconds, "timeoutSeconds");
  nonNegative(probe->successThreshold, "successThreshold");
  nonNegative(probe->failureThreshold, "failureThreshold");
  auto checkPort = [&](const IntOrString& port, const std::string& pp) {
    if (port.isInt()) {
      if (port.intValue() < 1 || port.intValue() > 65535)
        errors.add(pp, "must be between 1 and 65535, inclusive");
      return;
    }
    const std::string& name = port.stringValue();
    bool found = std::any_of(c.ports.begin(), c.ports.end(),
                             [&](const ContainerPort& p) { return p.name == name; });
    if (!found) {
      errors.add(pp, "names port \"" + name + "\", which is not in this container's ports");
    }
  };
  if (probe->httpGet) {
    checkPort(probe->httpGet->port, path + ".httpGet.port");
    const std::string& scheme = probe->httpGet->scheme;
    if (!scheme.empty() && scheme != "HTTP" && scheme != "HTTPS") {
      errors.add(path + ".httpGet.scheme", "must be HTTP or HTTPS, got \"" + scheme + "\"");
    }
  }
  if (probe->tcpSocket) checkPort(probe->tcpSocket->port, path + ".tcpSocket.port");
  if (probe->exec && probe->exec->command.empty()) {
    errors.add(path + ".exec.command", "must be set");
  }
}

// A container's `resources` (kept as raw JSON): every requests/limits value must be a
// Kubernetes quantity that is not negative, and a request must not exceed its limit
// (apimachinery's ValidateResourceRequirements; Argo issues #389, #800, #2804).
void validateResources(const RawJson& raw, const std::string& path, Errors& errors) {
  if (raw.empty()) return;
  json r = parseRaw(raw);
  if (!r.is_object()) {
    errors.add(path, "must be an object with requests and limits");
    return;
  }
  std::map<std::string, long double> limits;
  for (const char* section : {"limits", "requests"}) {
    if (!r.contains(section)) continue;
    const json& values = r[section];
    const std::string sp = path + "." + section;
    if (!values.is_object()) {
      errors.add(sp, "must be a map of resource name to quantity");
      continue;
    }
    for (const auto& [name, v] : values.items()) {
      const std::string vp = sp + "." + name;
      std::string text;
      if (v.is_string()) {
        text = v.get<std::string>();
      } else if (v.is_number()) {
        text = v.dump();
      } else {
        errors.add(vp, "must be a quantity (a string such as \"500m\" or \"128Mi\", or a number)");
        continue;
      }
      auto q = parseQuantity(text);
      if (!q) {
        errors.add(vp, q.error().message);
        continue;
      }
      if (*q < 0) {
        errors.add(vp, "must be greater than or equal to 0");
        continue;
      }
      if (std::string_view(section) == "limits") {
        limits[name] = *q;
      } else if (auto l = limits.find(name); l != limits.end() && *q > l->second) {
        errors.add(vp,
                   fmt::format("must be less than or equal to {} limit of {}", name,
                               r["limits"][name].is_string() ? r["limits"][name].get<std::string>()
                                                             : r["limits"][name].dump()));
      }
    }
  }
}

void validateContainers(const std::vector<Container>& containers, const std::string& path,
                        Errors& errors, std::set<std::string>& names, bool regular) {
  for (size_t i = 0; i < containers.size(); ++i) {
    const Container& c = containers[i];
    std::string cp = idx(path, i);
    if (c.name.empty()) {
      errors.add(cp + ".name", "Required value");
    } else if (!isDnsLabel(c.name)) {
      errors.add(cp + ".name", "must be a DNS label (lower-case letters, digits and '-')");
    } else if (!names.insert(c.name).second) {
      errors.add(cp + ".name", "Duplicate value: \"" + c.name + "\"");
    }
    if (c.image.empty()) errors.add(cp + ".image", "Required value");
    std::set<std::string> portNames;
    for (size_t k = 0; k < c.ports.size(); ++k) {
      const ContainerPort& p = c.ports[k];
      std::string pp = idx(cp + ".ports", k);
      if (p.containerPort < 1 || p.containerPort > 65535) {
        errors.add(pp + ".containerPort", "must be between 1 and 65535, inclusive");
      }
      if (!p.name.empty()) {
        if (p.name.size() > 15) errors.add(pp + ".name", "must be no more than 15 characters");
        if (!portNames.insert(p.name).second)
          errors.add(pp + ".name", "Duplicate value: \"" + p.name + "\"");
      }
      if (!p.protocol.empty() && p.protocol != "TCP" && p.protocol != "UDP" &&
          p.protocol != "SCTP") {
        errors.add(pp + ".protocol", "must be TCP, UDP or SCTP, got \"" + p.protocol + "\"");
      }
    }
    for (size_t k = 0; k < c.env.size(); ++k) {
      if (c.env[k].name.empty()) errors.add(idx(cp + ".env", k) + ".name", "Required value");
    }
    validateResources(c.resources, cp + ".resources", errors);
    validateProbe(c.readinessProbe, c, cp + ".readinessProbe", errors);
    validateProbe(c.livenessProbe, c, cp + ".livenessProbe", errors);
    validateProbe(c.startupProbe, c, cp + ".startupProbe", errors);
    if (!regular && (c.readinessProbe || c.livenessProbe || c.startupProbe) &&
        c.extra.count("restartPolicy") == 0) {
      errors.add(cp, "init containers may not have probes (unless restartPolicy: Always)");
    }
  }
}

void validateTemplate(const RolloutSpec& spec, Errors& errors) {
  const std::string tp = "spec.template";
  if (!spec.template_) {
    errors.add(tp, "Rollout has missing field '.spec.template' (or set spec.workloadRef)");
    return;
  }
  const PodTemplateSpec& t = *spec.template_;
  if (spec.selector &&
      !spec.selector->matchLabels.empty() + !spec.selector->matchExpressions.empty() &&
      !selectorMatches(*spec.selector, t.metadata.labels)) {
    errors.add(tp + ".metadata.labels", "`selector` does not match template `labels`");
  }
  if (t.spec.containers.empty()) {
    errors.add(tp + ".spec.containers", "Required value: at least one container");
  }
  std::set<std::string> names;
  validateContainers(t.spec.containers, tp + ".spec.containers", errors, names, true);
  validateContainers(t.spec.initContainers, tp + ".spec.initContainers", errors, names, false);
  auto it = t.spec.extra.find("restartPolicy");
  if (it != t.spec.extra.end() && it->second.text != "\"Always\"") {
    errors.add(tp + ".spec.restartPolicy", "Unsupported value: only \"Always\" is allowed");
  }
}

// Argo's requireCanaryStableServices: the routers that split traffic between the two Services
// need both named. Plugins do not (they name what they route themselves), nor do ALB and Istio
// host splits with ping-pong (the ping and pong Services take their place), nor an Istio subset
// split (a DestinationRule).
bool requiresCanaryStableServices(const TrafficRouting& tr, bool pingPong) {
  if (!tr.alb.empty() && !pingPong) return true;
  if (!tr.istio.empty() && !pingPong) {
    json istio = parseRaw(tr.istio);
    if (!istio.is_object() || !istio.contains("destinationRule")) return true;
  }
  return !tr.smi.empty() || !tr.apisix.empty() || !tr.ambassador.empty() || !tr.nginx.empty() ||
         !tr.appMesh.empty() || !tr.traefik.empty();
}

// Argo's ping-pong rules: two different Services, a router that can alternate them (ALB, Istio
// or a plugin), and ALB's rootService.
// ramp's extensions blueGreen.trafficRouting and canary.serviceRouting: the backends of ramp's
// own routers stand for Services, so only `plugins` is meaningful. `why` completes the message.
void validateServiceRouting(const TrafficRouting& routing, const std::string& path,
                            std::string_view why, Errors& errors) {
  if (routing.plugins.empty()) {
    errors.add(path, "must configure a router under plugins (ramp/haproxy or ramp/nginx)");
  }
  TrafficRouting onlyPlugins;
  onlyPlugins.plugins = routing.plugins;
  if (routing != onlyPlugins) {
    errors.add(path, "takes only plugins (ramp/haproxy or ramp/nginx): " + std::string(why));
  }
}

void validatePingPong(const PingPongSpec& pp, const TrafficRouting* tr, Errors& errors) {
  const std::string cp = "spec.strategy.canary";
  if (tr != nullptr && tr->alb.empty() && tr->istio.empty() && tr->plugins.empty()) {
    errors.add(
        cp + ".trafficRouting.alb",
        "Ping-pong feature works with the ALB, Istio, and plugin-based traffic routers only");
  }
  if (pp.pingService.empty())
    errors.add(cp + ".pingPong.pingService",
               "Ping service and Pong service must to be set to use Ping-Pong feature");
  if (pp.pongService.empty())
    errors.add(cp + ".pingPong.pongService",
               "Ping service and Pong service must to be set to use Ping-Pong feature");
  if (pp.pingService == pp.pongService)
    errors.add(cp + ".pingPong.pingService",
               "This rollout uses the same service for the ping and pong services, but two "
               "different services are required.");
  if (tr != nullptr && !tr->alb.empty()) {
    json alb = parseRaw(tr->alb);
    if (!alb.is_object() || !alb.contains("rootService") || alb["rootService"] == "") {
      errors.add(cp + ".trafficRouting.alb.rootService",
                 "Root service field is required for the configuration with ALB and ping-pong "
                 "feature enabled");
    }
  }
}

void validateStringMatch(const StringMatch* m, const std::string& path, Errors& errors) {
  if (m == nullptr) {
    errors.add(path,
               "StringMatch value missed, match value must have one of the following: "
               "exact, regex, prefix");
    return;
  }
  int set =
      (!m->exact.empty() ? 1 : 0) + (!m->prefix.empty() ? 1 : 0) + (!m->regex.empty() ? 1 : 0);
  if (set > 1) {
    errors.add(path,
               "StringMatch match value must have exactly one of the following: exact, "
               "regex, prefix");
  } else if (set == 0) {
    errors.add(path,
               "StringMatch value missed, match value must have one of the following: "
               "exact, regex, prefix");
  }
  if (!m->regex.empty()) checkRegex(m->regex, path + ".regex", errors);
}

// maxSurge and maxUnavailable of a canary (Argo's checks on the raw values).
void validateCanaryFenceposts(const CanaryStrategy& c, const std::string& cp, Errors& errors) {
  IntOrString surge = maxSurgeOrDefault(c);
  IntOrString unavailable = maxUnavailableOrDefault(c);
  bool fencepostsOk = true;
  for (auto [value, name] :
       {std::pair{c.maxSurge, "maxSurge"}, {c.maxUnavailable, "maxUnavailable"}}) {
    if (!value) continue;
    if (value->isInt() && value->intValue() < 0) {
      errors.add(cp + "." + name, "must be greater than or equal to 0");
      fencepostsOk = false;
    }
    if (auto r = resolveIntOrPercent(*value, 100, true); !r) {
      errors.add(cp + "." + name, r.error().message);
      fencepostsOk = false;
    } else if (isBarePercentString(*value)) {
      errors.warn(cp + "." + name,
                  fmt::format("the string \"{0}\" is read as {0}% (Argo reads every string as a "
                              "percentage); write {0} for a number of pods or \"{0}%\" to say so",
                              value->stringValue()));
    }
  }
  if (fencepostsOk) {
    // Argo's check: the raw values (percent or int), not the resolved counts.
    auto rawValue = [](const IntOrString& v) -> int64_t {
      if (v.isInt()) return v.intValue();
      std::string s = v.stringValue();
      if (!s.empty() && s.back() == '%') s.pop_back();
      try {
        return std::stoll(s);
      } catch (...) {
        return -1;
      }
    };
    if (rawValue(surge) == 0 && rawValue(unavailable) == 0) {
      errors.add(cp + ".maxSurge", "MaxSurge and MaxUnavailable both can not be zero");
    }
  }
}

// The canary's Services and routers (trafficRouting, or ramp's serviceRouting) and the fields
// that only mean something with one of them.
void validateCanaryRouting(const RolloutSpec& spec, const CanaryStrategy& c, const std::string& cp,
                           Errors& errors) {
  if (!c.canaryService.empty() && c.canaryService == c.stableService) {
    errors.add(cp + ".stableService",
               "This rollout uses the same service for the stable and canary services, but two "
               "different services are required.");
  }

  const TrafficRouting* tr = c.trafficRouting ? &*c.trafficRouting : nullptr;
  if (c.pingPong) validatePingPong(*c.pingPong, tr, errors);
  if (tr != nullptr && c.serviceRouting) {
    errors.add(cp + ".serviceRouting",
               "cannot be used with trafficRouting: serviceRouting routes a basic canary by "
               "replica counts, trafficRouting sets the weights of each step; choose one");
  }
  if (tr != nullptr) {
    if (tr->noRouter()) {
      errors.add(cp + ".trafficRouting",
                 "must configure a traffic router (e.g. plugins: {ramp/haproxy: {...}})");
    }
    if (requiresCanaryStableServices(*tr, c.pingPong.has_value())) {
      if (c.stableService.empty())
        errors.add(cp + ".stableService",
                   "Canary service and Stable service must to be set to use Traffic Routing");
      if (c.canaryService.empty())
        errors.add(cp + ".canaryService",
                   "Canary service and Stable service must to be set to use Traffic Routing");
    }
    if (c.scaleDownDelaySeconds && c.dynamicStableScale) {
      errors.add(cp + ".dynamicStableScale",
                 "Canary dynamicStableScale cannot be used with scaleDownDelaySeconds");
    }
    if (tr->maxTrafficWeight) {
      if (tr->nginx.empty() && tr->plugins.empty()) {
        errors.add(cp + ".trafficRouting.maxTrafficWeight",
                   "Canary maxTrafficWeight in traffic routing only support in Nginx and Plugins");
      }
      if (*tr->maxTrafficWeight < 1) {
        errors.add(cp + ".trafficRouting.maxTrafficWeight", "must be greater than 0");
      }
    }
    std::set<std::string> routeNames;
    for (size_t i = 0; i < tr->managedRoutes.size(); ++i) {
      const std::string& n = tr->managedRoutes[i].name;
      std::string p = idx(cp + ".trafficRouting.managedRoutes", i) + ".name";
      if (n.empty())
        errors.add(p, "must be set");
      else if (!routeNames.insert(n).second)
        errors.add(p, "duplicate managed route \"" + n + "\"");
    }
  } else {
    if (c.serviceRouting) {
      validateServiceRouting(*c.serviceRouting, cp + ".serviceRouting",
                             "a canary without trafficRouting is split by replica counts through "
                             "the one Service that selects every replica, which on plain hosts is "
                             "those routers' backend",
                             errors);
    }
    if (c.scaleDownDelaySeconds) {
      errors.add(cp + ".scaleDownDelaySeconds",
                 "Canary scaleDownDelaySeconds can only be used with traffic routing");
    }
    if (c.dynamicStableScale) {
      errors.add(cp + ".dynamicStableScale",
                 "Canary dynamicStableScale can only be used with traffic routing");
    }
    if (c.abortScaleDownDelaySeconds) {
      errors.warn(cp + ".abortScaleDownDelaySeconds",
                  "is ignored without trafficRouting (a basic canary is scaled down by the "
                  "normal replica math)");
    }
    if (c.minPodsPerReplicaSet) {
      errors.warn(cp + ".minPodsPerReplicaSet", "is ignored without trafficRouting");
    }
  }
  if (c.minPodsPerReplicaSet && *c.minPodsPerReplicaSet < 0) {
    errors.add(cp + ".minPodsPerReplicaSet", "must be greater than or equal to 0");
  }
  auto nonNegative = [&](const std::optional<int32_t>& v, const std::string& p) {
    if (v && *v < 0) errors.add(p, "must be greater than or equal to 0");
  };
  nonNegative(c.scaleDownDelaySeconds, cp + ".scaleDownDelaySeconds");
  nonNegative(c.abortScaleDownDelaySeconds, cp + ".abortScaleDownDelaySeconds");
  nonNegative(c.scaleDownDelayRevisionLimit, cp + ".scaleDownDelayRevisionLimit");
  if (c.scaleDownDelayRevisionLimit &&
      revisionHistoryLimitOrDefault(spec) < *c.scaleDownDelayRevisionLimit) {
    errors.add(cp + ".scaleDownDelayRevisionLimit",
               "This rollout's revision history limit can not be smaller than the rollout's "
               "scale down limit");
  }
  if (c.replicaProgressThreshold) {
    const ReplicaProgressThreshold& t = *c.replicaProgressThreshold;
    std::string p = cp + ".replicaProgressThreshold";
    if (t.type != "Percent" && t.type != "Pods") {
      errors.add(p + ".type", "must be Percent or Pods, got \"" + t.type + "\"");
    }
    if (t.value < 0 || (t.type == "Percent" && t.value > 100)) {
      errors.add(p + ".value", t.type == "Percent" ? "must be between 0 and 100"
                                                   : "must be greater than or equal to 0");
    }
  }
}

void validateSetCanaryScale(const CanaryStep& s, const std::string& sp, const TrafficRouting* tr,
                            Errors& errors) {
  if (tr == nullptr) {
    errors.add(sp + ".setCanaryScale", "SetCanaryScale requires TrafficRouting to be set");
  }
  const SetCanaryScale& scs = *s.setCanaryScale;
  int set = (scs.weight ? 1 : 0) + (scs.replicas ? 1 : 0) + (scs.matchTrafficWeight ? 1 : 0);
  if (set != 1) {
    errors.add(sp + ".setCanaryScale",
               "must set exactly one of weight, replicas, matchTrafficWeight");
  }
  if (scs.weight && (*scs.weight < 0 || *scs.weight > 100)) {
    errors.add(sp + ".setCanaryScale.weight", "must be between 0 and 100");
  }
  if (scs.replicas && *scs.replicas < 0) {
    errors.add(sp + ".setCanaryScale.replicas", "must be greater than or equal to 0");
  }
}

void validateSetHeaderRoute(const CanaryStep& s, const std::string& sp, const TrafficRouting* tr,
                            Errors& errors) {
  if (tr == nullptr ||
      (tr->istio.empty() && tr->alb.empty() && tr->apisix.empty() && tr->plugins.empty())) {
    errors.add(sp + ".setHeaderRoute",
               "SetHeaderRoute requires TrafficRouting, supports Istio, ALB, Apisix and plugins");
  } else {
    for (size_t j = 0; j < s.setHeaderRoute->match.size(); ++j) {
      const HeaderRoutingMatch& m = s.setHeaderRoute->match[j];
      std::string mp = idx(sp + ".setHeaderRoute.match", j);
      if (m.headerName.empty()) errors.add(mp + ".headerName", "must be set");
      if (!tr->alb.empty()) {
        if (m.headerValue.exact.empty() || !m.headerValue.regex.empty() ||
            !m.headerValue.prefix.empty()) {
          errors.add(mp, "SetHeaderRoute match value invalid. ALB supports 'exact' value only");
        }
      } else {
        validateStringMatch(&m.headerValue, mp + ".headerValue", errors);
      }
    }
  }
}

void validateSetMirrorRoute(const CanaryStep& s, const std::string& sp, const TrafficRouting* tr,
                            Errors& errors) {
  if (tr == nullptr || (tr->istio.empty() && tr->plugins.empty())) {
    errors.add(sp + ".setMirrorRoute",
               "SetMirrorRoute requires TrafficRouting, supports Istio and plugins only");
  }
  for (size_t j = 0; j < s.setMirrorRoute->match.size(); ++j) {
    const RouteMatch& m = s.setMirrorRoute->match[j];
    std::string mp = idx(sp + ".setMirrorRoute.match", j);
    if (m.method) validateStringMatch(&*m.method, mp + ".method", errors);
    if (m.path) validateStringMatch(&*m.path, mp + ".path", errors);
    for (const auto& [h, v] : m.headers)
      validateStringMatch(&v, mp + ".headers[" + h + "]", errors);
  }
  if (s.setMirrorRoute->percentage &&
      (*s.setMirrorRoute->percentage < 0 || *s.setMirrorRoute->percentage > 100)) {
    errors.add(sp + ".setMirrorRoute.percentage", "must be between 0 and 100");
  }
}

// A header or mirror route step names one of trafficRouting.managedRoutes.
void validateManagedRouteStep(const CanaryStep& s, const std::string& cp, const std::string& sp,
                              const TrafficRouting* tr, Errors& errors) {
  if (tr == nullptr || (!s.setHeaderRoute && !s.setMirrorRoute)) return;
  if (tr->managedRoutes.empty()) {
    errors.add(cp + ".trafficRouting.managedRoutes",
               "Rollout has missing field 'spec.strategy.canary.trafficRouting.managedRoutes'");
  } else {
    auto check = [&](const std::string& name, const std::string& p) {
      bool found = std::any_of(tr->managedRoutes.begin(), tr->managedRoutes.end(),
                               [&](const ManagedRoute& r) { return r.name == name; });
      if (!found) {
        errors.add(p, "route \"" + name +
                          "\" is not in spec.strategy.canary.trafficRouting.managedRoutes");
      }
    };
    if (s.setHeaderRoute) check(s.setHeaderRoute->name, sp + ".setHeaderRoute.name");
    if (s.setMirrorRoute) check(s.setMirrorRoute->name, sp + ".setMirrorRoute.name");
  }
}

void validateExperimentStep(const CanaryStep& s, const std::string& sp, const TrafficRouting* tr,
                            Errors& errors) {
  const RolloutExperimentStep& e = *s.experiment;
  if (e.templates.empty()) errors.add(sp + ".experiment.templates", "must not be empty");
  for (size_t t = 0; t < e.templates.size(); ++t) {
    std::string ep = idx(sp + ".experiment.templates", t);
    if (e.templates[t].name.empty()) errors.add(ep + ".name", "must be set");
    if (e.templates[t].specRef != "stable" && e.templates[t].specRef != "canary") {
      errors.add(ep + ".specRef",
                 "must be stable or canary, got \"" + e.templates[t].specRef + "\"");
    }
    if (e.templates[t].weight) {
      if (tr == nullptr) {
        errors.add(ep + ".weight",
                   "Experiment template weight cannot be set unless TrafficRouting is enabled");
      } else if (tr->alb.empty() && tr->smi.empty() && tr->istio.empty()) {
        errors.add(ep + ".weight",
                   "Experiment template weight is only available for TrafficRouting with SMI, "
                   "ALB, and Istio at this time");
      }
    }
  }
  if (!e.duration.empty() && !isTemplated(e.duration)) {
    if (auto d = parseGoDuration(e.duration); !d) {
      errors.add(sp + ".experiment.duration", d.error().message);
    }
  }
  for (size_t a = 0; a < e.analyses.size(); ++a) {
    std::string ap = idx(sp + ".experiment.analyses", a);
    if (e.analyses[a].name.empty()) errors.add(ap + ".name", "must be set");
    if (e.analyses[a].templateName.empty()) errors.add(ap + ".templateName", "must be set");
    validateArgs(e.analyses[a].args, ap + ".args", errors, true);
  }
}

// One step of spec.strategy.canary.steps (`sp` is its path).
void validateCanaryStep(const CanaryStep& s, const std::string& cp, const std::string& sp,
                        const TrafficRouting* tr, int32_t maxWeight, Errors& errors) {
  int exclusive =
      (s.setWeight ? 1 : 0) + (s.pause ? 1 : 0) + (s.experiment ? 1 : 0) + (s.analysis ? 1 : 0);
  int any = exclusive + (s.setCanaryScale ? 1 : 0) + (s.setHeaderRoute ? 1 : 0) +
            (s.setMirrorRoute ? 1 : 0) + (s.plugin ? 1 : 0);
  if (exclusive > 1) {
    errors.add(sp, "a step may set only one of setWeight, pause, experiment, analysis");
  }
  if (any == 0) {
    errors.add(sp,
               "Step must have one of the following set: experiment, setWeight, "
               "setCanaryScale, setHeaderRoute, setMirrorRoute, analysis, plugin or pause");
  }
  if (s.setWeight && (*s.setWeight < 0 || *s.setWeight > maxWeight)) {
    errors.add(sp + ".setWeight", fmt::format("SetWeight needs to be between 0 and {}", maxWeight));
  }
  if (s.pause && s.pause->duration) {
    auto secs = pauseDurationSeconds(*s.pause->duration);
    if (!secs) {
      errors.add(sp + ".pause.duration",
                 "must be a number of seconds or a duration such as \"30s\", \"5m\", \"1h\"; "
                 "got \"" +
                     s.pause->duration->stringValue() + "\"");
    } else if (*secs < 0) {
      errors.add(sp + ".pause.duration", "must not be negative");
    }
  }
  if (s.setCanaryScale) validateSetCanaryScale(s, sp, tr, errors);
  if (s.setHeaderRoute) validateSetHeaderRoute(s, sp, tr, errors);
  if (s.setMirrorRoute) validateSetMirrorRoute(s, sp, tr, errors);
  validateManagedRouteStep(s, cp, sp, tr, errors);
  if (s.experiment) validateExperimentStep(s, sp, tr, errors);
  if (s.analysis) validateRolloutAnalysis(*s.analysis, sp + ".analysis", errors);
  if (s.plugin && s.plugin->name.empty()) errors.add(sp + ".plugin.name", "must be set");
}

void validateCanary(const Rollout& rollout, Errors& errors) {
  const RolloutSpec& spec = rollout.spec;
  const CanaryStrategy& c = *spec.strategy.canary;
  const std::string cp = "spec.strategy.canary";
  validateCanaryFenceposts(c, cp, errors);
  validateCanaryRouting(spec, c, cp, errors);
  const TrafficRouting* tr = c.trafficRouting ? &*c.trafficRouting : nullptr;
  const int32_t maxWeight = maxTrafficWeightOrDefault(c);
  for (size_t i = 0; i < c.steps.size(); ++i) {
    validateCanaryStep(c.steps[i], cp, idx(cp + ".steps", i), tr, maxWeight, errors);
  }
  if (c.analysis) {
    validateRolloutAnalysis(*c.analysis, cp + ".analysis", errors);
    if (c.analysis->startingStep) {
      int32_t st = *c.analysis->startingStep;
      if (st < 0 || (st > 0 && static_cast<size_t>(st) > c.steps.size())) {
        errors.add(cp + ".analysis.startingStep",
                   fmt::format("must be between 0 and the number of steps ({})", c.steps.size()));
      }
    }
  }
  validateAntiAffinity(c.antiAffinity, cp + ".antiAffinity", errors);
}

void validateBlueGreen(const Rollout& rollout, Errors& errors) {
  const BlueGreenStrategy& bg = *rollout.spec.strategy.blueGreen;
  const std::string bp = "spec.strategy.blueGreen";
  if (bg.activeService.empty()) {
    errors.add(bp + ".activeService",
               "Rollout has missing field '.spec.strategy.blueGreen.activeService'");
  } else if (bg.activeService == bg.previewService) {
    errors.add(bp + ".activeService",
               "This rollout uses the same service for the active and preview services, but two "
               "different services are required.");
  }
  if (bg.scaleDownDelayRevisionLimit &&
      revisionHistoryLimitOrDefault(rollout.spec) < *bg.scaleDownDelayRevisionLimit) {
    errors.add(bp + ".scaleDownDelayRevisionLimit",
               "This rollout's revision history limit can not be smaller than the rollout's "
               "scale down limit");
  }
  auto nonNegative = [&](const std::optional<int32_t>& v, const std::string& p) {
    if (v && *v < 0) errors.add(p, "must be greater than or equal to 0");
  };
  nonNegative(bg.previewReplicaCount, bp + ".previewReplicaCount");
  nonNegative(bg.scaleDownDelaySeconds, bp + ".scaleDownDelaySeconds");
  nonNegative(bg.abortScaleDownDelaySeconds, bp + ".abortScaleDownDelaySeconds");
  nonNegative(bg.scaleDownDelayRevisionLimit, bp + ".scaleDownDelayRevisionLimit");
  if (bg.autoPromotionSeconds < 0) {
    errors.add(bp + ".autoPromotionSeconds", "must be greater than or equal to 0");
  }
  if (bg.maxUnavailable) {
    if (auto r = resolveIntOrPercent(*bg.maxUnavailable, 100, false); !r) {
      errors.add(bp + ".maxUnavailable", r.error().message);
    }
  }
  if (bg.prePromotionAnalysis)
    validateRolloutAnalysis(*bg.prePromotionAnalysis, bp + ".prePromotionAnalysis", errors);
  if (bg.postPromotionAnalysis)
    validateRolloutAnalysis(*bg.postPromotionAnalysis, bp + ".postPromotionAnalysis", errors);
  validateAntiAffinity(bg.antiAffinity, bp + ".antiAffinity", errors);
  if (const auto& tr = bg.trafficRouting) {
    validateServiceRouting(*tr, bp + ".trafficRouting",
                           "blue-green switches the active and preview Services, which on plain "
                           "hosts are those routers' backends",
                           errors);
  }
}

void validateMeta(const ObjectMeta& m, Errors& errors) {
  if (m.name.empty() && m.generateName.empty()) {
    errors.add("metadata.name", "must be set");
  } else if (!m.name.empty()) {
    static const std::regex kSubdomain(
        "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");
    if (m.name.size() > 253 || !std::regex_match(m.name, kSubdomain)) {
      errors.add("metadata.name",
                 "must be a DNS subdomain: lower-case letters, digits, '-' and '.', at most 253 "
                 "characters");
    }
  }
}

}  // namespace

std::vector<Diagnostic> validateMetadata(const ObjectMeta& metadata) {
  Errors errors;
  validateMeta(metadata, errors);
  return errors.take();
}

std::vector<Diagnostic> validateMetric(const Metric& metric, const std::string& path) {
  Errors errors;
  validateMetricInto(metric, path, errors);
  return errors.take();
}

std::vector<Diagnostic> validateRollout(const Rollout& rollout) {
  Errors errors;
  const RolloutSpec& spec = rollout.spec;
  validateMeta(rollout.metadata, errors);
  if (spec.replicas && *spec.replicas < 0)
    errors.add("spec.replicas", "must be greater than or equal to 0");
  if (!spec.workloadRef) {
    if (!spec.selector) {
      errors.add("spec.selector", "Rollout has missing field '.spec.selector'");
    } else if (spec.selector->matchLabels.empty() && spec.selector->matchExpressions.empty()) {
      errors.add("spec.selector", "empty selector is invalid for deployment");
    }
  }
  if (spec.selector) validateSelector(*spec.selector, "spec.selector", errors);
  if (spec.workloadRef) {
    const WorkloadRef& w = *spec.workloadRef;
    if (spec.template_ && (!spec.template_->metadata.labels.empty() ||
                           !spec.template_->metadata.annotations.empty() ||
                           !spec.template_->spec.containers.empty())) {
      errors.add("spec.template", "template must be empty for workload reference rollout");
    }
    if (w.kind != "Deployment" && w.kind != "ReplicaSet" && w.kind != "PodTemplate") {
      errors.add("spec.workloadRef.kind",
                 "must be Deployment, ReplicaSet or PodTemplate, got \"" + w.kind + "\"");
    }
    if (w.name.empty()) errors.add("spec.workloadRef.name", "must be set");
    if (!w.scaleDown.empty() && w.scaleDown != "never" && w.scaleDown != "onsuccess" &&
        w.scaleDown != "progressively") {
      errors.add("spec.workloadRef.scaleDown",
                 "must be never, onsuccess or progressively, got \"" + w.scaleDown + "\"");
    }
  } else {
    validateTemplate(spec, errors);
  }
  if (spec.minReadySeconds < 0)
    errors.add("spec.minReadySeconds", "must be greater than or equal to 0");
  if (revisionHistoryLimitOrDefault(spec) < 0)
    errors.add("spec.revisionHistoryLimit", "must be greater than or equal to 0");
  int32_t pds = progressDeadlineSecondsOrDefault(spec);
  if (pds < 0) errors.add("spec.progressDeadlineSeconds", "must be greater than or equal to 0");
  if (pds <= spec.minReadySeconds) {
    errors.add(
        "spec.progressDeadlineSeconds",
        fmt::format("must be greater than minReadySeconds ({} <= {})", pds, spec.minReadySeconds));
  }
  if (spec.rollbackWindow && spec.rollbackWindow->revisions < 0) {
    errors.add("spec.rollbackWindow.revisions", "must be greater than or equal to 0");
  }
  if (spec.analysis) {
    if (spec.analysis->successfulRunHistoryLimit && *spec.analysis->successfulRunHistoryLimit < 0)
      errors.add("spec.analysis.successfulRunHistoryLimit", "must be greater than or equal to 0");
    if (spec.analysis->unsuccessfulRunHistoryLimit &&
        *spec.analysis->unsuccessfulRunHistoryLimit < 0)
      errors.add("spec.analysis.unsuccessfulRunHistoryLimit", "must be greater than or equal to 0");
  }
  const RolloutStrategy& st = spec.strategy;
  if (!st.canary && !st.blueGreen) {
    errors.add("spec.strategy",
               "Rollout has missing field '.spec.strategy.canary or .spec.strategy.blueGreen'");
  } else if (st.canary && st.blueGreen) {
    errors.add("spec.strategy", "Multiple Strategies can not be listed");
  } else if (st.canary) {
    validateCanary(rollout, errors);
  } else {
    validateBlueGreen(rollout, errors);
  }
  return errors.take();
}

std::vector<Diagnostic> validateAnalysisTemplate(const AnalysisTemplate& t) {
  Errors errors;
  validateMeta(t.metadata, errors);
  if (t.spec.metrics.empty() && t.spec.templates.empty()) {
    errors.add("spec.metrics", "no metrics specified");
  }
  validateMetricList(t.spec.metrics, "spec.metrics", errors);
  validateArgs(t.spec.args, "spec.args", errors, false);
  validateDryRunRetention(t.spec.dryRun, t.spec.measurementRetention, "spec", errors);
  for (size_t i = 0; i < t.spec.templates.size(); ++i) {
    if (t.spec.templates[i].templateName.empty())
      errors.add(idx("spec.templates", i) + ".templateName", "must be set");
  }
  return errors.take();
}

std::vector<Diagnostic> validateAnalysisRun(const AnalysisRun& run) {
  Errors errors;
  validateMeta(run.metadata, errors);
  if (run.spec.metrics.empty()) errors.add("spec.metrics", "no metrics specified");
  validateMetricList(run.spec.metrics, "spec.metrics", errors);
  validateArgs(run.spec.args, "spec.args", errors, false);
  validateDryRunRetention(run.spec.dryRun, run.spec.measurementRetention, "spec", errors);
  return errors.take();
}

std::vector<Diagnostic> validateObject(const Object& object) {
  return std::visit(
      [](const auto& o) -> std::vector<Diagnostic> {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, Rollout>) return validateRollout(o);
        if constexpr (std::is_same_v<T, AnalysisTemplate>) return validateAnalysisTemplate(o);
        if constexpr (std::is_same_v<T, AnalysisRun>) return validateAnalysisRun(o);
        if constexpr (std::is_same_v<T, Application>) return validateApplication(o);
        if constexpr (std::is_same_v<T, AppProject>) return validateAppProject(o);
      },
      object);
}

LintResult lintText(std::string_view text, std::string_view file, const DecodeLimits& limits) {
  ParseOutput parsed = parseDocuments(text, file, limits);
  LintResult result;
  result.unreadable = parsed.unreadable;
  result.diagnostics = std::move(parsed.diagnostics);
  for (Document& doc : parsed.documents) {
    std::vector<Diagnostic> ds = validateObject(doc.object);
    locate(ds, doc);
    for (Diagnostic& d : ds) result.diagnostics.push_back(std::move(d));
  }
  std::stable_sort(result.diagnostics.begin(), result.diagnostics.end(),
                   [](const Diagnostic& a, const Diagnostic& b) {
                     return std::pair(a.line, a.column) < std::pair(b.line, b.column);
                   });
  result.documents = std::move(parsed.documents);
  return result;
}

}  // namespace ramp::spec
