#pragma once

// What a child process that ramp starts inherits from the daemon's environment: a replica on the
// process platform and a job metric get the same short list (PATH, HOME, LANG, LC_ALL, TZ,
// TMPDIR, USER), so neither sees the daemon's other variables (tokens, cloud credentials, …).
// Each then adds its own (the container's or the job's env).
//
// Thread safety: inheritedEnvironment reads the process environment and must not race with
// setenv(); it is otherwise reentrant.

#include <map>
#include <string>
#include <vector>

namespace ramp {

// The names a child inherits, in a fixed order.
const std::vector<std::string>& inheritedVariableNames();

// The inherited variables that are set in this process, with PATH defaulted to
// "/usr/local/bin:/usr/bin:/bin" when unset.
std::map<std::string, std::string> inheritedEnvironment();

}  // namespace ramp
