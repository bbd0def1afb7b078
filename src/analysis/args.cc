#include "analysis/args.h"

#include <optional>

#include "common/template.h"
#include "spec/codec.h"

namespace ramp::analysis {

std::string jsonEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  spec::appendJsonEscaped(out, s);
  return out;
}

Result<std::vector<spec::Argument>> mergeArgs(const std::vector<spec::Argument>& incoming,
                                              const std::vector<spec::Argument>& declared) {
  std::vector<spec::Argument> merged = declared;
  for (const spec::Argument& arg : incoming) {
    for (spec::Argument& target : merged) {
      if (target.name != arg.name) continue;
      if (arg.value) {
        target.value = arg.value;
      } else if (arg.valueFrom) {
        target.valueFrom = arg.valueFrom;
      }
      break;
    }
  }
  for (const spec::Argument& arg : merged) {
    if (!arg.value && !arg.valueFrom) {
      return makeError(ErrorCode::kInvalidArgument, "args." + arg.name + " was not resolved");
    }
  }
  return merged;
}

Result<ArgValues> resolveArgValues(const std::vector<spec::Argument>& args, std::string_view ns,
                                   const SecretSource* secrets, bool placeholderForSecrets) {
  ArgValues out;
  for (const spec::Argument& arg : args) {
    if (arg.valueFrom && arg.valueFrom->secretKeyRef) {
      const spec::SecretKeyRef& ref = *arg.valueFrom->secretKeyRef;
      if (secrets == nullptr) {
        if (placeholderForSecrets) {
          out.values[arg.name] = std::string(kSecretPlaceholder);
          continue;
        }
        return makeError(ErrorCode::kFailedPrecondition,
                         "arg " + arg.name + " reads secret '" + ref.name +
                             "' but no secret source is configured");
      }
      Result<std::string> value = secrets->get(ns, ref.name, ref.key);
      if (!value) return std::unexpected(value.error());
      out.secrets.push_back(*value);
      out.values[arg.name] = std::move(*value);
    } else if (arg.value) {
      out.values[arg.name] = *arg.value;
    }
  }
  return out;
}

namespace {

class Substituter {
 public:
  explicit Substituter(const std::map<std::string, std::string>& values) : values_(values) {}

  const std::optional<Error>& error() const { return error_; }

  void str(std::string& s) { apply(s, false); }
  void raw(spec::RawJson& j) { apply(j.text, true); }
  void strs(std::vector<std::string>& v) {
    for (auto& s : v) str(s);
  }
  void kvs(std::vector<spec::KeyValue>& v) {
    for (auto& kv : v) {
      str(kv.key);
      str(kv.value);
    }
  }
  void ios(std::optional<spec::IntOrString>& v) {
    if (v && !v->isInt()) str(std::get<std::string>(v->value));
  }
  void auth(spec::Authentication& a) {
    if (a.sigv4) {
      str(a.sigv4->region);
      str(a.sigv4->profile);
      str(a.sigv4->roleArn);
    }
    if (a.oauth2) {
      str(a.oauth2->tokenUrl);
      str(a.oauth2->clientId);
      str(a.oauth2->clientSecret);
      strs(a.oauth2->scopes);
    }
    if (a.basicAuth) {
      str(a.basicAuth->username);
      str(a.basicAuth->password);
    }
  }

 private:
  void apply(std::string& s, bool jsonQuoted) {
    if (error_ || !hasPlaceholder(s)) return;
    Result<std::string> r =
        expandTemplate(s, [&](std::string_view name) -> std::optional<std::string> {
          if (!name.starts_with("args.")) return std::nullopt;
          auto it = values_.find(std::string(name.substr(5)));
          if (it == values_.end()) return std::nullopt;
          return jsonQuoted ? jsonEscape(it->second) : it->second;
        });
    if (!r) {
      error_ = r.error();
      return;
    }
    s = std::move(*r);
  }

  const std::map<std::string, std::string>& values_;
  std::optional<Error> error_;
};

}  // namespace

Result<spec::Metric> substituteArgs(const spec::Metric& metric,
                                    const std::map<std::string, std::string>& values) {
  spec::Metric m = metric;
  Substituter sub(values);
  sub.str(m.name);
  sub.str(m.interval);
  sub.str(m.initialDelay);
  sub.ios(m.count);
  sub.str(m.successCondition);
  sub.str(m.failureCondition);
  sub.ios(m.failureLimit);
  sub.ios(m.inconclusiveLimit);
  sub.ios(m.consecutiveErrorLimit);
  sub.ios(m.consecutiveSuccessLimit);
  spec::MetricProviderSpec& p = m.provider;
  if (p.prometheus) {
    spec::PrometheusMetric& q = *p.prometheus;
    sub.str(q.address);
    sub.str(q.query);
    sub.kvs(q.headers);
    sub.auth(q.authentication);
    if (q.rangeQuery) {
      sub.str(q.rangeQuery->start);
      sub.str(q.rangeQuery->end);
      sub.str(q.rangeQuery->step);
    }
  }
  if (p.web) {
    spec::WebMetric& w = *p.web;
    sub.str(w.url);
    sub.str(w.method);
    sub.kvs(w.headers);
    sub.str(w.body);
    sub.raw(w.jsonBody);
    sub.str(w.jsonPath);
    sub.auth(w.authentication);
  }
  if (p.job) {
    spec::JobMetric& j = *p.job;
    sub.raw(j.metadata);
    sub.raw(j.raw);
    sub.strs(j.command);
    sub.strs(j.args);
    for (spec::EnvVar& e : j.env) {
      sub.str(e.name);
      sub.str(e.value);
      sub.raw(e.valueFrom);
    }
    sub.str(j.workingDir);
  }
  for (auto& [name, config] : p.plugin) sub.raw(config);
  for (auto& [name, config] : p.other) sub.raw(config);
  if (sub.error()) return std::unexpected(*sub.error());
  return m;
}

}  // namespace ramp::analysis
