#pragma once

// Analysis arguments: merging a caller's args into a template's declared args, resolving each
// arg to its value (a literal or a secret), and substituting "{{args.NAME}}" into a metric.
//
// Argo substitutes args into the JSON text of the whole metric; ramp substitutes field by field
// into every string field (and every IntOrString held as a string, and the raw JSON kept for
// providers ramp does not model), which yields the same metric.
//
// Thread safety: pure functions (resolveArgValues calls the SecretSource, itself thread-safe).

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ramp/analysis/secret_source.h"
#include "ramp/error.h"
#include "ramp/spec/analysis.h"

namespace ramp::analysis {

// Argo's stand-in value for secret args when metrics are resolved for validation and
// scheduling (the secret itself is read only when a measurement is taken).
inline constexpr std::string_view kSecretPlaceholder = "temp-for-secret";

// Merges `incoming` (a Rollout's or a user's args) into `declared` (the template's args) by
// name: an incoming value or valueFrom replaces the declared one; an incoming arg the template
// does not declare is ignored. On success returns the declared args with values filled in.
// On error (a declared arg left without value and valueFrom) returns kInvalidArgument
// "args.<name> was not resolved".
Result<std::vector<spec::Argument>> mergeArgs(const std::vector<spec::Argument>& incoming,
                                              const std::vector<spec::Argument>& declared);

struct ArgValues {
  std::map<std::string, std::string> values;  // arg name -> value
  std::vector<std::string> secrets;           // every value read from a SecretSource
};

// Resolves `args` to values. A literal `value` is used as is; `valueFrom.secretKeyRef` is read
// from `secrets` in namespace `ns` (or replaced by kSecretPlaceholder when `secrets` is null and
// `placeholderForSecrets` is true). Args with neither stay unresolved (absent from the map), so
// substituting them fails. On error (a secret cannot be read) returns the SecretSource's error.
Result<ArgValues> resolveArgValues(const std::vector<spec::Argument>& args, std::string_view ns,
                                   const SecretSource* secrets, bool placeholderForSecrets);

// Returns `metric` with every "{{args.NAME}}" replaced by values[NAME].
// On error returns kInvalidArgument "failed to resolve {{args.x}}" (the tag as written) for a
// placeholder without a value, or for any other "{{…}}" placeholder.
Result<spec::Metric> substituteArgs(const spec::Metric& metric,
                                    const std::map<std::string, std::string>& values);

// Escapes `s` for the inside of a JSON string literal (no surrounding quotes).
std::string jsonEscape(std::string_view s);

}  // namespace ramp::analysis
