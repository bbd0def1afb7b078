#pragma once

// Where cosign keeps an image's signatures, read through OciClient: the legacy signature
// manifest at tag `sha256-<hex>.sig` (its simple-signing layers and their signature
// annotations), and Sigstore bundles among the image's referrers (artifactType
// application/vnd.dev.sigstore.bundle.v0.3+json; referrers API or its tag-schema fallback). The
// signatures are looked up in the image's own repository (cosign's COSIGN_REPOSITORY is not
// supported). Verification itself is cosign_verify.h's, pure.
//
// Thread safety: as OciClient (calls may run concurrently).

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/signer.h"
#include "ramp/error.h"
#include "supply/attestation.h"
#include "supply/cosign_verify.h"
#include "supply/keyless_verify.h"
#include "supply/oci_client.h"
#include "supply/oci_reference.h"

namespace ramp::supply {

struct LegacySignature {
  std::string payload;          // the layer's bytes (digest checked)
  std::string signatureBase64;  // its dev.cosignproject.cosign/signature annotation
  std::string layerDigest;
  // Keyless signatures' annotations ("" when absent): dev.sigstore.cosign/certificate, /chain
  // and /bundle (sigstore_bundle.h).
  std::string certificatePem;
  std::string chainPem;
  std::string bundleJson;
};

// The simple-signing layers of `repo`'s signature manifest for `digest`. Errors: kNotFound when
// the tag `sha256-<hex>.sig` does not exist; OciClient's errors otherwise.
Result<std::vector<LegacySignature>> fetchLegacySignatures(OciClient& client,
                                                           const ImageReference& repo,
                                                           std::string_view digest);

// A Sigstore bundle referrer of an image: its manifest's digest, the predicate type its manifest's
// annotation announces (cosign 3 writes dev.sigstore.bundle.predicateType; unsigned, a hint
// only; "" when absent) and the bundle JSON.
struct BundleReferrer {
  std::string manifestDigest;
  std::string predicateTypeHint;
  std::string bundleJson;
};

// Every Sigstore bundle referrer of `digest`, read as fetchBundles (below) reads them; those whose
// hint is in `skipHints` are skipped without reading their bundle. Errors: OciClient's.
Result<std::vector<BundleReferrer>> fetchBundleReferrers(
    OciClient& client, const ImageReference& repo, std::string_view digest,
    const std::vector<std::string_view>& skipHints = {});

// The bundle JSON of every Sigstore bundle referrer of `digest` (a referrer whose manifest has
// artifactType application/vnd.dev.sigstore.bundle.v0.3+json; none is not an error).
// Errors: OciClient's.
Result<std::vector<std::string>> fetchBundles(OciClient& client, const ImageReference& repo,
                                              std::string_view digest);

// Finds `digest`'s signatures in `format` and returns the first that verifies with `key`.
// Errors: kNotFound "no legacy signature …" / "no bundle …" when there are none;
// kFailedPrecondition listing, for each candidate, why it failed (cosign_verify.h's reasons);
// OciClient's errors when the registry cannot be read. Missing data never counts as verified.
Result<VerifiedSignature> verifyImageSignature(OciClient& client, const ImageReference& repo,
                                               std::string_view digest, SignatureFormat format,
                                               const audit::VerifyingKey& key);

// What a keyless authority verifies with (keyless_verify.h).
struct KeylessAuthority {
  const TrustedRoot* root = nullptr;
  std::vector<IdentityMatcher> identities;
  KeylessOptions options;
};

// As above, for keyless signatures: a legacy layer's certificate and bundle annotations, or a
// keyless Sigstore bundle, verified with verifyLegacyKeyless / verifyKeylessBundle.
Result<VerifiedSignature> verifyImageSignature(OciClient& client, const ImageReference& repo,
                                               std::string_view digest, SignatureFormat format,
                                               const KeylessAuthority& authority);

// What one authority's attestations of an image are: those that verified, and why each other
// candidate did not ("bundle 2 (REPO@sha256:…): bad signature: …").
struct AttestationsFound {
  std::vector<VerifiedAttestation> verified;
  std::vector<std::string> failures;
};

// Verifies one attestation bundle (attestation.h's verifyAttestation with an authority's key or
// keyless identities bound).
using AttestationVerifier = std::function<Result<VerifiedAttestation>(std::string_view bundle)>;

// Reads `digest`'s Sigstore bundle referrers (skipping those announced as cosign signatures) and
// verifies each with `verify`; each verified one gets its location, "REPO@<referrer digest>".
// Statements that turn out to be signatures are left out of both lists. None is not an error.
// Errors: OciClient's when the registry cannot be read.
Result<AttestationsFound> verifyImageAttestations(OciClient& client, const ImageReference& repo,
                                                  std::string_view digest,
                                                  const AttestationVerifier& verify);

}  // namespace ramp::supply
