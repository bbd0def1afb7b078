// Fuzzes what platform.kubernetes reads from the API server (src/platform/kubernetes/
// replica_sets.h): the input is JSON, an array [replicaSet, service, pod, pod, …] or any other
// value used in every role. Each function must answer, never crash or overflow; normalising a
// template twice gives the same as once.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "platform/kubernetes/replica_sets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ramp::platform::kubernetes;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  json input = json::parse(text, nullptr, false);
  if (input.is_discarded()) return 0;
  json rs = input, service = input;
  std::vector<json> pods = {input};
  if (input.is_array() && !input.empty()) {
    rs = input[0];
    service = input.size() > 1 ? input[1] : json::object();
    pods.assign(input.begin() + (input.size() > 2 ? 2 : input.size()), input.end());
  }
  const ramp::Time now(ramp::Duration(1767225600000));
  auto revision = observeRevision(rs, pods, now);
  (void)observeReplicas(rs, pods);
  (void)podToRestart(pods, now);
  (void)belongsTo(rs, {"shop", "web", ""});
  (void)controllerUid(rs);
  (void)planServiceSwitch(service, "web", rs, revision.availableReplicas, true);
  (void)planServiceSwitch(service, "web", rs, 0, false);
  json once = normalizeTemplate(rs);
  if (normalizeTemplate(once) != once) std::abort();
  (void)decodeTemplate(rs);
  (void)compareResourceVersions(rs.is_string() ? rs.get<std::string>() : "",
                                service.is_string() ? service.get<std::string>() : "1");
  return 0;
}
