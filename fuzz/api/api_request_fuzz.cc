// Input: "METHOD\nPATH[?QUERY]\nLAST-EVENT-ID\nBODY…". Every decoder of request input must return
// a value or an Error, never crash, hang or throw; what they accept must be consistent (a
// decoded action request re-encodes to the same value; a parsed cursor formats back to an
// equivalent cursor).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "api/auth.h"
#include "api/request.h"
#include "api/types.h"

namespace {

std::string_view line(std::string_view& in) {
  size_t nl = in.find('\n');
  std::string_view out = in.substr(0, nl);
  in = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view method = line(in);
  std::string_view target = line(in);
  std::string_view lastEventId = line(in);
  std::string_view body = in;

  size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);

  auto route = ramp::api::parseRoute(method, path);
  if (route) {
    (void)ramp::api::requiredRole(*route);
    using ramp::api::Endpoint;
    bool objectEndpoint =
        route->endpoint == Endpoint::kList || route->endpoint == Endpoint::kGet ||
        route->endpoint == Endpoint::kPut || route->endpoint == Endpoint::kDelete ||
        route->endpoint == Endpoint::kAction || route->endpoint == Endpoint::kRevisions ||
        route->endpoint == Endpoint::kReplicas || route->endpoint == Endpoint::kLogs;
    if (objectEndpoint != (route->resource != nullptr)) {
      std::abort();  // object endpoints, and only they, name their resource
    }
    if (route->endpoint == Endpoint::kAsset && path.substr(0, 5) == "/api/") {
      std::abort();  // nothing under /api/ is served as a dashboard file
    }
  }
  ramp::api::QueryParams params = ramp::api::parseQueryString(query);
  auto watch = ramp::api::parseWatchQuery(params, lastEventId);
  auto events = ramp::api::parseEventsQuery(params);
  if (events && (events->limit < 1 || events->limit > 1000)) std::abort();
  auto audit = ramp::api::parseAuditRecordsQuery(params);
  if (audit && (audit->from < 0 || audit->limit < 1 || audit->limit > 1000)) std::abort();
  auto logs = ramp::api::parseLogsQuery(params);
  if (logs && (logs->replica.empty() || logs->limit < 1 || logs->limit > ramp::api::kMaxLogLimit)) {
    std::abort();
  }
  if (logs) {
    auto again =
        ramp::api::parseLogsQuery(ramp::api::parseQueryString(ramp::api::encodeLogsQuery(*logs)));
    if (!again || !(*again == *logs)) std::abort();  // the client's encoding round-trips
  }
  if (ramp::api::completeUtf8Prefix(body) > body.size()) std::abort();
  if (auto cursor = ramp::api::parseCursor(lastEventId)) {
    if (cursor->eventId >= 0) {
      auto again = ramp::api::parseCursor(ramp::api::formatCursor(*cursor));
      if (!again || !(*again == *cursor)) std::abort();
    }
  }
  if (auto action = ramp::api::decodeActionRequest(body)) {
    auto again = ramp::api::decodeActionRequest(ramp::api::encodeActionRequest(*action));
    if (!again || !(*again == *action)) std::abort();
  }
  (void)ramp::api::decodeError(body);
  (void)ramp::api::decodeApplyResponse(body);
  (void)ramp::api::decodeObjectList(body);
  (void)ramp::api::decodeEvents(body);
  (void)ramp::api::withResourceVersion(body, 7);
  if (auto auth = ramp::api::Authenticator::fromText(body, "tokens")) {
    (void)auth->authenticate(lastEventId);
  }
  return 0;
}
