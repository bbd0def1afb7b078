#pragma once

// Manifests tests share: a canary Rollout that platform.process can run, routed by whatever the
// test names, so each test states only the router it is about.
//
// Pure helpers; thread-safe.

#include <string>

namespace ramp::testing {

// A canary Rollout `name` (namespace default) with one container that has a command, both
// Services, `routing` as the single line under trafficRouting: (e.g.
// "plugins: {ramp/haproxy: {runtimeApi: \"127.0.0.1:9999\", backend: be_app}}") and one step.
// The trafficRouting entry is on line 14, starting at column 9.
inline std::string routedRollout(const std::string& name, const std::string& routing) {
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
    canary:
      canaryService: web-canary
      stableService: web-stable
      trafficRouting:
        )" +
         routing + "\n      steps: [{setWeight: 20}]\n";
}

}  // namespace ramp::testing
