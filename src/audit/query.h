#pragma once
// Which decision records `ramp audit show` prints (docs/audit.md): a query an auditor asks —
// one rollout's records, the records about one artifact digest, the records since a time, of
// some actions — and the pure test of a decoded record against it. All given criteria must hold.
//
// Thread safety: values and pure functions.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/statement.h"
#include "ramp/clock.h"
#include "ramp/error.h"

namespace ramp::audit {

struct DecisionQuery {
  std::optional<store::ObjectKey> object;  // the record's object (e.g. Rollout/shop/web)
  std::string digest;                      // lower-case hex SHA-256, "" = any
  std::optional<Time> since;               // records at or after this time
  std::vector<std::string> actions;        // decisionAction's words, any of; empty = any
  std::vector<std::string> decisions;      // the records' "decision", any of; empty = any
  std::string environment;                 // the record's environment, "" = any
};

// Reads a --digest value: "sha256:<64 hex>", "<64 hex>", or an image reference pinned by digest
// ("registry/app@sha256:<hex>"); case-insensitive. Errors: kInvalidArgument naming the value.
Result<std::string> parseDigestFilter(std::string_view text);

// Reads a --since value: an RFC 3339 time, or a Go duration ("90m", "2h") counted back from
// `now`. Errors: kInvalidArgument naming the value and both accepted forms.
Result<Time> parseSinceFilter(std::string_view text, Time now);

// True when `d` satisfies every criterion of `q`. The digest matches any subject of the record
// (the object's digest, a pinned image's, a verified signature's image) and any image of its
// revision pinned by that digest. A record whose time does not parse never matches `since`.
bool matchesQuery(const Decision& d, const DecisionQuery& q);

}  // namespace ramp::audit
