#include "supply/cosign_verify.h"

#include <nlohmann/json.hpp>

#include "audit/dsse.h"
#include "common/base64.h"
#include "supply/oci_reference.h"
#include "supply/verify_errors.h"

namespace ramp::supply {
namespace {

using Json = nlohmann::json;

// The string at `path` (keys) inside `j`, or an error naming the dotted path.
Result<std::string> stringAt(const Json& j, std::initializer_list<const char*> path,
                             std::string_view what) {
  const Json* cur = &j;
  std::string where;
  for (const char* key : path) {
    where += where.empty() ? key : std::string(".") + key;
    if (!cur->is_object()) return parseError(what, where + ": missing (parent is not an object)");
    auto it = cur->find(key);
    if (it == cur->end()) return parseError(what, where + ": missing");
    cur = &*it;
  }
  if (!cur->is_string()) return parseError(what, where + ": not a string");
  return cur->get<std::string>();
}

}  // namespace

std::string_view signatureFormatName(SignatureFormat format) {
  return format == SignatureFormat::kLegacy ? "legacy" : "bundle";
}

Result<SimpleSigningPayload> parseSimpleSigningPayload(std::string_view json) {
  constexpr std::string_view kWhat = "simple-signing payload";
  Json j = Json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return parseError(kWhat, "not a JSON object");
  SimpleSigningPayload p;
  auto digest = stringAt(j, {"critical", "image", "docker-manifest-digest"}, kWhat);
  if (!digest) return std::unexpected(digest.error());
  auto type = stringAt(j, {"critical", "type"}, kWhat);
  if (!type) return std::unexpected(type.error());
  p.manifestDigest = std::move(*digest);
  p.type = std::move(*type);
  if (auto ref = stringAt(j, {"critical", "identity", "docker-reference"}, kWhat)) {
    p.dockerReference = std::move(*ref);
  }
  return p;
}

Result<InTotoStatement> parseInTotoStatement(std::string_view json) {
  constexpr std::string_view kWhat = "in-toto statement";
  Json j = Json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return parseError(kWhat, "not a JSON object");
  InTotoStatement s;
  auto type = stringAt(j, {"_type"}, kWhat);
  if (!type) return std::unexpected(type.error());
  auto predicate = stringAt(j, {"predicateType"}, kWhat);
  if (!predicate) return std::unexpected(predicate.error());
  s.type = std::move(*type);
  s.predicateType = std::move(*predicate);
  auto subjects = j.find("subject");
  if (subjects == j.end() || !subjects->is_array()) {
    return parseError(kWhat, "subject: missing or not a list");
  }
  for (size_t i = 0; i < subjects->size(); ++i) {
    const Json& e = (*subjects)[i];
    std::string where = "subject[" + std::to_string(i) + "]";
    if (!e.is_object()) return parseError(kWhat, where + ": not an object");
    InTotoStatement::Subject sub;
    if (auto n = e.find("name"); n != e.end()) {
      if (!n->is_string()) return parseError(kWhat, where + ".name: not a string");
      sub.name = n->get<std::string>();
    }
    auto digest = e.find("digest");
    if (digest == e.end() || !digest->is_object()) {
      return parseError(kWhat, where + ".digest: missing or not an object");
    }
    if (auto h = digest->find("sha256"); h != digest->end()) {
      if (!h->is_string()) return parseError(kWhat, where + ".digest.sha256: not a string");
      sub.sha256 = h->get<std::string>();
    }
    s.subjects.push_back(std::move(sub));
  }
  return s;
}

Result<SigstoreBundle> parseSigstoreBundle(std::string_view json) {
  constexpr std::string_view kWhat = "sigstore bundle";
  Json j = Json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return parseError(kWhat, "not a JSON object");
  SigstoreBundle b;
  auto media = stringAt(j, {"mediaType"}, kWhat);
  if (!media) return std::unexpected(media.error());
  b.mediaType = std::move(*media);
  auto material = j.find("verificationMaterial");
  if (material == j.end() || !material->is_object()) {
    return parseError(kWhat, "verificationMaterial: missing or not an object");
  }
  if (material->contains("publicKey")) {
    if (auto hint = stringAt(*material, {"publicKey", "hint"}, kWhat)) b.publicKeyHint = *hint;
  }
  b.hasCertificate =
      material->contains("certificate") || material->contains("x509CertificateChain");
  if (auto t = material->find("tlogEntries"); t != material->end() && t->is_array()) {
    b.tlogEntries = t->size();
  }
  b.hasMessageSignature = j.contains("messageSignature");
  auto envelope = j.find("dsseEnvelope");
  if (envelope == j.end()) {
    if (b.hasMessageSignature) return b;
    return parseError(kWhat, "neither dsseEnvelope nor messageSignature");
  }
  // The envelope is DSSE's JSON: audit/dsse.h decodes it (base64 payload and signatures).
  auto e = audit::decodeEnvelope(envelope->dump());
  if (!e) return parseError(kWhat, "dsseEnvelope: " + e.error().message);
  b.payloadType = std::move(e->payloadType);
  b.payload = std::move(e->payload);
  for (audit::DsseSignature& s : e->signatures) {
    b.signatures.push_back(DsseSignature{std::move(s.keyId), std::move(s.sig)});
  }
  return b;
}

Result<std::string> checkSimpleSigningPayload(std::string_view payload,
                                              std::string_view imageDigest) {
  auto p = parseSimpleSigningPayload(payload);
  if (!p) return std::unexpected(p.error());
  if (p->type != kCosignSignatureType) {
    return failed("wrong type: payload critical.type is \"" + p->type + "\", not \"" +
                  std::string(kCosignSignatureType) + "\"");
  }
  if (p->manifestDigest != imageDigest) {
    return failed("digest mismatch: the signature is for " + p->manifestDigest + ", the image is " +
                  std::string(imageDigest));
  }
  return p->dockerReference;
}

Result<InTotoStatement> parseInTotoPayload(std::string_view payloadType, std::string_view payload) {
  if (payloadType != kInTotoPayloadType) {
    return failed("wrong type: envelope payloadType \"" + std::string(payloadType) + "\", not \"" +
                  std::string(kInTotoPayloadType) + "\"");
  }
  auto st = parseInTotoStatement(payload);
  if (!st) return std::unexpected(st.error());
  if (!st->type.starts_with("https://in-toto.io/Statement/")) {
    return failed("wrong type: statement _type \"" + st->type + "\"");
  }
  return st;
}

Result<std::string> checkCosignStatement(std::string_view payloadType, std::string_view payload,
                                         std::string_view imageDigest) {
  auto st = parseInTotoPayload(payloadType, payload);
  if (!st) return std::unexpected(st.error());
  if (st->predicateType != kCosignSignPredicateType) {
    return failed("wrong type: predicateType \"" + st->predicateType + "\" is not a signature (" +
                  std::string(kCosignSignPredicateType) + ")");
  }
  std::string_view hex = imageDigest.substr(7);
  for (const InTotoStatement::Subject& s : st->subjects) {
    if (s.sha256 == hex) return s.name;
  }
  std::string named = st->subjects.empty() ? "no subject" : "sha256:" + st->subjects[0].sha256;
  return failed("digest mismatch: the statement's subject is " + named + ", the image is " +
                std::string(imageDigest));
}

Result<VerifiedSignature> verifyLegacySignature(std::string_view payload,
                                                std::string_view signatureBase64,
                                                std::string_view imageDigest,
                                                const audit::VerifyingKey& key) {
  if (auto ok = validateDigest(imageDigest); !ok) return std::unexpected(ok.error());
  auto sig = decodeBase64(signatureBase64);
  if (!sig || sig->empty()) {
    return parseError("legacy signature",
                      std::string(kCosignSignatureAnnotation) + ": missing or not base64");
  }
  if (!key.verify(payload, *sig)) {
    return failed("bad signature: the simple-signing payload is not signed by key " +
                  key.keyId().substr(0, 16));
  }
  auto reference = checkSimpleSigningPayload(payload, imageDigest);
  if (!reference) return std::unexpected(reference.error());
  return VerifiedSignature{
      SignatureFormat::kLegacy, std::string(imageDigest), key.keyId(), *reference, "", ""};
}

Result<VerifiedEnvelope> verifyBundleEnvelope(std::string_view bundleJson,
                                              const audit::VerifyingKey& key) {
  auto b = parseSigstoreBundle(bundleJson);
  if (!b) return std::unexpected(b.error());
  if (!b->mediaType.starts_with("application/vnd.dev.sigstore.bundle")) {
    return failed("wrong type: bundle mediaType \"" + b->mediaType + "\"");
  }
  if (b->hasCertificate) {
    return makeError(ErrorCode::kUnsupported,
                     "unsupported: keyless (certificate) bundles are verified by a keyless "
                     "authority (keyless.identities and a trusted root), not by a key");
  }
  if (b->signatures.empty()) {
    if (b->hasMessageSignature) {
      return makeError(ErrorCode::kUnsupported,
                       "unsupported: message-signature bundles (cosign sign-blob); image "
                       "signatures are DSSE envelopes");
    }
    return failed("bad signature: the bundle's envelope has no signatures");
  }
  std::string signedBytes = audit::pae(b->payloadType, b->payload);
  bool verified = false;
  for (const DsseSignature& s : b->signatures) {
    if (key.verify(signedBytes, s.sig)) {
      verified = true;
      break;
    }
  }
  if (!verified) {
    return failed("bad signature: none of the envelope's " + std::to_string(b->signatures.size()) +
                  " signature(s) is by key " + key.keyId().substr(0, 16));
  }
  return VerifiedEnvelope{std::move(b->payloadType), std::move(b->payload), key.keyId(), "", ""};
}

Result<VerifiedSignature> verifyBundle(std::string_view bundleJson, std::string_view imageDigest,
                                       const audit::VerifyingKey& key) {
  if (auto ok = validateDigest(imageDigest); !ok) return std::unexpected(ok.error());
  auto e = verifyBundleEnvelope(bundleJson, key);
  if (!e) return std::unexpected(e.error());
  auto name = checkCosignStatement(e->payloadType, e->payload, imageDigest);
  if (!name) return std::unexpected(name.error());
  return VerifiedSignature{
      SignatureFormat::kBundle, std::string(imageDigest), key.keyId(), *name, "", ""};
}

}  // namespace ramp::supply
