#pragma once

// Manifests tests share: a canary and a blue-green Rollout that platform.process can run, routed
// by whatever the test names, so each test states only the router it is about.
//
// Pure helpers; thread-safe.

#include <string>

namespace ramp::testing {

// Rollout `name` (namespace default) with one container that has a command, up to `strategy:`.
inline std::string rolloutHead(const std::string& name) {
  return R"(apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: )" +
         name + R"(}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: web:1, command: [/usr/bin/true]}]}
  strategy:
)";
}

// A canary Rollout `name` (rolloutHead) with both Services, `routing` as the single line under
// trafficRouting: (e.g. "plugins: {ramp/haproxy: {runtimeApi: \"127.0.0.1:9999\", backend:
// be_app}}") and one step. The trafficRouting entry is on line 14, starting at column 9.
inline std::string routedRollout(const std::string& name, const std::string& routing) {
  return rolloutHead(name) + R"(    canary:
      canaryService: web-canary
      stableService: web-stable
      trafficRouting:
        )" +
         routing + "\n      steps: [{setWeight: 20}]\n";
}

// A blue-green Rollout `name` (rolloutHead) with active and preview Services and, unless
// `routing` is empty, `routing` as the single line under ramp's blueGreen.trafficRouting:.
inline std::string blueGreenRollout(const std::string& name, const std::string& routing) {
  return rolloutHead(name) + R"(    blueGreen:
      activeService: web-active
      previewService: web-preview
)" + (routing.empty() ? std::string() : "      trafficRouting:\n        " + routing + "\n");
}

}  // namespace ramp::testing
