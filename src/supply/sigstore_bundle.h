#pragma once

// The parts of a keyless cosign signature, from either place cosign puts them, decoded into one
// shape for keyless_verify.h:
//
//  - a Sigstore bundle (protobuf JSON; media types
//    application/vnd.dev.sigstore.bundle+json;version=0.1 and 0.2, and
//    application/vnd.dev.sigstore.bundle.v0.3+json): verificationMaterial.certificate or
//    .x509CertificateChain (leaf first), .tlogEntries[]; dsseEnvelope or messageSignature;
//  - a legacy `.sig` layer (cosign 1-2 keyless): the payload's bytes, the signature annotation
//    dev.cosignproject.cosign/signature, dev.sigstore.cosign/certificate (PEM leaf),
//    dev.sigstore.cosign/chain (PEM, optional) and dev.sigstore.cosign/bundle (Rekor's
//    {"SignedEntryTimestamp", "Payload": {body, integratedTime, logIndex, logID}}). The payload
//    is signed over SHA-256 of its bytes, as a hashedrekord entry records it.
//
// Pure decoding, nothing verified. Errors: kParse "sigstore bundle: <field path>: …" (or
// "legacy keyless signature: <annotation>: …").
//
// Thread safety: pure functions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ramp/error.h"
#include "supply/cosign_verify.h"

namespace ramp::supply {

inline constexpr std::string_view kCosignCertificateAnnotation = "dev.sigstore.cosign/certificate";
inline constexpr std::string_view kCosignChainAnnotation = "dev.sigstore.cosign/chain";
inline constexpr std::string_view kCosignBundleAnnotation = "dev.sigstore.cosign/bundle";

// One transparency log entry (Rekor v1's TransparencyLogEntry).
struct TlogEntry {
  int64_t logIndex = 0;
  std::string logId;  // raw bytes of logId.keyId
  std::string kind;   // kindVersion.kind: hashedrekord | dsse | intoto
  std::string version;
  int64_t integratedTime = 0;
  std::string body;  // canonicalizedBody, decoded (Rekor's JSON of the entry)
  std::optional<std::string> signedEntryTimestamp;  // inclusionPromise: DER signature
  struct Proof {
    int64_t logIndex = 0;  // index in the tree the proof is for (a shard's)
    std::string rootHash;  // 32 raw bytes
    int64_t treeSize = 0;
    std::vector<std::string> hashes;  // raw bytes each
    std::string checkpoint;           // the signed note ("" when the bundle has none)
  };
  std::optional<Proof> inclusionProof;
};

struct KeylessBundle {
  std::string mediaType;                  // "" for a legacy signature
  std::vector<std::string> certificates;  // DER, leaf first; empty for a key-based bundle
  bool hasPublicKey = false;              // verificationMaterial.publicKey (key-based)
  enum class Content { kDsse, kMessage };
  Content content = Content::kDsse;
  // kDsse
  std::string payloadType;
  std::string payload;  // decoded
  std::vector<DsseSignature> signatures;
  // kMessage: the signature over SHA-256 `messageDigest` (raw bytes) of the artifact
  std::string messageDigestAlgorithm;  // "SHA2_256"
  std::string messageDigest;
  std::string messageSignature;
  std::string legacyPayload;  // a legacy signature's payload bytes (messageDigest is their hash)
  std::vector<TlogEntry> tlogEntries;
};

// Decodes a Sigstore bundle. Errors: kParse naming the field.
Result<KeylessBundle> parseKeylessBundle(std::string_view json);

// Decodes a legacy keyless signature from its layer's bytes and annotations (`chainPem` and
// `bundleJson` may be empty: the latter then leaves tlogEntries empty). Errors: kParse naming
// the annotation.
Result<KeylessBundle> parseLegacyKeyless(std::string_view payload, std::string_view signatureBase64,
                                         std::string_view certificatePem, std::string_view chainPem,
                                         std::string_view bundleJson);

}  // namespace ramp::supply
