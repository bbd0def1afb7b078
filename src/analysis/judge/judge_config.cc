// Parsing of the judge's plugin config: provider.plugin["ramp/judge"] as JSON.

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <set>

#include <nlohmann/json.hpp>

#include "analysis/judge/judge.h"
#include "common/go_duration.h"

namespace ramp::analysis::judge {

namespace {

using nlohmann::json;

const std::string kRoot = "ramp/judge";

std::unexpected<Error> fieldError(const std::string& path, const std::string& what) {
  return makeError(ErrorCode::kInvalidArgument, path + ": " + what);
}

std::string shown(const json& v) {
  std::string s = v.dump();
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

Status checkKeys(const json& obj, const std::string& path, const std::set<std::string>& allowed) {
  for (const auto& [key, _] : obj.items()) {
    if (!allowed.contains(key)) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return fieldError(path + "." + key, "unknown field (known: " + list + ")");
    }
  }
  return {};
}

// A JSON number, or a string holding only a decimal number: template args are strings, so
// `canaryWeight: "{{args.weight}}"` arrives as "20".
std::optional<double> numeric(const json& v) {
  if (v.is_number()) return v.get<double>();
  if (!v.is_string()) return std::nullopt;
  const std::string& s = v.get_ref<const std::string&>();
  if (s.empty() || std::isspace(static_cast<unsigned char>(s.front()))) return std::nullopt;
  char* end = nullptr;
  const double d = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return std::nullopt;
  return d;
}

// Reads obj[key] as a number in [lo, hi] (bounds exclusive where said), if present.
Result<std::optional<double>> number(const json& obj, const std::string& path,
                                     const std::string& key, double lo, double hi, bool loOpen,
                                     bool hiOpen, const std::string& range) {
  if (!obj.contains(key)) return std::optional<double>{};
  const json& v = obj.at(key);
  const std::string field = path + "." + key;
  const std::optional<double> parsed = numeric(v);
  if (!parsed) return fieldError(field, "must be a number " + range + ", got " + shown(v));
  const double d = *parsed;
  const bool ok = std::isfinite(d) && (loOpen ? d > lo : d >= lo) && (hiOpen ? d < hi : d <= hi);
  if (!ok) return fieldError(field, "must be a number " + range + ", got " + shown(v));
  return std::optional<double>(d);
}

Result<std::optional<std::string>> string(const json& obj, const std::string& path,
                                          const std::string& key) {
  if (!obj.contains(key)) return std::optional<std::string>{};
  const json& v = obj.at(key);
  if (!v.is_string()) return fieldError(path + "." + key, "must be a string, got " + shown(v));
  return std::optional<std::string>(v.get<std::string>());
}

// A label value pasted into a preset query: plain names only, so no PromQL can be injected.
bool safeLabel(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.' &&
        c != ':') {
      return false;
    }
  }
  return true;
}

Status parseArm(const json& obj, const std::string& path, ArmQueries& arm) {
  if (!obj.is_object()) return fieldError(path, "must be an object, got " + shown(obj));
  if (auto st = checkKeys(obj, path, {"requests", "errors", "latencyBuckets"}); !st) return st;
  for (auto [key, target] : {std::pair{"requests", &arm.requests}, std::pair{"errors", &arm.errors},
                             std::pair{"latencyBuckets", &arm.latencyBuckets}}) {
    auto v = string(obj, path, key);
    if (!v) return std::unexpected(v.error());
    if (*v) {
      if ((*v)->empty()) return fieldError(path + "." + key, "must not be empty");
      *target = **v;
    }
  }
  return {};
}

Status applyPreset(const json& obj, const std::string& path, JudgeConfig& c) {
  if (!obj.is_object()) return fieldError(path, "must be an object, got " + shown(obj));
  if (auto st = checkKeys(obj, path, {"name", "canary", "stable"}); !st) return st;
  auto name = string(obj, path, "name");
  if (!name) return std::unexpected(name.error());
  if (!*name) return fieldError(path + ".name", "is required (demo or haproxy)");
  std::string labels[2];
  const char* keys[2] = {"canary", "stable"};
  for (int i = 0; i < 2; ++i) {
    auto v = string(obj, path, keys[i]);
    if (!v) return std::unexpected(v.error());
    if (!*v || !safeLabel(**v)) {
      return fieldError(path + "." + keys[i],
                        "is required: a label value of letters, digits, '_', '-', '.', ':'");
    }
    labels[i] = **v;
  }
  ArmQueries* arms[2] = {&c.canary, &c.stable};
  if (**name == "demo") {
    for (int i = 0; i < 2; ++i) {
      const std::string sel = "version=\"" + labels[i] + "\"";
      arms[i]->requests = "sum(http_requests_total{" + sel + "})";
      arms[i]->errors = "sum(http_requests_total{" + sel + ",code=~\"5..\"})";
      arms[i]->latencyBuckets = "sum by (le) (http_request_duration_seconds_bucket{" + sel + "})";
    }
  } else if (**name == "haproxy") {
    for (int i = 0; i < 2; ++i) {
      const std::string sel = "proxy=\"" + labels[i] + "\"";
      arms[i]->requests = "sum(haproxy_backend_http_requests_total{" + sel + "})";
      arms[i]->errors = "sum(haproxy_backend_http_responses_total{" + sel + ",code=\"5xx\"})";
    }
  } else {
    return fieldError(path + ".name", "must be demo or haproxy, got " + shown(obj.at("name")));
  }
  c.preset = **name;
  return {};
}

// A Go duration (common/go_duration.h) in milliseconds; the error names `field`.
Result<Duration> duration(std::string_view text, const std::string& field) {
  auto d = parseGoDurationMillis(text);
  if (!d) return fieldError(field, d.error().message);
  return *d;
}

}  // namespace

Result<JudgeConfig> parseJudgeConfig(std::string_view text) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception& e) {
    return makeError(ErrorCode::kParse, kRoot + ": not valid JSON: " + e.what());
  }
  if (!root.is_object()) return fieldError(kRoot, "must be an object, got " + shown(root));
  if (auto st =
          checkKeys(root, kRoot,
                    {"address", "preset", "queries", "alpha", "promotionAlpha", "minRegression",
                     "margin", "mustDetect", "maxCanaryRequests", "maxDuration", "lookInterval",
                     "canaryWeight", "srmTolerance", "combine", "latency"});
      !st) {
    return std::unexpected(st.error());
  }
  JudgeConfig c;
  auto assign = [](Result<std::optional<double>> r, double& target) -> Status {
    if (!r) return std::unexpected(r.error());
    if (*r) target = **r;
    return {};
  };
  const std::string p = kRoot;
  if (auto st = assign(number(root, p, "alpha", 0, 0.5, true, false, "in (0, 0.5]"), c.alpha);
      !st) {
    return std::unexpected(st.error());
  }
  if (auto st = assign(number(root, p, "promotionAlpha", 0, 0.5, true, false, "in (0, 0.5]"),
                       c.promotionAlpha);
      !st) {
    return std::unexpected(st.error());
  }
  if (auto st = assign(number(root, p, "minRegression", 1, 50, true, false, "in (1, 50]"),
                       c.minRegression);
      !st) {
    return std::unexpected(st.error());
  }
  if (auto st = assign(number(root, p, "margin", 1, 50, true, false, "in (1, 50]"), c.margin);
      !st) {
    return std::unexpected(st.error());
  }
  if (auto st =
          assign(number(root, p, "mustDetect", 1, 1000, true, false, "in (1, 1000]"), c.mustDetect);
      !st) {
    return std::unexpected(st.error());
  }
  if (auto st =
          assign(number(root, p, "srmTolerance", 0, 1, false, true, "in [0, 1)"), c.srmTolerance);
      !st) {
    return std::unexpected(st.error());
  }
  auto maxReq = number(root, p, "maxCanaryRequests", 0, 1e15, true, false, "> 0");
  if (!maxReq) return std::unexpected(maxReq.error());
  c.maxCanaryRequests = *maxReq;
  auto weight = number(root, p, "canaryWeight", 0, 100, true, true, "in (0, 100) (percent)");
  if (!weight) return std::unexpected(weight.error());
  if (*weight) c.canaryWeight = **weight / 100.0;

  for (auto [key, target] :
       {std::pair{"maxDuration", &c.maxDuration}, std::pair{"lookInterval", &c.lookInterval}}) {
    auto s = string(root, p, key);
    if (!s) return std::unexpected(s.error());
    if (!*s) continue;
    auto d = duration(**s, p + "." + key);
    if (!d) return std::unexpected(d.error());
    if (d->count() <= 0) return fieldError(p + "." + key, "must be positive");
    *target = *d;
  }

  auto combine = string(root, p, "combine");
  if (!combine) return std::unexpected(combine.error());
  if (*combine) {
    if (**combine == "average")
      c.combine = Combine::kAverage;
    else if (**combine == "bonferroni")
      c.combine = Combine::kBonferroni;
    else
      return fieldError(p + ".combine", "must be average or bonferroni, got \"" + **combine + "\"");
  }

  auto address = string(root, p, "address");
  if (!address) return std::unexpected(address.error());
  if (*address) c.address = **address;

  if (root.contains("preset")) {
    if (auto st = applyPreset(root.at("preset"), p + ".preset", c); !st) {
      return std::unexpected(st.error());
    }
  }
  if (root.contains("queries")) {
    const json& q = root.at("queries");
    const std::string qp = p + ".queries";
    if (!q.is_object()) return fieldError(qp, "must be an object, got " + shown(q));
    if (auto st = checkKeys(q, qp, {"canary", "stable"}); !st) return std::unexpected(st.error());
    if (q.contains("canary")) {
      if (auto st = parseArm(q.at("canary"), qp + ".canary", c.canary); !st) {
        return std::unexpected(st.error());
      }
    }
    if (q.contains("stable")) {
      if (auto st = parseArm(q.at("stable"), qp + ".stable", c.stable); !st) {
        return std::unexpected(st.error());
      }
    }
  }

  if (root.contains("latency")) {
    const json& l = root.at("latency");
    const std::string lp = p + ".latency";
    if (!l.is_object()) return fieldError(lp, "must be an object, got " + shown(l));
    if (auto st = checkKeys(l, lp, {"thresholdSeconds", "minRegression", "margin"}); !st) {
      return std::unexpected(st.error());
    }
    LatencyConfig lc;
    auto t = number(l, lp, "thresholdSeconds", 0, 1e6, true, false, "> 0 (a bucket bound)");
    if (!t) return std::unexpected(t.error());
    lc.thresholdSeconds = *t;
    if (auto st = assign(number(l, lp, "minRegression", 1, 50, true, false, "in (1, 50]"),
                         lc.minRegression);
        !st) {
      return std::unexpected(st.error());
    }
    if (auto st = assign(number(l, lp, "margin", 1, 50, true, false, "in (1, 50]"), lc.margin);
        !st) {
      return std::unexpected(st.error());
    }
    c.latency = lc;
  }

  // Every query the statistics will need must be known, from a preset or written out.
  const std::pair<const char*, const ArmQueries*> arms[] = {{"canary", &c.canary},
                                                            {"stable", &c.stable}};
  for (const auto& [name, arm] : arms) {
    const std::string ap = p + ".queries." + name;
    if (arm->requests.empty()) return fieldError(ap + ".requests", "is required (or set preset)");
    if (arm->errors.empty()) return fieldError(ap + ".errors", "is required (or set preset)");
    if (c.latency && arm->latencyBuckets.empty()) {
      return fieldError(
          ap + ".latencyBuckets",
          "is required when latency is set" +
              std::string(c.preset == "haproxy" ? " (HAProxy's exporter has no latency histogram)"
                                                : ""));
    }
  }
  return c;
}

}  // namespace ramp::analysis::judge
