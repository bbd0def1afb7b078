#pragma once

// The kinds ramp manages, in one table (spec::kindName in spec/codec.h reads it too): each kind's
// name (the manifest's and the store's "Rollout"), its plural (the API's URL segment "rollouts"),
// its short name on the command line
// ("ro") and whether it is cluster-scoped. The codec, the controller, the API, /metrics and the
// CLI's help all read their names here, so a kind is added in one place.
//
// Thread safety: constant data and pure functions.

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "ramp/spec/meta.h"

namespace ramp::spec {

struct KindInfo {
  Kind kind;
  const char* name;       // "Rollout": the manifest's `kind` and the store's
  const char* plural;     // "rollouts": the API's URL segment
  const char* shortName;  // "ro": what a user may type on the command line
  bool clusterScoped;
};

// Every kind, in a fixed order (the order of the Kind enum).
inline constexpr std::array<KindInfo, 6> kKinds = {{
    {Kind::kRollout, "Rollout", "rollouts", "ro", false},
    {Kind::kAnalysisTemplate, "AnalysisTemplate", "analysistemplates", "at", false},
    {Kind::kClusterAnalysisTemplate, "ClusterAnalysisTemplate", "clusteranalysistemplates", "cat",
     true},
    {Kind::kAnalysisRun, "AnalysisRun", "analysisruns", "ar", false},
    {Kind::kApplication, "Application", "applications", "app", false},
    {Kind::kAppProject, "AppProject", "appprojects", "appproj", false},
}};

// The table row of `kind`.
constexpr const KindInfo& kindInfo(Kind kind) {
  for (const KindInfo& k : kKinds) {
    if (k.kind == kind) return k;
  }
  return kKinds.front();
}

// The kind whose name is exactly `name` ("Rollout"); nullopt for any other text.
std::optional<Kind> kindNamed(std::string_view name);

// The kinds for a command's help, lower case and joined by `separator`: the names
// ("rollout | analysistemplate | …") or, with `plural`, the plurals; with `shortNames`, followed
// by " (or ro, at, cat, ar)".
std::string kindChoices(std::string_view separator, bool plural, bool shortNames);

}  // namespace ramp::spec
