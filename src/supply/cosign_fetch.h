#pragma once

// Where cosign keeps an image's signatures, read through OciClient: the legacy signature
// manifest at tag `sha256-<hex>.sig` (its simple-signing layers and their signature
// annotations), and Sigstore bundles among the image's referrers (artifactType
// application/vnd.dev.sigstore.bundle.v0.3+json; referrers API or its tag-schema fallback). The
// signatures are looked up in the image's own repository (cosign's COSIGN_REPOSITORY is not
// supported). Verification itself is cosign_verify.h's, pure.
//
// Thread safety: as OciClient (calls may run concurrently).

#include <string>
#include <string_view>
#include <vector>

#include "audit/signer.h"
#include "ramp/error.h"
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

}  // namespace ramp::supply
