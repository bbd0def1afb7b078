#include "audit/query.h"

#include <algorithm>
#include <cctype>

#include "common/go_duration.h"
#include "spec/values.h"

namespace ramp::audit {
namespace {

bool isHex64(std::string_view s) {
  return s.size() == 64 &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

Result<std::string> parseDigestFilter(std::string_view text) {
  std::string_view hex = text;
  if (auto at = hex.rfind('@'); at != std::string_view::npos) hex.remove_prefix(at + 1);
  if (hex.size() > 7 && lower(hex.substr(0, 7)) == "sha256:") hex.remove_prefix(7);
  if (!isHex64(hex)) {
    return makeError(ErrorCode::kInvalidArgument,
                     "--digest " + std::string(text) +
                         ": not a SHA-256 digest (sha256:<64 hex digits>, the 64 digits alone, "
                         "or an image reference …@sha256:<hex>)");
  }
  return lower(hex);
}

Result<Time> parseSinceFilter(std::string_view text, Time now) {
  if (auto t = spec::parseRfc3339(text)) return *t;
  if (auto d = parseGoDuration(text); d && d->count() >= 0) {
    return now - std::chrono::duration_cast<std::chrono::milliseconds>(*d);
  }
  return makeError(ErrorCode::kInvalidArgument,
                   "--since " + std::string(text) +
                       ": neither an RFC 3339 time (2026-12-06T10:00:00Z) nor a duration back "
                       "from now (30m, 2h)");
}

bool matchesQuery(const Decision& d, const DecisionQuery& q) {
  if (q.object && !(d.object == *q.object)) return false;
  if (!q.environment.empty() && d.environment != q.environment) return false;
  if (!q.decisions.empty() &&
      std::find(q.decisions.begin(), q.decisions.end(), d.decision) == q.decisions.end()) {
    return false;
  }
  if (!q.actions.empty() &&
      std::find(q.actions.begin(), q.actions.end(), d.action) == q.actions.end())
    return false;
  if (q.since) {
    auto t = spec::parseRfc3339(d.time);
    if (!t || *t < *q.since) return false;
  }
  if (!q.digest.empty()) {
    const bool subject = std::find(d.subjectDigests.begin(), d.subjectDigests.end(), q.digest) !=
                         d.subjectDigests.end();
    const std::string pinned = "@sha256:" + q.digest;
    const bool image = std::any_of(d.images.begin(), d.images.end(), [&](const std::string& i) {
      return lower(i).ends_with(pinned);
    });
    if (!subject && !image) return false;
  }
  return true;
}

}  // namespace ramp::audit
