#include "api/gitops_service.h"

#include <nlohmann/json.hpp>

#include "gitops/webhook.h"
#include "spec/codec.h"

namespace ramp::api {

gitops::ApplyFn gitopsApplyFn(ObjectService& service) {
  return [&service](const std::string& caller, const std::vector<spec::Document>& apply,
                    const std::vector<gitops::ObjectDiff>& prune,
                    const std::string& change) -> Status {
    std::string body;
    for (const spec::Document& d : apply) {
      if (!body.empty()) body += "\n---\n";
      body += spec::toJson(d.object);
    }
    std::vector<store::ObjectKey> keys;
    for (const gitops::ObjectDiff& p : prune) keys.push_back(p.key);
    if (body.empty() && keys.empty()) return {};
    ApiReply reply =
        service.applyRevision(Identity{caller, Role::kOperator, "gitops", change}, body, keys);
    if (reply.status < 400) return {};
    auto decoded = decodeError(reply.body);
    if (!decoded) return makeError(ErrorCode::kInternal, "apply failed: " + reply.body);
    std::string message = decoded->message;
    for (const spec::Diagnostic& d : decoded->diagnostics) {
      message += "\n  " + spec::formatDiagnostic(d);
    }
    return makeError(reply.status == 409 ? ErrorCode::kConflict : ErrorCode::kInvalidArgument,
                     message);
  };
}

ApiReply gitopsWebhook(const std::map<std::string, std::string>& headers, std::string_view body,
                       const std::string& secret, const RefreshFn& refresh) {
  if (!refresh) {
    return ObjectService::error(501, ErrorCode::kUnsupported, "this server runs no GitOps agent");
  }
  auto push = gitops::decodePushWebhook(headers, body, secret);
  if (!push) {
    if (push.error().code == ErrorCode::kUnsupported) {
      return ApiReply{202, nlohmann::json{{"ignored", push.error().message}}.dump()};
    }
    return ObjectService::error(push.error());
  }
  int refreshed = 0;
  for (const std::string& url : push->repoURLs) {
    refreshed = std::max(refreshed, refresh(url));
  }
  return ApiReply{200, nlohmann::json{{"provider", push->provider},
                                      {"repository", push->repoURLs.front()},
                                      {"ref", push->ref},
                                      {"refreshed", refreshed}}
                           .dump()};
}

}  // namespace ramp::api
