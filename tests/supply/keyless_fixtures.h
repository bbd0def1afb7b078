#pragma once

// A private Sigstore made in the test, with OpenSSL: a Fulcio-like certificate authority (a
// self-signed P-256 root issuing a ten-minute leaf with an email SAN, the OIDC issuer extensions
// 1.3.6.1.4.1.57264.1.8 and .1.1 and codeSigning), a Rekor-like log key signing SETs and
// checkpoints, and its trusted_root.json (no CT log: Sigstore's CT log signs precertificates, which
// OpenSSL cannot make, so these signatures are verified with insecureIgnoreSCT; the SCT path is
// tested on the published bundles). It signs images as cosign 3 (a keyless bundle, dsse entry with
// SET, inclusion proof and checkpoint) and cosign 1-2 (a legacy layer with certificate and bundle
// annotations, hashedrekord entry with SET) do; the real cosign verifies both offline
// (CosignCli.CosignAndRampAgreeOnKeylessSignatures). Test code only.

#include <cstdint>
#include <string>

#include "audit/signer.h"

namespace ramp::supply::testing {

class KeylessSigstore {
 public:
  // A CA and log valid from 2020; the leaf is issued at `now` for `subject` by `issuer`, with the
  // extended key usage codeSigning unless `codeSigning` is false (then emailProtection).
  KeylessSigstore(int64_t now, const std::string& subject, const std::string& issuer,
                  bool codeSigning = true);

  std::string trustedRootJson() const;
  std::string leafPem() const { return leafPem_; }

  // A v0.3 bundle: a DSSE cosign/sign/v1 statement of `digest` named `name`, logged at now_.
  std::string bundle(const std::string& name, const std::string& digest) const;

  struct Legacy {
    std::string payload;          // simple-signing payload
    std::string signatureBase64;  // dev.cosignproject.cosign/signature
    std::string certificatePem;   // dev.sigstore.cosign/certificate
    std::string bundleJson;       // dev.sigstore.cosign/bundle
  };
  Legacy legacy(const std::string& reference, const std::string& digest) const;

 private:
  // The SET of an entry of `body` at index `index`, base64.
  std::string set(const std::string& body, int64_t index) const;

  int64_t now_;
  audit::SigningKey caKey_ = *audit::SigningKey::generate();
  audit::SigningKey leafKey_ = *audit::SigningKey::generate();
  audit::SigningKey logKey_ = *audit::SigningKey::generate();
  std::string caDer_;
  std::string leafPem_;
  std::string leafDer_;
};

}  // namespace ramp::supply::testing
