#include "cli/verb.h"

namespace ramp::cli {

std::vector<VerbPtr> builtinVerbs() {
  std::vector<VerbPtr> verbs;
  verbs.push_back(makeVersionVerb());
  verbs.push_back(makeAnalyzeVerb());
  verbs.push_back(makeLintVerb());
  verbs.push_back(makeServeVerb());
  verbs.push_back(makeApplyVerb());
  verbs.push_back(makeGetVerb());
  verbs.push_back(makeListVerb());
  verbs.push_back(makeStatusVerb());
  verbs.push_back(makeLogsVerb());
  for (VerbPtr& v : makeRolloutActionVerbs()) verbs.push_back(std::move(v));
  verbs.push_back(makeSetVerb());
  verbs.push_back(makeTerminateVerb());
  verbs.push_back(makeDeleteVerb());
  verbs.push_back(makeAuditVerb());
  verbs.push_back(makeAppVerb());
  return verbs;
}

}  // namespace ramp::cli
