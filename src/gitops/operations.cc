#include "gitops/operations.h"

#include <algorithm>

namespace ramp::gitops {
namespace {

Status checkNoOperation(const spec::Application& app) {
  if (app.operation && app.operation->sync) {
    return makeError(ErrorCode::kFailedPrecondition,
                     "a sync requested by " + app.operation->initiatedBy.username +
                         " is already pending; wait for it (ramp app get " + app.metadata.name +
                         ")");
  }
  return {};
}

std::string infoOf(const spec::Operation& op, const char* name) {
  for (const spec::OperationInfo& i : op.info) {
    if (i.name == name) return i.value;
  }
  return "";
}

}  // namespace

Result<spec::Application> requestOperation(const spec::Application& app, bool sync,
                                           const std::string& revision, bool prune,
                                           const std::string& user, bool mayOverrideWindows) {
  spec::Application next = app;
  if (!sync) {
    next.metadata.annotations[kRefreshAnnotation] = "normal";
    return next;
  }
  if (auto ok = checkNoOperation(app); !ok) return std::unexpected(ok.error());
  spec::Operation op;
  op.sync = spec::SyncOperation{revision, prune};
  op.initiatedBy.username = user;
  if (mayOverrideWindows) op.info.push_back({spec::kOverrideSyncWindows, "true"});
  next.operation = std::move(op);
  return next;
}

Result<spec::Application> requestRollback(const spec::Application& app,
                                          const RollbackRequest& request) {
  if (auto ok = checkNoOperation(app); !ok) return std::unexpected(ok.error());
  const auto& history = app.status.history;
  const spec::RevisionHistory* entry = nullptr;
  if (request.id) {
    auto it = std::find_if(history.begin(), history.end(),
                           [&](const spec::RevisionHistory& h) { return h.id == *request.id; });
    if (it == history.end()) {
      return makeError(ErrorCode::kNotFound, "application " + app.metadata.name +
                                                 " does not have history id " +
                                                 std::to_string(*request.id) +
                                                 " (ramp app history " + app.metadata.name + ")");
    }
    entry = &*it;
  } else if (history.size() < 2) {
    return makeError(ErrorCode::kFailedPrecondition,
                     "application " + app.metadata.name +
                         " has no earlier revision to roll back to (it was synced " +
                         std::to_string(history.size()) + " time" +
                         (history.size() == 1 ? "" : "s") + ")");
  } else {
    entry = &history[history.size() - 2];
  }
  spec::Application next = app;
  spec::Operation op;
  op.sync = spec::SyncOperation{entry->revision, request.prune};
  op.initiatedBy.username = request.user;
  op.info.push_back({spec::kRollbackInfo, std::to_string(entry->id)});
  op.info.push_back({spec::kRollbackRevisionInfo, entry->revision});
  op.info.push_back({spec::kRollbackModeInfo, request.noGit ? "no-git" : "revert"});
  if (!request.reason.empty()) op.info.push_back({spec::kReasonInfo, request.reason});
  next.operation = std::move(op);
  return next;
}

bool overridesSyncWindows(const spec::Operation& op) {
  return infoOf(op, spec::kOverrideSyncWindows) == "true";
}

std::optional<RollbackIntent> rollbackOf(const spec::Application& app) {
  if (!app.operation || !app.operation->sync) return std::nullopt;
  const spec::Operation& op = *app.operation;
  const std::string id = infoOf(op, spec::kRollbackInfo);
  if (id.empty()) return std::nullopt;
  RollbackIntent intent;
  try {
    intent.id = std::stoll(id);
  } catch (const std::exception&) {
    intent.id = 0;
  }
  intent.revision = infoOf(op, spec::kRollbackRevisionInfo);
  if (intent.revision.empty()) intent.revision = op.sync->revision;
  intent.revert = infoOf(op, spec::kRollbackModeInfo) != "no-git";
  intent.revertCommit = infoOf(op, spec::kRevertCommitInfo);
  intent.reason = infoOf(op, spec::kReasonInfo);
  intent.user = op.initiatedBy.username;
  return intent;
}

std::string revertMessage(const spec::Application& app, const RollbackIntent& intent,
                          const std::string& from) {
  const std::string path = app.spec.source.path.empty() ? "the repository" : app.spec.source.path;
  std::string m = "Roll back " + path + " to " + intent.revision.substr(0, 7) + " (" +
                  app.metadata.name + " history " + std::to_string(intent.id) + ")\n\n";
  m += "Reverts " + path + " from " + (from.empty() ? "the branch head" : from) + " to " +
       intent.revision + ".\n";
  if (!intent.reason.empty()) m += "Reason: " + intent.reason + "\n";
  m += "Requested by " + intent.user + " with ramp app rollback.\n";
  return m;
}

}  // namespace ramp::gitops
