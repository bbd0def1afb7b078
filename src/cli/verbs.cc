#include "cli/verb.h"

namespace ramp::cli {

std::vector<VerbPtr> builtinVerbs() {
  std::vector<VerbPtr> verbs;
  verbs.push_back(makeVersionVerb());
  verbs.push_back(makeAnalyzeVerb());
  verbs.push_back(makeLintVerb());
  verbs.push_back(makeServeVerb());
  return verbs;
}

}  // namespace ramp::cli
