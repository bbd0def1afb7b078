#include "analysis/args.h"

#include <optional>

#include "common/template.h"
#include "spec/codec.h"
#include "spec/string_walk.h"

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

// Replaces {{args.NAME}} in the strings handed to apply(), remembering the first error.
class Substituter {
 public:
  explicit Substituter(const std::map<std::string, std::string>& values) : values_(values) {}

  const std::optional<Error>& error() const { return error_; }

  // Substitutes in `s`; a value written into raw JSON text is JSON-escaped.
  void apply(std::string& s, spec::StringForm form) {
    if (error_ || !hasPlaceholder(s)) return;
    const bool jsonQuoted = form == spec::StringForm::kJson;
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

 private:
  const std::map<std::string, std::string>& values_;
  std::optional<Error> error_;
};

}  // namespace

Result<spec::Metric> substituteArgs(const spec::Metric& metric,
                                    const std::map<std::string, std::string>& values) {
  spec::Metric m = metric;
  Substituter sub(values);
  // Every string of the metric, as the codec lists them (spec/fields.h): Argo substitutes over
  // the whole serialised metric, and a field added to the spec is substituted without a change
  // here.
  spec::forEachString(m, [&](std::string& s, spec::StringForm form) { sub.apply(s, form); });
  if (sub.error()) return std::unexpected(*sub.error());
  return m;
}

}  // namespace ramp::analysis
