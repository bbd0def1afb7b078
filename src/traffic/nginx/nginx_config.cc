#include "traffic/nginx/nginx_config.h"

#include <nlohmann/json.hpp>

namespace ramp::traffic::nginx {
namespace {

constexpr std::string_view kPath = "trafficRouting.plugins[\"ramp/nginx\"]";

std::unexpected<Error> fieldError(std::string_view field, std::string_view what) {
  return makeError(ErrorCode::kInvalidArgument,
                   std::string(kPath) + "." + std::string(field) + ": " + std::string(what));
}

bool isIdentifier(std::string_view s, bool allowDash) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && !(allowDash && c == '-') &&
        !(allowDash && c == '.')) {
      return false;
    }
  }
  return true;
}

}  // namespace

Result<NginxConfig> parseNginxConfig(std::string_view json) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json);
  } catch (const nlohmann::json::parse_error& e) {
    return makeError(ErrorCode::kParse, std::string(kPath) + ": not JSON: " + e.what());
  }
  if (!j.is_object()) {
    return makeError(ErrorCode::kInvalidArgument, std::string(kPath) + ": must be an object");
  }
  NginxConfig c;
  std::pair<const char*, std::string*> strings[] = {{"includePath", &c.includePath},
                                                    {"upstream", &c.upstream},
                                                    {"previewUpstream", &c.previewUpstream},
                                                    {"nginxBinary", &c.nginxBinary},
                                                    {"prefix", &c.prefix},
                                                    {"conf", &c.conf},
                                                    {"errorLog", &c.errorLog},
                                                    {"pidFile", &c.pidFile},
                                                    {"stateUrl", &c.stateUrl},
                                                    {"stateVariable", &c.stateVariable}};
  for (const auto& [key, value] : j.items()) {
    bool known = false;
    for (auto& [name, out] : strings) {
      if (key != name) continue;
      if (!value.is_string()) return fieldError(key, "must be a string");
      *out = value.get<std::string>();
      known = true;
    }
    if (key == "keepalive" || key == "timeoutMs") {
      if (!value.is_number_integer()) return fieldError(key, "must be an integer");
      int64_t v = value.get<int64_t>();
      if (key == "keepalive") {
        if (v < 0 || v > 100000) return fieldError(key, "must be in [0, 100000]");
        c.keepalive = static_cast<int>(v);
      } else {
        if (v < 1 || v > 600000) return fieldError(key, "must be in [1, 600000] milliseconds");
        c.timeoutMs = static_cast<int>(v);
      }
      known = true;
    }
    if (!known) {
      return fieldError(key,
                        "unknown field (known: includePath, upstream, previewUpstream, "
                        "nginxBinary, prefix, "
                        "conf, errorLog, pidFile, stateUrl, stateVariable, keepalive, "
                        "timeoutMs)");
    }
  }
  if (c.includePath.empty()) return fieldError("includePath", "required");
  if (!c.includePath.starts_with("/")) return fieldError("includePath", "must be absolute");
  if (c.upstream.empty()) return fieldError("upstream", "required");
  if (!isIdentifier(c.upstream, true)) {
    return fieldError("upstream", "may hold only letters, digits, -_.");
  }
  if (!c.previewUpstream.empty() && !isIdentifier(c.previewUpstream, true)) {
    return fieldError("previewUpstream", "may hold only letters, digits, -_.");
  }
  if (!c.previewUpstream.empty() && c.previewUpstream == c.upstream) {
    return fieldError("previewUpstream",
                      "must differ from upstream (as previewService from activeService)");
  }
  if (c.pidFile.empty()) return fieldError("pidFile", "required (reload signals the master)");
  if (c.nginxBinary.empty()) return fieldError("nginxBinary", "must not be empty");
  if (c.stateVariable.empty()) {
    c.stateVariable = "ramp_state_";
    for (char ch : c.upstream)
      c.stateVariable += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  } else if (!isIdentifier(c.stateVariable, false)) {
    return fieldError("stateVariable", "may hold only letters, digits and _");
  }
  if (!c.stateUrl.empty() && !c.stateUrl.starts_with("http://") &&
      !c.stateUrl.starts_with("https://")) {
    return fieldError("stateUrl", "must be an http:// or https:// URL");
  }
  return c;
}

RouterConfigReport inspectNginxConfig(std::string_view json) {
  RouterConfigReport report;
  auto config = parseNginxConfig(json);
  if (!config) {
    report.problems.push_back(configProblem(config.error(), kPath));
    return report;
  }
  report.preview = !config->previewUpstream.empty();
  report.previewField = "previewUpstream";
  report.claims.push_back({"nginx " + config->pidFile + " upstream " + config->upstream,
                           "upstream " + config->upstream, "upstream"});
  if (!config->previewUpstream.empty()) {
    report.claims.push_back({"nginx " + config->pidFile + " upstream " + config->previewUpstream,
                             "upstream " + config->previewUpstream, "previewUpstream"});
  }
  report.claims.push_back(
      {"file " + config->includePath, "include file " + config->includePath, "includePath"});
  return report;
}

}  // namespace ramp::traffic::nginx
