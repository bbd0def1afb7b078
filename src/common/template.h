#pragma once

// Templating of "{{ name }}" placeholders, as Argo Rollouts does for "{{args.x}}" in analysis
// metrics and "{{templates.x.podTemplateHash}}" in experiments.
//
// A placeholder is everything between "{{" and the next "}}"; whitespace around the name is
// ignored ("{{ args.x }}" == "{{args.x}}"). Every placeholder must resolve: text with an
// unresolved placeholder or a "{{" without a closing "}}" is an error, never left half-expanded.
//
// Thread safety: pure functions.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "ramp/error.h"

namespace ramp {

// Returns the value for a placeholder name (already trimmed), or nullopt when it is unknown.
using TemplateLookup = std::function<std::optional<std::string>(std::string_view name)>;

// Replaces every placeholder in `text` by lookup(name).
// On success returns the expanded text (text without placeholders comes back unchanged).
// On error returns kInvalidArgument: "failed to resolve {{<tag as written>}}" for the first
// placeholder the lookup does not know, or `unterminated "{{" in "<text>"`.
Result<std::string> expandTemplate(std::string_view text, const TemplateLookup& lookup);

// True if `text` holds at least one "{{".
bool hasPlaceholder(std::string_view text);

}  // namespace ramp
