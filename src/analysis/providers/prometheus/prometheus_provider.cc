#include "analysis/providers/prometheus/prometheus_provider.h"

#include <array>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "common/http_client.h"
#include "common/redact.h"

namespace ramp::analysis::providers {
namespace {

using nlohmann::json;

constexpr int64_t kDefaultTimeoutSeconds = 30;
constexpr size_t kMaxBodyInMessage = 300;

// Parses a sample value string of the HTTP API ("1.5", "NaN", "+Inf", "-Inf", "1e-3").
std::optional<double> parseSample(const json& v) {
  if (!v.is_string()) return std::nullopt;
  const std::string& s = v.get_ref<const std::string&>();
  std::string_view text(s);
  bool negate = false;
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
    negate = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text.empty() || text.front() == '+' || text.front() == '-') return std::nullopt;
  double d = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return negate ? -d : d;
}

// A [<unix seconds>, "<value>"] pair.
Result<double> parsePair(const json& pair, const std::string& field) {
  if (!pair.is_array() || pair.size() != 2 || !pair[0].is_number()) {
    return makeError(ErrorCode::kParse,
                     "prometheus response: " + field + " is not a [timestamp, \"value\"] pair");
  }
  auto v = parseSample(pair[1]);
  if (!v) {
    return makeError(ErrorCode::kParse, "prometheus response: " + field +
                                            " has a sample value that is not a number string");
  }
  return *v;
}

std::string snippet(std::string_view body) {
  std::string s(body.substr(0, kMaxBodyInMessage));
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  if (body.size() > kMaxBodyInMessage) s += "…";
  return s;
}

std::string formatSeconds(Time t) {
  int64_t ms = t.time_since_epoch().count();
  std::string sign = ms < 0 ? "-" : "";
  int64_t a = ms < 0 ? -ms : ms;
  std::array<char, 8> frac{};
  std::snprintf(frac.data(), frac.size(), "%03lld", static_cast<long long>(a % 1000));
  return sign + std::to_string(a / 1000) + "." + frac.data();
}

// True when `address` has a scheme and a host, as Go's url.Parse + Scheme/Host checks require.
bool isUrl(std::string_view address) {
  auto sep = address.find("://");
  if (sep == std::string_view::npos || sep == 0) return false;
  for (char c : address.substr(0, sep)) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
      return false;
    }
  }
  auto rest = address.substr(sep + 3);
  auto host = rest.substr(0, rest.find_first_of("/?#"));
  return !host.empty() && host.find_first_of(" \t") == std::string_view::npos;
}

}  // namespace

std::string formatSampleValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  std::array<char, 400> buf{};
  auto r = std::to_chars(buf.data(), buf.data() + buf.size(), v, std::chars_format::fixed);
  if (r.ec != std::errc()) return std::to_string(v);
  return std::string(buf.data(), r.ptr);
}

Result<PrometheusResponse> parsePrometheusResponse(std::string_view body) {
  json j = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return makeError(ErrorCode::kParse, "prometheus response is not JSON: " + snippet(body));
  }
  if (!j.is_object() || !j.contains("status") || !j["status"].is_string()) {
    return makeError(ErrorCode::kParse, "prometheus response has no \"status\" string");
  }
  const std::string status = j["status"].get<std::string>();
  if (status == "error") {
    std::string type = j.contains("errorType") && j["errorType"].is_string()
                           ? j["errorType"].get<std::string>()
                           : "unknown";
    std::string text = j.contains("error") && j["error"].is_string() ? j["error"].get<std::string>()
                                                                     : "(no error text)";
    ErrorCode code = type == "bad_data"  ? ErrorCode::kInvalidArgument
                     : type == "timeout" ? ErrorCode::kDeadlineExceeded
                                         : ErrorCode::kUnavailable;
    return makeError(code, type + ": " + text);
  }
  if (status != "success") {
    return makeError(ErrorCode::kParse, "prometheus response has status \"" + status +
                                            "\" (expected \"success\" or \"error\")");
  }
  PrometheusResponse out;
  if (j.contains("warnings") && j["warnings"].is_array()) {
    for (const auto& w : j["warnings"]) {
      if (w.is_string()) out.warnings.push_back(w.get<std::string>());
    }
  }
  if (!j.contains("data") || !j["data"].is_object()) {
    return makeError(ErrorCode::kParse, "prometheus response has no \"data\" object");
  }
  const json& data = j["data"];
  if (!data.contains("resultType") || !data["resultType"].is_string() || !data.contains("result")) {
    return makeError(ErrorCode::kParse,
                     "prometheus response: data needs \"resultType\" and \"result\"");
  }
  out.resultType = data["resultType"].get<std::string>();
  const json& result = data["result"];
  auto listDisplay = [](const Value::List& list) {
    std::string s = "[";
    for (size_t i = 0; i < list.size(); ++i) {
      if (i > 0) s += ",";
      s += formatSampleValue(list[i].asFloat());
    }
    return s + "]";
  };
  if (out.resultType == "scalar") {
    auto v = parsePair(result, "data.result");
    if (!v) return std::unexpected(v.error());
    out.value = Value::floating(*v);
    out.display = formatSampleValue(*v);
    return out;
  }
  if (out.resultType == "vector" || out.resultType == "matrix") {
    if (!result.is_array()) {
      return makeError(ErrorCode::kParse, "prometheus response: data.result is not a list");
    }
    Value::List list;
    const bool vector = out.resultType == "vector";
    for (size_t i = 0; i < result.size(); ++i) {
      const json& series = result[i];
      std::string field = "data.result[" + std::to_string(i) + "]";
      if (!series.is_object()) {
        return makeError(ErrorCode::kParse, "prometheus response: " + field + " is not an object");
      }
      if (vector) {
        if (!series.contains("value")) {
          return makeError(ErrorCode::kUnsupported,
                           "prometheus response: " + field +
                               " has no \"value\" (native histogram samples are not supported)");
        }
        auto v = parsePair(series["value"], field + ".value");
        if (!v) return std::unexpected(v.error());
        list.push_back(Value::floating(*v));
        continue;
      }
      if (!series.contains("values") || !series["values"].is_array()) {
        return makeError(
            ErrorCode::kUnsupported,
            "prometheus response: " + field +
                " has no \"values\" list (native histogram samples are not supported)");
      }
      const json& values = series["values"];
      for (size_t k = 0; k < values.size(); ++k) {
        auto v = parsePair(values[k], field + ".values[" + std::to_string(k) + "]");
        if (!v) return std::unexpected(v.error());
        list.push_back(Value::floating(*v));
      }
    }
    out.display = listDisplay(list);
    out.value = Value::list(std::move(list));
    return out;
  }
  return makeError(ErrorCode::kUnsupported, "prometheus result type \"" + out.resultType +
                                                "\" is not supported (scalar, vector or matrix)");
}

Result<Value> decodePrometheusResponse(std::string_view body) {
  auto r = parsePrometheusResponse(body);
  if (!r) return std::unexpected(r.error());
  return std::move(r->value);
}

Result<ProviderReply> PrometheusProvider::run(const MeasureContext& ctx) {
  const auto& spec = ctx.metric->provider.prometheus;
  if (!spec) {
    return makeError(ErrorCode::kInvalidArgument,
                     "metric \"" + ctx.metric->name + "\" has no prometheus provider");
  }
  // Secrets of this metric, on top of the run's (secretKeyRef args).
  Redactor secrets = options_.redactor != nullptr ? *options_.redactor : Redactor();
  for (const auto& h : spec->headers) secrets.addIfSecret(h.key, h.value);
  if (spec->authentication.basicAuth) secrets.add(spec->authentication.basicAuth->password);
  if (spec->authentication.oauth2) secrets.add(spec->authentication.oauth2->clientSecret);
  auto fail = [&](ErrorCode code, const std::string& message) -> Result<ProviderReply> {
    return makeError(code, secrets.redact(message));
  };

  std::string address = spec->address.empty() ? options_.defaultAddress : spec->address;
  if (address.empty()) {
    return fail(ErrorCode::kInvalidArgument,
                "prometheus address is not configured (set provider.prometheus.address or $" +
                    std::string(kPrometheusAddressEnv) + ")");
  }
  if (!isUrl(address)) {
    return fail(ErrorCode::kInvalidArgument, "prometheus address \"" + http::redactUrl(address) +
                                                 "\" is not a URL with a scheme and a host");
  }
  if (spec->query.empty()) {
    return fail(ErrorCode::kInvalidArgument, "prometheus query is empty");
  }
  if (spec->timeout && *spec->timeout < 0) {
    return fail(ErrorCode::kInvalidArgument, "prometheus timeout should not be negative");
  }
  if (spec->authentication.oauth2) {
    return fail(ErrorCode::kUnsupported,
                "prometheus authentication.oauth2 is not supported by ramp yet (use basicAuth or "
                "headers)");
  }
  if (spec->authentication.sigv4) {
    return fail(ErrorCode::kUnsupported,
                "prometheus authentication.sigv4 is not supported by ramp yet (use basicAuth or "
                "headers)");
  }
  const int64_t timeoutSeconds =
      spec->timeout && *spec->timeout > 0 ? *spec->timeout : kDefaultTimeoutSeconds;

  while (!address.empty() && address.back() == '/') address.pop_back();
  http::Request req;
  req.method = "POST";
  req.timeout = std::chrono::seconds(timeoutSeconds);
  req.insecure = spec->insecure;
  std::string form = "query=" + http::urlEncode(spec->query);
  if (spec->rangeQuery) {
    const auto& rq = *spec->rangeQuery;
    if (!options_.evaluateTime || !options_.parseDuration) {
      return fail(ErrorCode::kInternal, "prometheus rangeQuery support is not wired");
    }
    auto start = options_.evaluateTime(rq.start, ctx.now);
    if (!start) {
      return fail(ErrorCode::kInvalidArgument,
                  "prometheus rangeQuery.start \"" + rq.start + "\": " + start.error().message);
    }
    auto end = options_.evaluateTime(rq.end, ctx.now);
    if (!end) {
      return fail(ErrorCode::kInvalidArgument,
                  "prometheus rangeQuery.end \"" + rq.end + "\": " + end.error().message);
    }
    auto step = options_.parseDuration(rq.step);
    if (!step) {
      return fail(ErrorCode::kInvalidArgument,
                  "prometheus rangeQuery.step \"" + rq.step + "\": " + step.error().message);
    }
    if (step->count() <= 0) {
      return fail(ErrorCode::kInvalidArgument,
                  "prometheus rangeQuery.step \"" + rq.step + "\" must be positive");
    }
    if (*end < *start) {
      return fail(ErrorCode::kInvalidArgument,
                  "prometheus rangeQuery.end is before rangeQuery.start");
    }
    req.url = address + "/api/v1/query_range";
    form += "&start=" + formatSeconds(*start) + "&end=" + formatSeconds(*end) +
            "&step=" + formatSeconds(Time(*step));
  } else {
    req.url = address + "/api/v1/query";
    form += "&time=" + formatSeconds(ctx.now);
  }
  req.body = std::move(form);
  req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  req.headers.emplace_back("Accept", "application/json");
  for (const auto& h : spec->headers) req.headers.emplace_back(h.key, h.value);
  if (spec->authentication.basicAuth) {
    req.basicAuth = http::BasicCredentials{spec->authentication.basicAuth->username,
                                           spec->authentication.basicAuth->password};
  }
  const std::string where = "prometheus " + http::redactUrl(req.url);

  auto resp = http::send(req);
  if (!resp) return fail(resp.error().code, resp.error().message);
  auto parsed = parsePrometheusResponse(resp->body);
  if (!resp->ok()) {
    // Prometheus explains its 4xx/5xx answers in the JSON error envelope.
    std::string reason = !parsed && parsed.error().code != ErrorCode::kParse
                             ? parsed.error().message
                             : snippet(resp->body);
    ErrorCode code = !parsed && parsed.error().code != ErrorCode::kParse ? parsed.error().code
                                                                         : ErrorCode::kUnavailable;
    return fail(code, where + ": HTTP " + std::to_string(resp->status) + ": " + reason);
  }
  if (!parsed) return fail(parsed.error().code, where + ": " + parsed.error().message);

  ProviderReply reply;
  reply.kind = ProviderReply::Kind::kValue;
  reply.value = parsed->value;
  reply.displayValue = parsed->display;
  reply.metadata[kResolvedPrometheusQuery] = spec->query;
  if (!parsed->warnings.empty()) {
    std::string w;
    for (const auto& warning : parsed->warnings) {
      if (!w.empty()) w += ", ";
      w += "\"" + warning + "\"";
    }
    reply.metadata["warnings"] = secrets.redact(w);
  }
  return reply;
}

}  // namespace ramp::analysis::providers
