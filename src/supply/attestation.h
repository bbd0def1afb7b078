#pragma once

// Attestations of an image (`cosign attest`): in-toto statements about the image's digest, in a
// DSSE envelope inside a Sigstore bundle stored as a referrer of the image (cosign 3's default),
// signed by a key or a keyless identity exactly as image signatures are (cosign_verify.h's and
// keyless_verify.h's envelope verification). What ramp reads from them, as evidence:
//
//  - SLSA provenance v1 (https://slsa.dev/provenance/v1): the builder (runDetails.builder.id),
//    the source (buildDefinition.resolvedDependencies[0]'s uri and digest, else
//    externalParameters' repository and ref as GitHub's and GitLab's builders write them) and
//    the pipeline run (runDetails.metadata.invocationId);
//  - SBOMs (CycloneDX https://cyclonedx.org/bom, SPDX https://spdx.dev/Document): the format,
//    and the number of components (CycloneDX components[], SPDX packages[]).
//
// Predicate types are named as cosign's `--type` and policy-controller's
// authorities[].attestations[].predicateType name them: a short name (slsaprovenance1,
// cyclonedx, spdxjson, …) or the URI.
//
// Thread safety: pure functions.

#include <optional>
#include <string>
#include <string_view>

#include "audit/signer.h"
#include "ramp/error.h"
#include "ramp/supply/image_verifier.h"
#include "supply/cosign_verify.h"
#include "supply/keyless_verify.h"

namespace ramp::supply {

inline constexpr std::string_view kSlsaProvenanceV1 = "https://slsa.dev/provenance/v1";
inline constexpr std::string_view kCycloneDxPredicateType = "https://cyclonedx.org/bom";
inline constexpr std::string_view kSpdxPredicateType = "https://spdx.dev/Document";
// The annotation cosign 3 puts on an attestation bundle's referrer manifest (unsigned: a hint of
// which referrers to read, never evidence).
inline constexpr std::string_view kBundlePredicateTypeAnnotation =
    "dev.sigstore.bundle.predicateType";

// The predicate type URI for `nameOrUri`: cosign's short names (custom, slsaprovenance,
// slsaprovenance02, slsaprovenance1, spdx, spdxjson, cyclonedx, link, vuln, openvex) map to
// their URIs, a URI ("scheme://…") is itself. Errors: kInvalidArgument for anything else.
Result<std::string> predicateTypeUri(std::string_view nameOrUri);

// The evidence of an SLSA provenance v1 predicate (the statement's `predicate`, as JSON).
// Errors: kParse naming the field (not an object; runDetails.builder.id missing or not a
// string; a present field of the wrong type).
Result<ProvenanceEvidence> parseSlsaProvenanceV1(std::string_view predicateJson);

// The evidence of an SBOM predicate of `predicateType` (CycloneDX or SPDX, any version: a URI
// starting with kCycloneDxPredicateType or kSpdxPredicateType). Errors: kInvalidArgument for
// another predicate type; kParse when the predicate is not a JSON object or its component list
// is not a list.
Result<SbomEvidence> parseSbomPredicate(std::string_view predicateType,
                                        std::string_view predicateJson);

// An attestation whose envelope signature verified and whose statement names the image.
struct VerifiedAttestation {
  std::string predicateType;  // the statement's (a URI)
  std::string subjectName;    // the statement subject that names the image digest
  std::string location;       // "REPO@sha256:…" of its referrer manifest (set by the fetcher)
  std::optional<ProvenanceEvidence> provenance;  // SLSA provenance v1
  std::optional<SbomEvidence> sbom;              // CycloneDX or SPDX
};

// Checks a DSSE payload whose signature verified: an in-toto statement (payload type
// application/vnd.in-toto+json) with a subject whose sha256 is `imageDigest`'s and a predicate
// type other than cosign's signature; reads the provenance or SBOM evidence of the known
// predicate types (others are verified without evidence). Errors: kFailedPrecondition "not an
// attestation: …" (a cosign signature statement), "wrong type: …" (payload or statement type),
// "digest mismatch: …", "bad predicate: …" (a provenance or SBOM that cannot be read); kParse
// for a malformed statement.
Result<VerifiedAttestation> checkAttestationStatement(std::string_view payloadType,
                                                      std::string_view payload,
                                                      std::string_view imageDigest);

// A key-based attestation bundle: verifyBundleEnvelope with `key`, then
// checkAttestationStatement. Errors: theirs.
Result<VerifiedAttestation> verifyAttestation(std::string_view bundleJson,
                                              std::string_view imageDigest,
                                              const audit::VerifyingKey& key);

// A keyless attestation bundle: verifyKeylessBundleEnvelope, then checkAttestationStatement.
Result<VerifiedAttestation> verifyAttestation(std::string_view bundleJson,
                                              std::string_view imageDigest, const TrustedRoot& root,
                                              const std::vector<IdentityMatcher>& identities,
                                              const KeylessOptions& options = {});

}  // namespace ramp::supply
