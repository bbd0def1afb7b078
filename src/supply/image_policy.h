#pragma once

// Image signature policies in the shape of sigstore policy-controller's ClusterImagePolicy
// (apiVersion policy.sigstore.dev/v1beta1), the subset that works offline, with keys or with
// keyless identities checked against a pinned trusted root:
//
//   apiVersion: policy.sigstore.dev/v1beta1
//   kind: ClusterImagePolicy
//   metadata: {name: shop-images}
//   spec:
//     images: [{glob: "registry.example/shop/**"}]
//     authorities:
//       - name: release-key
//         key: {data: "-----BEGIN PUBLIC KEY-----\n…"}   # key.secretRef / kms are refused
//         signatureFormat: bundle                          # legacy (default) | bundle
//       - name: release-workflow
//         keyless:
//           identities: [{issuer: "https://token.actions.githubusercontent.com",
//                         subjectRegExp: "^https://github.com/shop/"}]
//           trustRootRef: public-good                      # optional; --trusted-root NAME=FILE
//           insecureIgnoreSCT: false                       # optional
//         attestations:                                    # optional: required besides
//           - {name: provenance, predicateType: slsaprovenance1}   # the signature
//       - name: break-glass
//         static: {action: pass}                           # pass | fail
//     mode: enforce                                        # enforce (default) | warn
//
// Decoding reports every problem as "file:line:column: field.path: message". Globs match as
// policy-controller's: `*` is any run of characters but '/', `**` any run at all, matched
// against the fully qualified reference ("index.docker.io/library/nginx:latest",
// "registry/repo@sha256:…"), then against the reference as written; "*" and "*/*" mean Docker
// Hub's library/* and */*.
//
// Evaluation is pure: (policies, image, digest, each authority's verification result) ->
// Decision. Every matching policy must be satisfied (AND); within a policy one authority
// suffices (OR). A failing policy in warn mode allows with a warning. An authority without a
// result has failed: missing data never counts as verified.
//
// Thread safety: pure functions; an ImagePolicy is immutable once parsed and may be shared.

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "audit/signer.h"
#include "ramp/error.h"
#include "supply/attestation.h"
#include "supply/cosign_verify.h"
#include "supply/keyless_verify.h"
#include "supply/oci_reference.h"
#include "supply/trusted_root.h"

namespace ramp::supply {

inline constexpr std::string_view kImagePolicyApiVersion = "policy.sigstore.dev/v1beta1";
inline constexpr std::string_view kImagePolicyKind = "ClusterImagePolicy";

enum class PolicyMode { kEnforce, kWarn };
std::string_view policyModeName(PolicyMode mode);  // "enforce" | "warn"

// An attestation an authority requires (policy-controller's authorities[].attestations[]): a
// verified attestation of `predicateType` by the same authority, besides its signature.
struct RequiredAttestation {
  std::string name;           // as written
  std::string predicateType;  // the URI (a short name such as slsaprovenance1 is mapped)
  std::string written;        // predicateType as written, for messages
  bool operator==(const RequiredAttestation&) const = default;
};

struct PolicyAuthority {
  enum class Kind { kKey, kKeyless, kStaticPass, kStaticFail };
  std::string name;  // as written, else "authority-<index>" (policy-controller's default)
  Kind kind = Kind::kKey;
  std::shared_ptr<const audit::VerifyingKey> key;  // kKey: key.data
  SignatureFormat format = SignatureFormat::kLegacy;
  // kKeyless: keyless.identities, keyless.trustRootRef ("" = the default trusted root) and
  // keyless.insecureIgnoreSCT; the trusted root itself is bound after parsing
  // (bindTrustedRoots), so a policy file stays a pure function of its text.
  std::vector<IdentityMatcher> identities;
  std::string trustRootRef;
  bool ignoreSct = false;
  std::shared_ptr<const TrustedRoot> trustedRoot;
  std::vector<RequiredAttestation> attestations;  // kKey, kKeyless: required besides the signature
  std::string where;  // "file:line:column: spec.authorities[i].keyless", for later messages
};

struct ImagePolicy {
  std::string name;  // metadata.name
  std::vector<std::string> globs;
  std::vector<PolicyAuthority> authorities;
  PolicyMode mode = PolicyMode::kEnforce;
  std::string source;  // "file:line" of the document, for messages
};

// Decodes every YAML document of `text` (`file` names it in messages) as a ClusterImagePolicy.
// Errors: kInvalidArgument with every problem, one a line, "file:line:column: path: message"
// (not YAML, wrong apiVersion/kind, missing or mistyped fields, an invalid glob or PEM key,
// unknown fields, and the unsupported ones named: key.secretRef, key.kms, keyless.url,
// keyless.caCert, attestations[].policy, source, ctlog, rfc3161timestamp, spec.match,
// images[].regex).
Result<std::vector<ImagePolicy>> parseImagePolicies(std::string_view text, std::string_view file);

// Trusted roots by name: "" is the default (ramp serve --trusted-root FILE), others are what a
// keyless authority's trustRootRef names (--trusted-root NAME=FILE).
using TrustedRoots = std::map<std::string, std::shared_ptr<const TrustedRoot>>;

// Gives every keyless authority of `policies` its trusted root from `roots`. Errors:
// kInvalidArgument with every authority whose root is not given, one a line, "file:line:column:
// spec.authorities[i].keyless.trustRootRef: …".
Status bindTrustedRoots(std::vector<ImagePolicy>& policies, const TrustedRoots& roots);

// Checks a glob's characters (letters, digits, '-', '_', ':', '/', '*', '.'). Errors:
// kInvalidArgument naming the glob.
Status validateGlob(std::string_view glob);

// Whether `image` (as written) matches `glob` with policy-controller's semantics (above).
// Errors: kInvalidArgument for an invalid glob or image reference.
Result<bool> globMatches(std::string_view glob, std::string_view image);

// The result of verifying one authority of one policy for an image.
struct AuthorityResult {
  std::string policy;
  std::string authority;
  Result<VerifiedSignature> result;
  // The image's attestations this authority verified, and why other candidates did not (or why
  // they could not be read); read only when the signature verified.
  std::vector<VerifiedAttestation> attestations;
  std::vector<std::string> attestationFailures;
};

struct Decision {
  bool allowed = false;
  PolicyMode mode = PolicyMode::kEnforce;  // of the policy that decided
  std::string policy;                      // "" when no policy matched
  std::string authority;                   // the authority that verified ("" when none did)
  std::string reason;                      // why, in a sentence (names image, policy, failures)
  std::string verifiedDigest;              // the digest signatures were verified for
  std::vector<std::string> warnings;       // failures of warn-mode policies
  std::vector<VerifiedAttestation> attestations;  // verified by `authority` (evidence)
};

// The attestations as the verdict's reason lists them, short (the locations and digests are in
// the verdict's evidence), provenance first, then SBOMs, then others: "; provenance: built by B
// from S, run R; SBOM cyclonedx (12 components)" ("" when there are none).
std::string describeAttestations(const std::vector<VerifiedAttestation>& attestations);

// What to do with an image no policy matches (policy-controller's no-match-policy).
enum class NoMatch { kDeny, kAllow };

// The policies whose globs match `image` (as written). An invalid image matches none.
std::vector<const ImagePolicy*> matchingPolicies(const std::vector<ImagePolicy>& policies,
                                                 std::string_view image);

// The decision for `image` (as written) at `digest`, from the results of the authorities of
// the matching policies. An `image` that is not a valid reference is refused whatever `noMatch`
// says. Pure.
Decision evaluateImagePolicies(const std::vector<ImagePolicy>& policies, std::string_view image,
                               std::string_view digest, const std::vector<AuthorityResult>& results,
                               NoMatch noMatch = NoMatch::kDeny);

}  // namespace ramp::supply
