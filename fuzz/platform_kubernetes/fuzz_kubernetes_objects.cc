// Fuzzes what platform.kubernetes reads from the API server (src/platform/kubernetes/
// replica_sets.h): the input is JSON, an array [replicaSet, service, pod, pod, …] or any other
// value used in every role. Each function must answer, never crash or overflow; normalising a
// template twice gives the same as once; every reader of Pods answers the same for podFacts()
// of them (what the driver keeps) as for the Pods; a ReplicaSet patched by ephemeralMetadataPatch()
// or replicaSetScalePatch() needs no second patch.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <string_view>
#include <vector>

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
    const auto first = static_cast<std::ptrdiff_t>(input.size() > 2 ? 2 : input.size());
    pods.assign(std::next(input.begin(), first), input.end());
  }
  const ramp::Time now(ramp::Duration(1767225600000));
  auto revision = observeRevision(rs, pods, now);
  std::vector<json> facts;
  facts.reserve(pods.size());
  for (const json& pod : pods) facts.push_back(podFacts(pod));
  if (observeRevision(rs, facts, now) != revision) std::abort();
  if (observeReplicas(rs, facts) != observeReplicas(rs, pods)) std::abort();
  if (podToRestart(facts, now) != podToRestart(pods, now)) std::abort();
  for (size_t i = 0; i < pods.size(); ++i) {
    if (controllerUid(facts[i]) != controllerUid(pods[i])) std::abort();
  }
  (void)belongsTo(rs, {"shop", "web", ""});
  (void)controllerUid(rs);
  (void)planServiceSwitch(service, "web", rs, revision.availableReplicas, true);
  (void)planServiceSwitch(service, "web", rs, 0, false);
  json once = normalizeTemplate(rs);
  if (normalizeTemplate(once) != once) std::abort();
  (void)decodeTemplate(rs);
  (void)templateWithoutInjected(rs);
  // An injected anti-affinity term, read back and moved; one added to whatever affinity the
  // ReplicaSet has is found again.
  {
    ramp::spec::AntiAffinity required;
    required.requiredDuringSchedulingIgnoredDuringExecution = true;
    const ramp::platform::RevisionSpec::AntiAffinityTo to{"stable1", required};
    (void)injectedAntiAffinityHash(rs);
    (void)antiAffinityPatch(rs, to);
    static const json kNull;
    auto field = [](const json& j, const char* key) -> const json& {
      if (!j.is_object()) return kNull;
      auto it = j.find(key);
      return it == j.end() ? kNull : *it;
    };
    const json& live = field(field(podTemplateOf(rs), "spec"), "affinity");
    (void)withoutInjectedAntiAffinity(live);
    json with = {
        {"spec", {{"template", {{"spec", {{"affinity", withAntiAffinity(live, to, "shop")}}}}}}}};
    if (injectedAntiAffinityHash(with).empty()) std::abort();
  }
  (void)podMetadataPatch(injectedMetadata(rs), std::nullopt);
  (void)revisionPatch(rs, 7);
  if (rs.is_object()) {
    const ramp::spec::PodTemplateMetadata canary{{{"role", "canary"}}, {{"note", "new"}}};
    for (const auto& desired : {std::optional<ramp::spec::PodTemplateMetadata>(),
                                std::optional(canary), injectedMetadata(rs)}) {
      if (auto patch = ephemeralMetadataPatch(rs, desired)) {
        json after = rs;
        after.merge_patch(*patch);
        if (ephemeralMetadataPatch(after, desired)) std::abort();
      }
    }
    if (auto patch = replicaSetScalePatch(rs, 3, 5)) {
      json after = rs;
      after.merge_patch(*patch);
      if (replicaSetScalePatch(after, 3, 5)) std::abort();
    }
  }
  (void)compareResourceVersions(rs.is_string() ? rs.get<std::string>() : "",
                                service.is_string() ? service.get<std::string>() : "1");
  return 0;
}
