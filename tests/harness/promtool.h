#pragma once

// promtoolCheckMetrics: a Prometheus text page checked the way a scrape would read it, by
// `promtool check metrics` (Debian's prometheus package). Implemented in harness.cc.
//
// Thread safety: runs a child process and uses its own temporary directory; call from any
// thread.

#include <string>

#include "ramp/error.h"

namespace ramp::testing {

// Runs `promtool check metrics` on `page`. Success when promtool exits 0 and prints nothing.
// Errors: kInvalidArgument with promtool's complaints (a parse error, a lint problem);
// kUnavailable when promtool cannot run.
Status promtoolCheckMetrics(const std::string& page);

}  // namespace ramp::testing
