#include "analysis/judge/prometheus_counts.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>

#include <nlohmann/json.hpp>

#include "common/http_client.h"
#include "common/redact.h"

namespace ramp::analysis::judge {

namespace {

using nlohmann::json;

constexpr size_t kMaxBodyInMessage = 200;

std::string snippet(std::string_view body) {
  std::string s(body.substr(0, kMaxBodyInMessage));
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  if (body.size() > kMaxBodyInMessage) s += "...";
  return s;
}

// A sample value of the HTTP API: "1.5", "NaN", "+Inf", "-Inf", "1e-3".
std::optional<double> parseNumber(std::string_view text) {
  bool negate = false;
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
    negate = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text == "Inf")
    return negate ? -std::numeric_limits<double>::infinity()
                  : std::numeric_limits<double>::infinity();
  if (text.empty() || text.front() == '+' || text.front() == '-') return std::nullopt;
  double d = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return negate ? -d : d;
}

std::optional<double> sampleOf(const json& pair) {
  if (!pair.is_array() || pair.size() != 2 || !pair[0].is_number() || !pair[1].is_string()) {
    return std::nullopt;
  }
  return parseNumber(pair[1].get_ref<const std::string&>());
}

// Seconds since the epoch with milliseconds, as the API's `time` parameter takes it.
std::string formatSeconds(Time t) {
  const int64_t ms = t.time_since_epoch().count();
  char buf[48];
  std::snprintf(buf, sizeof buf, "%s%lld.%03lld", ms < 0 ? "-" : "",
                static_cast<long long>((ms < 0 ? -ms : ms) / 1000),
                static_cast<long long>((ms < 0 ? -ms : ms) % 1000));
  return buf;
}

// The password of "scheme://user:password@host…", if any.
std::string passwordIn(std::string_view address) {
  auto sep = address.find("://");
  if (sep == std::string_view::npos) return "";
  auto rest = address.substr(sep + 3);
  auto authority = rest.substr(0, rest.find_first_of("/?#"));
  auto at = authority.rfind('@');
  if (at == std::string_view::npos) return "";
  auto userinfo = authority.substr(0, at);
  auto colon = userinfo.find(':');
  return colon == std::string_view::npos ? "" : std::string(userinfo.substr(colon + 1));
}

bool isHttpUrl(std::string_view address) {
  std::string_view rest;
  if (address.starts_with("http://")) {
    rest = address.substr(7);
  } else if (address.starts_with("https://")) {
    rest = address.substr(8);
  } else {
    return false;
  }
  auto authority = rest.substr(0, rest.find_first_of("/?#"));
  auto at = authority.rfind('@');
  auto host = at == std::string_view::npos ? authority : authority.substr(at + 1);
  return !host.empty() && host.find_first_of(" \t") == std::string_view::npos;
}

// One series of an instant query's answer.
struct Series {
  json metric;
  double value = 0;
};

class Querier {
 public:
  Querier(std::string address, const PrometheusCounts::Options& options, Time at)
      : address_(std::move(address)), options_(options), at_(at) {
    if (options.redactor != nullptr) secrets_ = *options.redactor;
    secrets_.add(passwordIn(address_));
    while (!address_.empty() && address_.back() == '/') address_.pop_back();
  }

  // Runs `promql` as an instant query; returns its series (a scalar becomes one series).
  Result<std::vector<Series>> query(const std::string& promql) {
    http::Request req;
    req.method = "POST";
    req.url = address_ + "/api/v1/query";
    req.timeout = options_.timeout;
    req.body = "query=" + http::urlEncode(promql) + "&time=" + formatSeconds(at_);
    req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    req.headers.emplace_back("Accept", "application/json");
    auto fail = [&](ErrorCode code, const std::string& why) -> Result<std::vector<Series>> {
      return makeError(code, secrets_.redact(where(promql) + ": " + why));
    };

    auto resp = http::send(req);
    if (!resp) return fail(resp.error().code, resp.error().message);
    json j = json::parse(resp->body, nullptr, /*allow_exceptions=*/false);
    const bool envelope =
        !j.is_discarded() && j.is_object() && j.contains("status") && j["status"].is_string();
    if (envelope && j["status"] == "error") {
      const std::string type = j.contains("errorType") && j["errorType"].is_string()
                                   ? j["errorType"].get<std::string>()
                                   : "unknown";
      const std::string text =
          j.contains("error") && j["error"].is_string() ? j["error"].get<std::string>() : "";
      const ErrorCode code = type == "bad_data"  ? ErrorCode::kInvalidArgument
                             : type == "timeout" ? ErrorCode::kDeadlineExceeded
                                                 : ErrorCode::kUnavailable;
      return fail(code, "HTTP " + std::to_string(resp->status) + ": " + type + ": " + text);
    }
    if (!resp->ok()) {
      return fail(ErrorCode::kUnavailable,
                  "HTTP " + std::to_string(resp->status) + ": " + snippet(resp->body));
    }
    if (!envelope || j["status"] != "success") {
      return fail(ErrorCode::kParse, "not a Prometheus API response: " + snippet(resp->body));
    }
    if (!j.contains("data") || !j["data"].is_object() || !j["data"].contains("resultType") ||
        !j["data"]["resultType"].is_string() || !j["data"].contains("result")) {
      return fail(ErrorCode::kParse, "response has no data.resultType and data.result");
    }
    const std::string type = j["data"]["resultType"].get<std::string>();
    const json& result = j["data"]["result"];
    std::vector<Series> out;
    if (type == "scalar") {
      auto v = sampleOf(result);
      if (!v) return fail(ErrorCode::kParse, "data.result is not a [time, \"value\"] pair");
      out.push_back(Series{json::object(), *v});
      return out;
    }
    if (type != "vector") {
      return fail(ErrorCode::kUnsupported,
                  "result type \"" + type + "\" (the judge needs an instant vector or a scalar)");
    }
    if (!result.is_array()) return fail(ErrorCode::kParse, "data.result is not a list");
    for (size_t i = 0; i < result.size(); ++i) {
      const json& s = result[i];
      const std::string field = "data.result[" + std::to_string(i) + "]";
      if (!s.is_object() || !s.contains("value")) {
        return fail(ErrorCode::kParse, field + " has no \"value\"");
      }
      auto v = sampleOf(s["value"]);
      if (!v) return fail(ErrorCode::kParse, field + ".value is not a [time, \"value\"] pair");
      out.push_back(Series{
          s.contains("metric") && s["metric"].is_object() ? s["metric"] : json::object(), *v});
    }
    return out;
  }

  // A counter: one number; no series = 0.
  Result<double> counter(const std::string& promql) {
    auto series = query(promql);
    if (!series) return std::unexpected(series.error());
    if (series->empty()) return 0.0;
    if (series->size() > 1) {
      return makeError(
          ErrorCode::kInvalidArgument,
          secrets_.redact(where(promql) + ": returned " + std::to_string(series->size()) +
                          " series; a judge counter query must return one number "
                          "(aggregate it, e.g. sum(...))"));
    }
    const double v = series->front().value;
    if (!std::isfinite(v) || v < 0) {
      return makeError(ErrorCode::kInvalidArgument,
                       secrets_.redact(where(promql) + ": returned " + std::to_string(v) +
                                       ", not a counter value (finite, >= 0)"));
    }
    return v;
  }

  // A histogram: one series per `le`, sorted by le. No series = empty.
  Result<std::vector<Bucket>> buckets(const std::string& promql) {
    auto series = query(promql);
    if (!series) return std::unexpected(series.error());
    std::vector<Bucket> out;
    for (const auto& s : *series) {
      if (!s.metric.contains("le") || !s.metric["le"].is_string()) {
        return makeError(
            ErrorCode::kInvalidArgument,
            secrets_.redact(where(promql) +
                            ": a series has no `le` label; a latency query must "
                            "return histogram buckets, e.g. sum by (le) (..._bucket)"));
      }
      const std::string le = s.metric["le"].get<std::string>();
      auto bound = parseNumber(le);
      if (!bound || std::isnan(*bound)) {
        return makeError(
            ErrorCode::kInvalidArgument,
            secrets_.redact(where(promql) + ": bucket le=\"" + le + "\" is not a number"));
      }
      out.push_back(Bucket{*bound, s.value});
    }
    std::sort(out.begin(), out.end(), [](const Bucket& a, const Bucket& b) { return a.le < b.le; });
    for (size_t i = 1; i < out.size(); ++i) {
      if (out[i].le == out[i - 1].le) {
        return makeError(
            ErrorCode::kInvalidArgument,
            secrets_.redact(where(promql) + ": two series share one `le` bucket; aggregate them "
                                            "with sum by (le) (...)"));
      }
    }
    return out;
  }

  std::string redact(std::string_view text) const { return secrets_.redact(text); }

  std::string where(const std::string& promql) const {
    return "prometheus " + http::redactUrl(address_ + "/api/v1/query") + " query `" + promql + "`";
  }

 private:
  std::string address_;
  const PrometheusCounts::Options& options_;
  Time at_;
  Redactor secrets_;
};

}  // namespace

Result<JudgeInput> PrometheusCounts::fetch(const JudgeConfig& config, const MeasureContext& ctx) {
  const std::string address = config.address.empty() ? options_.defaultAddress : config.address;
  if (address.empty()) {
    return makeError(ErrorCode::kInvalidArgument,
                     "judge: no Prometheus address (set ramp/judge.address, or the daemon's "
                     "default Prometheus address)");
  }
  if (!isHttpUrl(address)) {
    Redactor secrets = options_.redactor != nullptr ? *options_.redactor : Redactor();
    secrets.add(passwordIn(address));
    return makeError(ErrorCode::kInvalidArgument,
                     secrets.redact("judge: Prometheus address \"" + http::redactUrl(address) +
                                    "\" is not an http:// or https:// URL with a host"));
  }
  Querier q(address, options_, ctx.now);
  JudgeInput input;
  input.time = ctx.now;
  const std::pair<const ArmQueries*, ArmCounts*> arms[] = {{&config.canary, &input.canary},
                                                           {&config.stable, &input.stable}};
  for (const auto& [queries, counts] : arms) {
    auto requests = q.counter(queries->requests);
    if (!requests) return std::unexpected(requests.error());
    auto errors = q.counter(queries->errors);
    if (!errors) return std::unexpected(errors.error());
    counts->requests = *requests;
    counts->errors = *errors;
    if (config.latency) {
      auto buckets = q.buckets(queries->latencyBuckets);
      if (!buckets) return std::unexpected(buckets.error());
      counts->buckets = std::move(*buckets);
    }
  }
  if (config.latency) {
    // An arm without traffic yet may export no histogram: it has the other arm's bounds at 0.
    auto zeroLike = [](const std::vector<Bucket>& other) {
      std::vector<Bucket> out = other;
      for (auto& b : out) b.count = 0;
      return out;
    };
    if (input.canary.buckets.empty() && input.stable.buckets.empty()) {
      return makeError(
          ErrorCode::kUnavailable,
          q.redact(q.where(config.canary.latencyBuckets) + " and `" + config.stable.latencyBuckets +
                   "`: no histogram series for either arm yet (is the histogram "
                   "exported and scraped?)"));
    }
    if (input.canary.buckets.empty()) input.canary.buckets = zeroLike(input.stable.buckets);
    if (input.stable.buckets.empty()) input.stable.buckets = zeroLike(input.canary.buckets);
  }
  return input;
}

}  // namespace ramp::analysis::judge
