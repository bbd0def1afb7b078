#include "analysis/providers/web/web_provider.h"

#include <nlohmann/json.hpp>

#include "analysis/providers/web/json_path.h"
#include "common/http_client.h"
#include "common/redact.h"

namespace ramp::analysis::providers {
namespace {

using nlohmann::json;

constexpr int64_t kDefaultTimeoutSeconds = 10;
constexpr int kMaxDepth = 512;
constexpr size_t kMaxBodyInMessage = 300;

// Depth of `j`, computed without recursion; stops counting at kMaxDepth + 1.
int depthOf(const json& j) {
  std::vector<std::pair<const json*, int>> stack{{&j, 1}};
  int max = 0;
  while (!stack.empty()) {
    auto [cur, d] = stack.back();
    stack.pop_back();
    max = std::max(max, d);
    if (max > kMaxDepth) return max;
    if (cur->is_structured()) {
      for (const auto& child : *cur) stack.emplace_back(&child, d + 1);
    }
  }
  return max;
}

Value toValue(const json& j) {
  switch (j.type()) {
    case json::value_t::null: return Value::nil();
    case json::value_t::boolean: return Value::boolean(j.get<bool>());
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return Value::floating(j.get<double>());
    case json::value_t::string: return Value::string(j.get<std::string>());
    case json::value_t::array: {
      Value::List list;
      list.reserve(j.size());
      for (const auto& e : j) list.push_back(toValue(e));
      return Value::list(std::move(list));
    }
    case json::value_t::object: {
      Value::Map map;
      for (const auto& [k, v] : j.items()) map.emplace(k, toValue(v));
      return Value::map(std::move(map));
    }
    default: return Value::nil();
  }
}

std::string snippet(std::string_view body) {
  std::string s(body.substr(0, kMaxBodyInMessage));
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  if (body.size() > kMaxBodyInMessage) s += "…";
  return s;
}

}  // namespace

Result<WebResponse> parseWebResponse(std::string_view body, std::string_view jsonPath) {
  auto path = JsonPath::parse(jsonPath.empty() ? std::string_view("{$}") : jsonPath);
  if (!path) return std::unexpected(path.error());
  json doc = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    // Not JSON: the raw body is the result, as in Argo.
    return WebResponse{Value::string(std::string(body)), std::string(body)};
  }
  if (depthOf(doc) > kMaxDepth) {
    return makeError(ErrorCode::kInvalidArgument, "web response JSON is nested deeper than " +
                                                      std::to_string(kMaxDepth) + " levels");
  }
  auto found = path->find(doc);
  if (!found) {
    return makeError(found.error().code,
                     "Could not find JSONPath in body: " + found.error().message);
  }
  if (found->empty()) {
    return makeError(ErrorCode::kNotFound, "result of web metric produced no value");
  }
  const json& first = *found->front();
  return WebResponse{toValue(first), first.dump(-1, ' ', false, json::error_handler_t::replace)};
}

Result<Value> decodeWebResponse(std::string_view body, std::string_view jsonPath) {
  auto r = parseWebResponse(body, jsonPath);
  if (!r) return std::unexpected(r.error());
  return std::move(r->value);
}

Result<ProviderReply> WebProvider::run(const MeasureContext& ctx) {
  const auto& spec = ctx.metric->provider.web;
  if (!spec) {
    return makeError(ErrorCode::kInvalidArgument,
                     "metric \"" + ctx.metric->name + "\" has no web provider");
  }
  Redactor secrets = options_.redactor != nullptr ? *options_.redactor : Redactor();
  for (const auto& h : spec->headers) secrets.addIfSecret(h.key, h.value);
  if (spec->authentication.basicAuth) secrets.add(spec->authentication.basicAuth->password);
  if (spec->authentication.oauth2) secrets.add(spec->authentication.oauth2->clientSecret);
  auto fail = [&](ErrorCode code, const std::string& message) -> Result<ProviderReply> {
    return makeError(code, secrets.redact(message));
  };

  std::string method = spec->method.empty() ? "GET" : spec->method;
  if (method != "GET" && method != "POST" && method != "PUT") {
    return fail(ErrorCode::kInvalidArgument,
                "web method \"" + method + "\" is not supported (GET, POST or PUT)");
  }
  if (spec->url.empty()) return fail(ErrorCode::kInvalidArgument, "web url is empty");
  if (!spec->body.empty() && !spec->jsonBody.empty()) {
    return fail(ErrorCode::kInvalidArgument,
                "use either body or jsonBody; both cannot exist for a web metric payload");
  }
  if ((!spec->body.empty() || !spec->jsonBody.empty()) && method == "GET") {
    return fail(ErrorCode::kInvalidArgument,
                "body/jsonBody can only be used with the POST or PUT web method");
  }
  if (spec->authentication.oauth2) {
    return fail(ErrorCode::kUnsupported,
                "web authentication.oauth2 is not supported by ramp yet (use headers)");
  }
  if (spec->authentication.sigv4) {
    return fail(ErrorCode::kUnsupported, "web authentication.sigv4 is not supported");
  }
  // Validate the path before sending anything.
  if (auto p = JsonPath::parse(spec->jsonPath.empty() ? "{$}" : spec->jsonPath); !p) {
    return fail(p.error().code, p.error().message);
  }

  http::Request req;
  req.method = method;
  req.url = spec->url;
  req.insecure = spec->insecure;
  int64_t timeout = spec->timeoutSeconds && *spec->timeoutSeconds > 0 ? *spec->timeoutSeconds
                                                                      : kDefaultTimeoutSeconds;
  req.timeout = std::chrono::seconds(timeout);
  for (const auto& h : spec->headers) req.headers.emplace_back(h.key, h.value);
  if (!spec->body.empty()) {
    req.body = spec->body;
  } else if (!spec->jsonBody.empty()) {
    req.body = spec->jsonBody.text;
    bool hasContentType = false;
    for (auto& [k, v] : req.headers) {
      std::string lower = k;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower == "content-type") {
        v = "application/json";  // Argo sets it for jsonBody, overriding the user's
        hasContentType = true;
      }
    }
    if (!hasContentType) req.headers.emplace_back("Content-Type", "application/json");
  }
  if (spec->authentication.basicAuth) {
    req.basicAuth = http::BasicCredentials{spec->authentication.basicAuth->username,
                                           spec->authentication.basicAuth->password};
  }
  const std::string where = "web " + method + " " + http::redactUrl(spec->url);
  auto resp = http::send(req);
  if (!resp) return fail(resp.error().code, "web: " + resp.error().message);
  if (!resp->ok()) {
    return fail(ErrorCode::kUnavailable,
                where + ": received non 2xx response code: " + std::to_string(resp->status) + " (" +
                    snippet(resp->body) + ")");
  }
  auto parsed = parseWebResponse(resp->body, spec->jsonPath);
  if (!parsed) return fail(parsed.error().code, where + ": " + parsed.error().message);
  ProviderReply reply;
  reply.kind = ProviderReply::Kind::kValue;
  reply.value = std::move(parsed->value);
  reply.displayValue = secrets.redact(parsed->display);
  return reply;
}

}  // namespace ramp::analysis::providers
