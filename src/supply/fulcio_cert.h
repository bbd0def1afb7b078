#pragma once

// Checks of a Fulcio (keyless) signing certificate against a pinned trusted root, with OpenSSL:
//
//  - the chain: X509_verify_cert from the leaf to the self-signed root of a certificate
//    authority of the root whose validFor contains the time, with that authority's own
//    intermediates (certificates the bundle carries beyond its leaf are not trusted), every
//    certificate valid at that time (X509_VERIFY_PARAM_set_time), and the leaf's extended key
//    usage codeSigning;
//  - the embedded SCT: OpenSSL's CT support (the SCT list of the leaf, SCT_validate under a
//    CT_POLICY_EVAL_CTX with the issuer and the root's CT logs, which rebuilds the
//    precertificate): at least one SCT from a CT log of the root, valid in that log's validFor;
//  - the identity: the subject alternative name (an email address, a URI, or the otherName
//    1.3.6.1.4.1.57264.1.7 Fulcio writes for usernames) and the OIDC issuer (extension
//    1.3.6.1.4.1.57264.1.8, a DER UTF8String, else the older 1.3.6.1.4.1.57264.1.1, raw).
//
// Errors are kFailedPrecondition starting "untrusted certificate: …", "certificate expired at
// integrated time: …" or "sct: …".
//
// Thread safety: pure functions (the root's CT log store is only read).

#include <cstdint>
#include <optional>
#include <string>

#include "ramp/error.h"
#include "supply/sigstore_crypto.h"
#include "supply/trusted_root.h"

namespace ramp::supply {

// Verifies `leaf` up to a certificate authority of `root` at `time` (seconds since the epoch).
// Returns the certificate that issued the leaf (for the SCT check).
Result<Certificate> verifyFulcioChain(const Certificate& leaf, const TrustedRoot& root,
                                      int64_t time);

// Verifies that `leaf` (issued by `issuer`) carries an SCT of a CT log of `root`.
Status verifyEmbeddedSct(const Certificate& leaf, const Certificate& issuer,
                         const TrustedRoot& root);

struct CertificateIdentity {
  std::string subject;  // the SAN: email, URI or Fulcio's otherName username
  std::string issuer;   // the OIDC issuer
  bool operator==(const CertificateIdentity&) const = default;
};

// The identity `leaf` was issued for. Errors: kFailedPrecondition "untrusted certificate: …"
// when it has no SAN of those kinds or no issuer extension.
Result<CertificateIdentity> certificateIdentity(const Certificate& leaf);

}  // namespace ramp::supply
