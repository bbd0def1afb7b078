#include "gitops/operations.h"

namespace ramp::gitops {

Result<spec::Application> requestOperation(const spec::Application& app, bool sync,
                                           const std::string& revision, bool prune,
                                           const std::string& user, bool mayOverrideWindows) {
  spec::Application next = app;
  if (!sync) {
    next.metadata.annotations[kRefreshAnnotation] = "normal";
    return next;
  }
  if (app.operation && app.operation->sync) {
    return makeError(ErrorCode::kFailedPrecondition,
                     "a sync requested by " + app.operation->initiatedBy.username +
                         " is already pending; wait for it (ramp app get " + app.metadata.name +
                         ")");
  }
  spec::Operation op;
  op.sync = spec::SyncOperation{revision, prune};
  op.initiatedBy.username = user;
  if (mayOverrideWindows) op.info.push_back({spec::kOverrideSyncWindows, "true"});
  next.operation = std::move(op);
  return next;
}

}  // namespace ramp::gitops
