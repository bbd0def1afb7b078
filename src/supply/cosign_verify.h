#pragma once

// Offline verification of cosign signatures with a public key (cosign.pub), OpenSSL only: no
// transparency log, no TUF, no network. Both formats cosign writes:
//
//  - legacy ("simple signing", cosign 1-2): a manifest at tag `sha256-<hex>.sig` whose layers are
//    simple-signing payloads {"critical":{"identity":{"docker-reference":…},"image":
//    {"docker-manifest-digest":…},"type":"cosign container image signature"},"optional":…},
//    each with annotation dev.cosignproject.cosign/signature = base64 DER ECDSA P-256 over
//    SHA-256(payload bytes);
//  - Sigstore bundle v0.3 (cosign 3's default): a referrer of the image with artifactType
//    application/vnd.dev.sigstore.bundle.v0.3+json whose layer is the bundle JSON; its
//    dsseEnvelope carries an in-toto Statement (predicateType
//    https://sigstore.dev/cosign/sign/v1) whose subject names the image digest, signed over
//    DSSE's PAE.
//
// Pure functions over bytes: (payload or bundle, signature, key, image digest) -> the verified
// signature, or an Error whose message starts with what failed: "bad signature", "digest
// mismatch", "wrong type", "unsupported" (keyless bundles, message signatures), or kParse for
// malformed input. The signature is checked before anything in the payload is believed.
//
// Thread safety: pure functions.

#include <string>
#include <string_view>
#include <vector>

#include "audit/signer.h"
#include "ramp/error.h"

namespace ramp::supply {

inline constexpr std::string_view kSimpleSigningMediaType =
    "application/vnd.dev.cosign.simplesigning.v1+json";
inline constexpr std::string_view kCosignSignatureAnnotation = "dev.cosignproject.cosign/signature";
inline constexpr std::string_view kCosignSignatureType = "cosign container image signature";
inline constexpr std::string_view kSigstoreBundleMediaType =
    "application/vnd.dev.sigstore.bundle.v0.3+json";
inline constexpr std::string_view kCosignSignPredicateType = "https://sigstore.dev/cosign/sign/v1";
inline constexpr std::string_view kInTotoPayloadType = "application/vnd.in-toto+json";

enum class SignatureFormat { kLegacy, kBundle };
// "legacy" or "bundle" (the values of a ClusterImagePolicy authority's signatureFormat).
std::string_view signatureFormatName(SignatureFormat format);

struct SimpleSigningPayload {
  std::string dockerReference;  // informational: cosign's spec says not to check it
  std::string manifestDigest;   // critical.image.docker-manifest-digest
  std::string type;             // critical.type
};

// Decodes a simple-signing payload. Errors: kParse naming the missing or mistyped field.
Result<SimpleSigningPayload> parseSimpleSigningPayload(std::string_view json);

struct InTotoStatement {
  std::string type;           // _type
  std::string predicateType;  // e.g. https://sigstore.dev/cosign/sign/v1
  struct Subject {
    std::string name;
    std::string sha256;  // hex, "" when the subject has no sha256 digest
  };
  std::vector<Subject> subjects;
};

// Decodes an in-toto Statement (v0.1 or v1). Errors: kParse naming the field.
Result<InTotoStatement> parseInTotoStatement(std::string_view json);

struct DsseSignature {
  std::string keyId;
  std::string sig;  // raw bytes (DER ECDSA)
};

struct SigstoreBundle {
  std::string mediaType;
  std::string publicKeyHint;    // verificationMaterial.publicKey.hint ("" when none)
  bool hasCertificate = false;  // keyless: certificate or x509CertificateChain
  bool hasMessageSignature = false;
  std::string payloadType;  // dsseEnvelope.payloadType
  std::string payload;      // dsseEnvelope.payload, decoded
  std::vector<DsseSignature> signatures;
  size_t tlogEntries = 0;  // present but not used: verification is key-based and offline
};

// Decodes a Sigstore bundle (v0.1-v0.3 media types) in its protobuf JSON form. Errors: kParse
// naming the field.
Result<SigstoreBundle> parseSigstoreBundle(std::string_view json);

struct VerifiedSignature {
  SignatureFormat format = SignatureFormat::kLegacy;
  std::string digest;    // the image digest the signature binds ("sha256:<hex>")
  std::string keyId;     // hex SHA-256 of the verifying key's DER (audit::VerifyingKey::keyId)
  std::string identity;  // docker-reference (legacy) or the statement subject's name (bundle)
  std::string subject;   // keyless: the certificate's subject (SAN); "" with a key
  std::string issuer;    // keyless: the certificate's OIDC issuer
  bool operator==(const VerifiedSignature&) const = default;
};

// A bundle's DSSE envelope whose signature verified, by a key or a keyless identity: its payload
// may now be believed (checkCosignStatement for a signature, attestation.h for an attestation).
struct VerifiedEnvelope {
  std::string payloadType;
  std::string payload;
  std::string keyId;    // key-based: hex SHA-256 of the key's DER; "" keyless
  std::string subject;  // keyless: the certificate's subject (SAN) and OIDC issuer
  std::string issuer;
};

// Checks a simple-signing payload whose signature verified: cosign's type, and
// docker-manifest-digest equal to `imageDigest`. Returns its docker-reference. Errors:
// kFailedPrecondition "wrong type: …", "digest mismatch: …"; kParse for a malformed payload.
Result<std::string> checkSimpleSigningPayload(std::string_view payload,
                                              std::string_view imageDigest);

// Decodes a DSSE payload whose signature verified as an in-toto statement: payload type
// application/vnd.in-toto+json and a statement _type of in-toto's. Errors: kFailedPrecondition
// "wrong type: …" (payload or statement type); kParse for a malformed statement.
Result<InTotoStatement> parseInTotoPayload(std::string_view payloadType, std::string_view payload);

// Checks a DSSE payload whose signature verified: an in-toto statement of predicate type
// cosign/sign/v1 with a subject whose sha256 is `imageDigest`'s. Returns that subject's name.
// Errors: kFailedPrecondition "wrong type: …" (payload, statement or predicate type), "digest
// mismatch: …"; kParse for a malformed statement.
Result<std::string> checkCosignStatement(std::string_view payloadType, std::string_view payload,
                                         std::string_view imageDigest);

// Verifies a legacy signature: `signatureBase64` (the layer's cosign signature annotation) over
// `payload` (the layer's bytes) by `key`, then that the payload's type is cosign's and its
// docker-manifest-digest is `imageDigest`. Errors: kFailedPrecondition "bad signature: …",
// "wrong type: …", "digest mismatch: …"; kParse for bad base64 or a malformed payload.
Result<VerifiedSignature> verifyLegacySignature(std::string_view payload,
                                                std::string_view signatureBase64,
                                                std::string_view imageDigest,
                                                const audit::VerifyingKey& key);

// Verifies a bundle: a key-based DSSE bundle whose envelope is signed by `key` (any of its
// signatures) and carries an in-toto statement of predicate type cosign/sign/v1 with a subject
// whose sha256 is `imageDigest`'s. Errors: kFailedPrecondition "bad signature: …", "wrong type:
// …" (media type, payload type, statement or predicate type), "digest mismatch: …";
// kUnsupported "unsupported: …" for keyless (certificate) bundles and message-signature bundles;
// kParse for malformed JSON.
Result<VerifiedSignature> verifyBundle(std::string_view bundleJson, std::string_view imageDigest,
                                       const audit::VerifyingKey& key);

// The signature part of verifyBundle: a key-based DSSE bundle whose envelope is signed by `key`.
// Nothing of the payload is checked. Errors: as verifyBundle's "bad signature", "wrong type"
// (media type), "unsupported" and kParse.
Result<VerifiedEnvelope> verifyBundleEnvelope(std::string_view bundleJson,
                                              const audit::VerifyingKey& key);

}  // namespace ramp::supply
