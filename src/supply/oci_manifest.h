#pragma once

// OCI image manifests and image indexes (and their Docker v2 schema 2 equivalents), decoded
// from the bytes a registry serves: the descriptors a signature lookup follows (layers, the
// manifests of an index, a referrer's subject and artifactType). Pure functions.
//
// Thread safety: pure functions over values.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ramp/error.h"

namespace ramp::supply {

inline constexpr std::string_view kOciManifestType = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndexType = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kDockerManifestType =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerManifestListType =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kOciEmptyType = "application/vnd.oci.empty.v1+json";

// The Accept header of a manifest request: every manifest and index type above.
std::string manifestAcceptHeader();

struct Descriptor {
  std::string mediaType;
  std::string digest;  // "sha256:<hex>" (validated)
  int64_t size = 0;
  std::string artifactType;  // "" when absent
  std::map<std::string, std::string> annotations;
  bool operator==(const Descriptor&) const = default;
};

// An image manifest (config + layers) or an index (manifests); `isIndex` tells which.
struct Manifest {
  int schemaVersion = 2;
  std::string mediaType;  // from the body, else the Content-Type it was served with
  std::string artifactType;
  bool isIndex = false;
  std::optional<Descriptor> config;   // image manifests only
  std::vector<Descriptor> layers;     // image manifests only
  std::vector<Descriptor> manifests;  // indexes only
  std::optional<Descriptor> subject;  // the manifest this one refers to (OCI 1.1)
  std::map<std::string, std::string> annotations;
  bool operator==(const Manifest&) const = default;
};

// Decodes a manifest or index. `contentType` (the response's Content-Type, parameters ignored)
// is used when the body has no mediaType. Errors: kParse naming the field (not a JSON object,
// schemaVersion not 2, a descriptor without a valid digest or with a negative size, a field of
// the wrong type); kUnsupported for a media type that is neither a manifest nor an index (e.g.
// Docker schema 1).
Result<Manifest> parseManifest(std::string_view body, std::string_view contentType = "");

// JSON text of `m` (for pushing test images and for referrers fallback indexes); parseManifest
// reads it back to an equal value.
std::string encodeManifest(const Manifest& m);

}  // namespace ramp::supply
