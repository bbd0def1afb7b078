#pragma once

// Signatures made in the tests exactly as cosign documents and writes them (cosign's
// specs/SIGNATURE_SPEC.md and BUNDLE_SPEC.md), with OpenSSL (audit::SigningKey: ECDSA P-256,
// DER, over SHA-256): the simple-signing payload and its base64 signature, and a v0.3 bundle
// around a DSSE envelope of an in-toto statement. Test code only.

#include <string>

#include "audit/dsse.h"
#include "audit/signer.h"
#include "common/base64.h"

namespace ramp::supply::testing {

// The payload bytes cosign signs for an image (key order and spacing as cosign writes them).
inline std::string simpleSigningPayload(
    const std::string& dockerReference, const std::string& digest,
    const std::string& type = "cosign container image signature") {
  return R"({"critical":{"identity":{"docker-reference":")" + dockerReference +
         R"("},"image":{"docker-manifest-digest":")" + digest + R"("},"type":")" + type +
         R"("},"optional":null})";
}

inline std::string signBase64(const audit::SigningKey& key, const std::string& bytes) {
  return encodeBase64(*key.sign(bytes));
}

// cosign 3's statement for `cosign sign`: in-toto v1, predicate cosign/sign/v1, empty predicate.
inline std::string signStatement(
    const std::string& name, const std::string& digest,
    const std::string& predicateType = "https://sigstore.dev/cosign/sign/v1") {
  return R"({"_type":"https://in-toto.io/Statement/v1","subject":[{"name":")" + name +
         R"(","digest":{"sha256":")" + digest.substr(7) + R"("}}],"predicateType":")" +
         predicateType + R"(","predicate":{}})";
}

// A v0.3 bundle whose DSSE envelope carries `statement` signed by `key`.
inline std::string bundleJson(const audit::SigningKey& key, const std::string& statement,
                              const std::string& payloadType = "application/vnd.in-toto+json",
                              const std::string& material = "") {
  std::string sig = signBase64(key, audit::pae(payloadType, statement));
  std::string vm = material.empty() ? R"({"publicKey":{"hint":")" + key.publicKey().keyId() +
                                          R"("},"tlogEntries":[]})"
                                    : material;
  return R"({"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":)" +
         vm + R"(,"dsseEnvelope":{"payload":")" + encodeBase64(statement) + R"(","payloadType":")" +
         payloadType + R"(","signatures":[{"sig":")" + sig + R"(","keyid":""}]}})";
}

}  // namespace ramp::supply::testing
