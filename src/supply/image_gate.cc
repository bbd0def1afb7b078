#include "supply/image_gate.h"

#include "supply/cosign_fetch.h"

namespace ramp::supply {
namespace {

// The attestations of the image that authority `a` verifies, into `r` (evidence, and what an
// authority's attestations[] requires). Attestations are Sigstore bundle referrers whatever the
// authority's signatureFormat: cosign 3 writes them so by default.
void readAttestations(OciClient& client, const ImageReference& ref, const std::string& digest,
                      const PolicyAuthority& a, AuthorityResult& r) {
  AttestationVerifier verify;
  if (a.kind == PolicyAuthority::Kind::kKeyless) {
    if (a.trustedRoot == nullptr) return;
    verify = [&](std::string_view bundle) {
      return verifyAttestation(bundle, digest, *a.trustedRoot, a.identities,
                               KeylessOptions{a.ignoreSct});
    };
  } else {
    verify = [&](std::string_view bundle) { return verifyAttestation(bundle, digest, *a.key); };
  }
  auto found = verifyImageAttestations(client, ref, digest, verify);
  if (!found) {
    r.attestationFailures.push_back("cannot read the attestations: " + found.error().message);
    return;
  }
  r.attestations = std::move(found->verified);
  r.attestationFailures = std::move(found->failures);
}

}  // namespace

Decision gateImage(OciClient& client, const std::vector<ImagePolicy>& policies,
                   std::string_view image, NoMatch noMatch) {
  std::vector<const ImagePolicy*> matching = matchingPolicies(policies, image);
  std::vector<AuthorityResult> results;
  std::string digest;
  if (!matching.empty()) {
    auto ref = parseImageReference(image);
    Result<std::string> resolved =
        ref ? client.resolveDigest(*ref) : Result<std::string>(std::unexpected(ref.error()));
    if (resolved) digest = *resolved;
    for (const ImagePolicy* p : matching) {
      for (const PolicyAuthority& a : p->authorities) {
        bool keyless = a.kind == PolicyAuthority::Kind::kKeyless;
        if (a.kind != PolicyAuthority::Kind::kKey && !keyless) continue;
        AuthorityResult r{p->name, a.name, std::unexpected(Error{}), {}, {}};
        if (!resolved) {
          r.result = std::unexpected(Error{
              resolved.error().code, "cannot resolve the digest: " + resolved.error().message});
        } else if (keyless) {
          KeylessAuthority k{a.trustedRoot.get(), a.identities, KeylessOptions{a.ignoreSct}};
          r.result = verifyImageSignature(client, *ref, digest, a.format, k);
        } else {
          r.result = verifyImageSignature(client, *ref, digest, a.format, *a.key);
        }
        if (r.result) readAttestations(client, *ref, digest, a, r);
        results.push_back(std::move(r));
      }
    }
  }
  return evaluateImagePolicies(policies, image, digest, results, noMatch);
}

}  // namespace ramp::supply
