#include "common/child_env.h"

#include <cstdlib>

namespace ramp {

const std::vector<std::string>& inheritedVariableNames() {
  static const std::vector<std::string> kNames = {"PATH", "HOME",   "LANG", "LC_ALL",
                                                  "TZ",   "TMPDIR", "USER"};
  return kNames;
}

std::map<std::string, std::string> inheritedEnvironment() {
  std::map<std::string, std::string> env;
  for (const std::string& name : inheritedVariableNames()) {
    if (const char* v = std::getenv(name.c_str()); v != nullptr) env[name] = v;
  }
  if (!env.contains("PATH")) env["PATH"] = "/usr/local/bin:/usr/bin:/bin";
  return env;
}

}  // namespace ramp
