#include "traffic/haproxy/haproxy_config.h"

#include <nlohmann/json.hpp>

#include "traffic/haproxy/runtime_api.h"

namespace ramp::traffic::haproxy {
namespace {

constexpr std::string_view kPath = "trafficRouting.plugins[\"ramp/haproxy\"]";

std::unexpected<Error> fieldError(std::string_view field, std::string_view what) {
  return makeError(ErrorCode::kInvalidArgument,
                   std::string(kPath) + "." + std::string(field) + ": " + std::string(what));
}

// HAProxy accepts letters, digits and "-_.:" in proxy and server names.
bool validName(std::string_view s) {
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.' &&
        c != ':') {
      return false;
    }
  }
  return true;
}

}  // namespace

Result<HaproxyConfig> parseHaproxyConfig(std::string_view json) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json);
  } catch (const nlohmann::json::parse_error& e) {
    return makeError(ErrorCode::kParse, std::string(kPath) + ": not JSON: " + e.what());
  }
  if (!j.is_object())
    return makeError(ErrorCode::kInvalidArgument, std::string(kPath) + ": must be an object");
  HaproxyConfig c;
  for (const auto& [key, value] : j.items()) {
    if (key == "runtimeApi" || key == "backend" || key == "serverPrefix" || key == "backendFile" ||
        key == "previewBackend") {
      if (!value.is_string()) return fieldError(key, "must be a string");
      std::string s = value.get<std::string>();
      if (key == "runtimeApi") c.runtimeApi = s;
      if (key == "backend") c.backend = s;
      if (key == "previewBackend") c.previewBackend = s;
      if (key == "serverPrefix") c.serverPrefix = s;
      if (key == "backendFile") {
        if (!s.starts_with("/")) return fieldError(key, "must be an absolute path");
        c.backendFile = s;
      }
    } else if (key == "maxServerWeight" || key == "timeoutMs") {
      if (!value.is_number_integer()) return fieldError(key, "must be an integer");
      int64_t v = value.get<int64_t>();
      if (key == "maxServerWeight") {
        if (v < 1 || v > 256) return fieldError(key, "must be in [1, 256] (HAProxy's range)");
        c.maxServerWeight = static_cast<int>(v);
      } else {
        if (v < 1 || v > 600000) return fieldError(key, "must be in [1, 600000] milliseconds");
        c.timeoutMs = static_cast<int>(v);
      }
    } else {
      return fieldError(key,
                        "unknown field (known: runtimeApi, backend, previewBackend, "
                        "serverPrefix, maxServerWeight, timeoutMs, backendFile)");
    }
  }
  if (c.runtimeApi.empty()) return fieldError("runtimeApi", "required");
  if (auto a = parseRuntimeApiAddress(c.runtimeApi); !a) {
    return fieldError("runtimeApi", a.error().message);
  }
  if (c.backend.empty()) return fieldError("backend", "required");
  if (!validName(c.backend)) return fieldError("backend", "may hold only letters, digits, -_.:");
  if (!validName(c.previewBackend)) {
    return fieldError("previewBackend", "may hold only letters, digits, -_.:");
  }
  if (!c.previewBackend.empty() && c.previewBackend == c.backend) {
    return fieldError("previewBackend",
                      "must differ from backend (as previewService from "
                      "activeService)");
  }
  if (c.serverPrefix.empty()) return fieldError("serverPrefix", "must not be empty");
  if (!validName(c.serverPrefix)) {
    return fieldError("serverPrefix", "may hold only letters, digits, -_.:");
  }
  return c;
}

RouterConfigReport inspectHaproxyConfig(std::string_view json) {
  RouterConfigReport report;
  auto config = parseHaproxyConfig(json);
  if (!config) {
    report.problems.push_back(configProblem(config.error(), kPath));
    return report;
  }
  report.preview = !config->previewBackend.empty();
  report.previewField = "previewBackend";
  auto address = parseRuntimeApiAddress(config->runtimeApi);
  report.claims.push_back({"haproxy " + (address ? address->describe() : config->runtimeApi) +
                               " backend " + config->backend,
                           "backend " + config->backend, "backend"});
  if (!config->previewBackend.empty()) {
    report.claims.push_back({"haproxy " + (address ? address->describe() : config->runtimeApi) +
                                 " backend " + config->previewBackend,
                             "backend " + config->previewBackend, "previewBackend"});
  }
  return report;
}

}  // namespace ramp::traffic::haproxy
