#pragma once

// Image references as container runtimes read them: "[registry/]repository[:tag][@sha256:<hex>]",
// with Docker Hub's defaults (no registry = index.docker.io, a one-part repository = library/x,
// neither tag nor digest = tag "latest"), and OCI content digests ("sha256:<64 lower-case hex>",
// the SHA-256 of the exact bytes, computed with OpenSSL).
//
// Thread safety: pure functions over values.

#include <string>
#include <string_view>

#include "ramp/error.h"

namespace ramp::supply {

// The name policies and signatures use for Docker Hub (as go-containerregistry and sigstore's
// policy-controller spell it), and the host its registry API answers on.
inline constexpr std::string_view kDockerHubRegistry = "index.docker.io";
inline constexpr std::string_view kDockerHubApiHost = "registry-1.docker.io";

struct ImageReference {
  std::string registry;    // host[:port], e.g. "ghcr.io", "127.0.0.1:5000", "index.docker.io"
  std::string repository;  // path inside the registry, e.g. "library/nginx"
  std::string tag;         // "" when the reference has only a digest
  std::string digest;      // "sha256:<hex>" or ""

  // "registry/repository" (what a policy's glob and a signature's docker-reference name).
  std::string repositoryName() const { return registry + "/" + repository; }
  // The fully qualified name a policy glob is matched against: "registry/repo@sha256:…" when
  // the reference has a digest, else "registry/repo:tag".
  std::string name() const;
  // The reference with every default spelled out: "registry/repo[:tag][@digest]".
  std::string str() const;
  bool operator==(const ImageReference&) const = default;
};

// Parses `text`. Errors: kInvalidArgument naming the part that is wrong (empty, upper-case or
// otherwise invalid repository path component, bad tag, digest not "sha256:" + 64 lower-case hex
// digits).
Result<ImageReference> parseImageReference(std::string_view text);

// "sha256:" + lower-case hex SHA-256 of `bytes`.
std::string sha256Digest(std::string_view bytes);

// Checks that `digest` is "sha256:" followed by 64 lower-case hex digits (the only algorithm
// ramp accepts). Errors: kInvalidArgument naming the digest.
Status validateDigest(std::string_view digest);

// Checks that `bytes` hash to `expected` ("sha256:<hex>"). Errors: kInvalidArgument for a
// malformed `expected`; kFailedPrecondition "digest mismatch: expected …, got …" otherwise.
Status checkDigest(std::string_view bytes, std::string_view expected);

}  // namespace ramp::supply
