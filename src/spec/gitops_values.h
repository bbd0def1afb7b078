#pragma once

// Pure helpers that interpret the fields of Argo CD's Application the way Argo CD does: the short
// form of kustomize image overrides (spec.source.kustomize.images) and sync options
// (spec.syncPolicy.syncOptions, "Key=Value"). Validation uses them to reject what they cannot
// read; src/gitops uses them to render and sync.
//
// Pure functions; thread-safe.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ramp/error.h"

namespace ramp::spec {

// One kustomize image override. Argo CD's short form (kustomize edit set image):
//   "nginx=registry/nginx:1.2"  image named nginx becomes registry/nginx:1.2
//   "nginx:1.2"                  same name, new tag
//   "nginx@sha256:…"             same name, pinned digest
//   "nginx=registry/nginx"       new name, tag kept
struct ImageOverride {
  std::string name;     // the image name matched (repository, without tag or digest)
  std::string newName;  // "" = keep the name
  std::string newTag;   // "" = keep the tag
  std::string digest;   // "sha256:…"; replaces tag and digest
  bool operator==(const ImageOverride&) const = default;
};

// Parses one override; kInvalidArgument saying what is wrong.
Result<ImageOverride> parseImageOverride(std::string_view text);

// The repository part of an image reference ("reg:5000/app:1.2@sha256:…" -> "reg:5000/app").
std::string imageName(std::string_view image);

// `image` with `override` applied when its name matches; nullopt when it does not.
std::optional<std::string> applyImageOverride(std::string_view image,
                                              const ImageOverride& override);

// The value of sync option `key` in "Key=Value" options ("" when absent; the last one wins).
std::string syncOptionValue(const std::vector<std::string>& options, std::string_view key);

// Whether ramp applies the sync option `key` ("ApplyOutOfSyncOnly", "PruneLast"): the others
// Argo CD knows are accepted and reported as ignored.
bool syncOptionApplies(std::string_view key);
bool syncOptionKnown(std::string_view key);

}  // namespace ramp::spec
