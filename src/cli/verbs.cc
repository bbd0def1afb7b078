#include "cli/verb.h"

namespace ramp::cli {

std::vector<VerbPtr> builtinVerbs() {
  std::vector<VerbPtr> verbs;
  verbs.push_back(makeVersionVerb());
  return verbs;
}

}  // namespace ramp::cli
