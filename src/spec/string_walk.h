#pragma once

// forEachString: every string a Metric holds, found by walking the field lists the codec decodes
// and encodes with (spec/fields.h). A rewrite of a metric's strings, such as the {{args.NAME}}
// substitution of src/analysis/args.h, uses it so that a field added to the spec cannot be
// silently left out of the rewrite, as Argo substitutes over the whole serialised metric.
//
// Thread safety: pure; `visit` is called on the caller's thread, once per string, in field
// order.

#include <functional>
#include <string>

#include "ramp/spec/analysis.h"

namespace ramp::spec {

// How a string is held: as text, or as the text of raw JSON (RawJson), where a value written
// into it must be JSON-escaped.
enum class StringForm { kText, kJson };

// Calls `visit` with every string field of `metric` (plain strings, the string form of an
// IntOrString, list items, map values, raw JSON text), each as a reference it may rewrite.
void forEachString(Metric& metric, const std::function<void(std::string&, StringForm)>& visit);

}  // namespace ramp::spec
