#pragma once

// ImageVerifier: the signature gate's seam (issue #18). Before any replica of a release's image
// starts, the controller asks whether the image may run; the answer names the policy and the
// reason, and, when the image is allowed, the reference pinned to the digest that was verified,
// so the replicas run exactly the bytes whose signature was checked (a tag that moves later
// changes nothing). Implementations: src/supply's RegistryImageVerifier (ClusterImagePolicy
// files, cosign signatures read from the image's registry, verified offline with keys); tests
// may use a fake.
//
// Thread safety: verify() may be called from several controller workers at once. It blocks on
// the registry for a bounded time (the implementation's request timeouts) and never throws.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ramp::supply {

// Where an image came from, from a verified SLSA provenance v1 attestation (attestation.h).
struct ProvenanceEvidence {
  std::string builderId;     // runDetails.builder.id
  std::string source;        // the source repository's URI ("" when the provenance names none)
  std::string sourceDigest;  // "gitCommit:<sha>" / "sha1:<hex>" of the source ("" when none)
  std::string invocationId;  // runDetails.metadata.invocationId: the pipeline run ("" when none)
  std::string location;      // the attestation's referrer in the registry: "REPO@sha256:…"
  bool operator==(const ProvenanceEvidence&) const = default;
};

// An SBOM attached to an image as a verified attestation.
struct SbomEvidence {
  std::string format;       // "cyclonedx" or "spdx"
  std::string location;     // the attestation's referrer in the registry: "REPO@sha256:…"
  int64_t components = -1;  // CycloneDX components[] / SPDX packages[]; -1 when not listed
  bool operator==(const SbomEvidence&) const = default;
};

struct ImageVerdict {
  bool allowed = false;
  std::string image;        // as the pod template names it
  std::string pinnedImage;  // allowed: `image` with "@sha256:<verified digest>"; else ""
  std::string digest;       // the verified digest ("" when none was verified)
  std::string policy;       // the ClusterImagePolicy that decided ("" when none matched)
  std::string authority;    // the authority whose signature verified ("" when none)
  bool warnOnly = false;    // allowed only because the failing policies are in warn mode
  std::string reason;       // one sentence naming image, policy and what failed or verified
  std::vector<std::string> warnings;
  // Attestations verified by `authority` for `digest` (empty when none): their predicate types
  // (URIs), and what the provenance and SBOMs among them say.
  std::vector<std::string> attestations;
  std::optional<ProvenanceEvidence> provenance;
  std::vector<SbomEvidence> sboms;
};

class ImageVerifier {
 public:
  virtual ~ImageVerifier() = default;
  // Decides whether `image` may run. Never allowed for an image an enforce-mode policy could
  // not verify (unreachable registry, missing or bad signature): the reason says which.
  virtual ImageVerdict verify(std::string_view image) = 0;
};

}  // namespace ramp::supply
