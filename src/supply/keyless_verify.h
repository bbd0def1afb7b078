#pragma once

// Keyless verification of cosign signatures (Fulcio certificates, Rekor entries) against a
// pinned Sigstore trusted root (trusted_root.h), fully offline: nothing is fetched (no TUF, no
// Rekor, no Fulcio). In this order, the first failure ends it:
//
//  1. the transparency log (rekor_entry.h): every entry of the bundle from a log of the root
//     is checked: its SET (which makes its integrated time trusted) and, when present, its
//     inclusion proof and checkpoint. At least one entry must come from a log of the root and
//     carry a SET; "tlog: …";
//  2. the certificate chain to a certificate authority of the root valid at the integrated
//     time, every certificate valid then (fulcio_cert.h); "untrusted certificate: …",
//     "certificate expired at integrated time: …";
//  3. the embedded SCT, from a CT log of the root (skipped with ignoreSct, policy-controller's
//     insecureIgnoreSCT); "sct: …";
//  4. the signature with the certificate's key: over DSSE's PAE (exactly one signature, as
//     sigstore-go requires) or over the SHA-256 message digest; "bad signature: …";
//  5. each log entry's body records this signature, certificate and content; "tlog: body …";
//  6. the identity: the certificate's subject and OIDC issuer match one of the identities;
//     "identity mismatch: got subject X issuer Y".
//
// Identity matching follows policy-controller and cosign: `issuer`/`subject` compare exactly,
// `issuerRegExp`/`subjectRegExp` are regular expressions searched anywhere in the value (Go's
// regexp.MatchString: anchor with ^…$ to match the whole value). ramp uses std::regex
// ECMAScript, not Go's RE2: the common syntax (classes, groups, alternation, repetition, ^ $)
// means the same; RE2's (?P<name>…) and \pL classes are refused, and ECMAScript's
// backreferences and lookahead, which RE2 refuses, are accepted.
//
// Thread safety: pure functions.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ramp/error.h"
#include "supply/cosign_verify.h"
#include "supply/fulcio_cert.h"
#include "supply/sigstore_bundle.h"
#include "supply/trusted_root.h"

namespace ramp::supply {

// One acceptable identity (policy-controller's keyless.identities[]): one of issuer and
// issuerRegExp, one of subject and subjectRegExp.
struct IdentityMatcher {
  std::string issuer;
  std::string subject;
  std::string issuerRegExp;
  std::string subjectRegExp;
  bool operator==(const IdentityMatcher&) const = default;
};

// Checks the shape of `m` and that its regular expressions compile. Errors: kInvalidArgument
// naming the field ("issuer", "subjectRegExp", …).
Status validateIdentityMatcher(const IdentityMatcher& m);

// Whether `id` matches `m` (above).
bool identityMatches(const IdentityMatcher& m, const CertificateIdentity& id);

struct KeylessOptions {
  bool ignoreSct = false;  // policy-controller's keyless.insecureIgnoreSCT
};

struct KeylessVerified {
  CertificateIdentity identity;
  int64_t integratedTime = 0;  // of the entry whose SET verified
  int64_t logIndex = 0;
  std::string logUrl;
};

// Steps 1-6 above for a decoded bundle. Errors: as above (kFailedPrecondition), kUnsupported
// for key-based bundles and Rekor v2 entries.
Result<KeylessVerified> verifyKeyless(const KeylessBundle& bundle, const TrustedRoot& root,
                                      const std::vector<IdentityMatcher>& identities,
                                      const KeylessOptions& options = {});

// A cosign v3 keyless image signature: a Sigstore bundle whose DSSE statement is a cosign
// signature (predicate https://sigstore.dev/cosign/sign/v1) of `imageDigest`. verifyKeyless,
// then "wrong type: …" and "digest mismatch: …" as verifyBundle. VerifiedSignature::identity
// is the statement subject's name; subject and issuer are the certificate's.
Result<VerifiedSignature> verifyKeylessBundle(std::string_view bundleJson,
                                              std::string_view imageDigest, const TrustedRoot& root,
                                              const std::vector<IdentityMatcher>& identities,
                                              const KeylessOptions& options = {});

// The signature part of verifyKeylessBundle: a keyless DSSE bundle verified by steps 1-6 above.
// Nothing of the payload is checked. Errors: as verifyKeylessBundle's but "wrong type" and
// "digest mismatch".
Result<VerifiedEnvelope> verifyKeylessBundleEnvelope(std::string_view bundleJson,
                                                     const TrustedRoot& root,
                                                     const std::vector<IdentityMatcher>& identities,
                                                     const KeylessOptions& options = {});

// A legacy keyless signature (sigstore_bundle.h's parseLegacyKeyless): verifyKeyless, then the
// simple-signing payload's type and digest as verifyLegacySignature.
Result<VerifiedSignature> verifyLegacyKeyless(
    std::string_view payload, std::string_view signatureBase64, std::string_view certificatePem,
    std::string_view chainPem, std::string_view bundleAnnotation, std::string_view imageDigest,
    const TrustedRoot& root, const std::vector<IdentityMatcher>& identities,
    const KeylessOptions& options = {});

}  // namespace ramp::supply
