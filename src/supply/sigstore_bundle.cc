#include "supply/sigstore_bundle.h"

#include <charconv>
#include <nlohmann/json.hpp>

#include "audit/merkle.h"
#include "common/base64.h"
#include "supply/sigstore_crypto.h"

namespace ramp::supply {
namespace {

using Json = nlohmann::json;

// Decoding of one document, naming what it is in every error.
struct Reader {
  std::string what;

  std::unexpected<Error> bad(const std::string& path, const std::string& why) const {
    return makeError(ErrorCode::kParse, what + ": " + path + ": " + why);
  }
  static std::string join(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
  }
  Result<const Json*> object(const Json& j, std::string_view key, const std::string& path) const {
    auto it = j.find(key);
    if (it == j.end()) return bad(join(path, key), "missing");
    if (!it->is_object()) return bad(join(path, key), "not an object");
    return &*it;
  }
  Result<std::string> string(const Json& j, std::string_view key, const std::string& path) const {
    auto it = j.find(key);
    if (it == j.end()) return bad(join(path, key), "missing");
    if (!it->is_string()) return bad(join(path, key), "not a string");
    return it->get<std::string>();
  }
  Result<std::string> bytes(const Json& j, std::string_view key, const std::string& path) const {
    auto s = string(j, key, path);
    if (!s) return std::unexpected(s.error());
    auto b = decodeBase64(*s);
    if (!b) return bad(join(path, key), "not base64");
    return *b;
  }
  // An int64 as protobuf JSON writes it (a decimal string) or a JSON number.
  Result<int64_t> int64(const Json& j, std::string_view key, const std::string& path) const {
    auto it = j.find(key);
    if (it == j.end()) return bad(join(path, key), "missing");
    if (it->is_number_integer()) return it->get<int64_t>();
    if (it->is_string()) {
      const std::string& s = it->get_ref<const std::string&>();
      int64_t v = 0;
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec == std::errc() && p == s.data() + s.size() && !s.empty()) return v;
    }
    return bad(join(path, key), "not an integer");
  }
};

// Whether `key` is in `j` with a value (protobuf JSON may write an absent message as null).
bool present(const Json& j, std::string_view key) {
  auto it = j.find(key);
  return it != j.end() && !it->is_null();
}

Result<TlogEntry> tlogEntry(const Reader& r, const Json& e, const std::string& path) {
  if (!e.is_object()) return r.bad(path, "not an object");
  TlogEntry t;
  auto index = r.int64(e, "logIndex", path);
  if (!index) return std::unexpected(index.error());
  t.logIndex = *index;
  auto logId = r.object(e, "logId", path);
  if (!logId) return std::unexpected(logId.error());
  auto keyId = r.bytes(**logId, "keyId", path + ".logId");
  if (!keyId) return std::unexpected(keyId.error());
  t.logId = *keyId;
  auto kv = r.object(e, "kindVersion", path);
  if (!kv) return std::unexpected(kv.error());
  auto kind = r.string(**kv, "kind", path + ".kindVersion");
  if (!kind) return std::unexpected(kind.error());
  auto version = r.string(**kv, "version", path + ".kindVersion");
  if (!version) return std::unexpected(version.error());
  t.kind = *kind;
  t.version = *version;
  if (present(e, "integratedTime")) {
    auto it = r.int64(e, "integratedTime", path);
    if (!it) return std::unexpected(it.error());
    t.integratedTime = *it;
  }
  auto body = r.bytes(e, "canonicalizedBody", path);
  if (!body) return std::unexpected(body.error());
  t.body = *body;
  if (present(e, "inclusionPromise")) {
    auto promise = r.object(e, "inclusionPromise", path);
    if (!promise) return std::unexpected(promise.error());
    auto set = r.bytes(**promise, "signedEntryTimestamp", path + ".inclusionPromise");
    if (!set) return std::unexpected(set.error());
    t.signedEntryTimestamp = *set;
  }
  if (present(e, "inclusionProof")) {
    std::string pp = path + ".inclusionProof";
    auto proof = r.object(e, "inclusionProof", path);
    if (!proof) return std::unexpected(proof.error());
    TlogEntry::Proof p;
    auto pi = r.int64(**proof, "logIndex", pp);
    if (!pi) return std::unexpected(pi.error());
    p.logIndex = *pi;
    auto root = r.bytes(**proof, "rootHash", pp);
    if (!root) return std::unexpected(root.error());
    p.rootHash = *root;
    auto size = r.int64(**proof, "treeSize", pp);
    if (!size) return std::unexpected(size.error());
    p.treeSize = *size;
    auto hashes = (*proof)->find("hashes");
    if (hashes != (*proof)->end()) {
      if (!hashes->is_array()) return r.bad(pp + ".hashes", "not a list");
      for (size_t i = 0; i < hashes->size(); ++i) {
        std::string hp = pp + ".hashes[" + std::to_string(i) + "]";
        if (!(*hashes)[i].is_string()) return r.bad(hp, "not a string");
        auto h = decodeBase64((*hashes)[i].get<std::string>());
        if (!h) return r.bad(hp, "not base64");
        p.hashes.push_back(*h);
      }
    }
    if (present(**proof, "checkpoint")) {
      auto cp = r.object(**proof, "checkpoint", pp);
      if (!cp) return std::unexpected(cp.error());
      auto envelope = r.string(**cp, "envelope", pp + ".checkpoint");
      if (!envelope) return std::unexpected(envelope.error());
      p.checkpoint = *envelope;
    }
    t.inclusionProof = std::move(p);
  }
  return t;
}

Result<std::vector<std::string>> certificatesOf(const Reader& r, const Json& material) {
  std::vector<std::string> out;
  const std::string path = "verificationMaterial";
  if (present(material, "certificate")) {
    auto c = r.object(material, "certificate", path);
    if (!c) return std::unexpected(c.error());
    auto der = r.bytes(**c, "rawBytes", path + ".certificate");
    if (!der) return std::unexpected(der.error());
    out.push_back(*der);
  } else if (present(material, "x509CertificateChain")) {
    std::string cp = path + ".x509CertificateChain";
    auto chain = r.object(material, "x509CertificateChain", path);
    if (!chain) return std::unexpected(chain.error());
    auto certs = (*chain)->find("certificates");
    if (certs == (*chain)->end() || !certs->is_array() || certs->empty()) {
      return r.bad(cp + ".certificates", "missing or empty");
    }
    for (size_t i = 0; i < certs->size(); ++i) {
      std::string ip = cp + ".certificates[" + std::to_string(i) + "]";
      if (!(*certs)[i].is_object()) return r.bad(ip, "not an object");
      auto der = r.bytes((*certs)[i], "rawBytes", ip);
      if (!der) return std::unexpected(der.error());
      out.push_back(*der);
    }
  }
  return out;
}

}  // namespace

Result<KeylessBundle> parseKeylessBundle(std::string_view json) {
  const Reader r{"sigstore bundle"};
  Json j = Json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return r.bad("(document)", "not a JSON object");
  KeylessBundle b;
  auto media = r.string(j, "mediaType", "");
  if (!media) return std::unexpected(media.error());
  b.mediaType = *media;
  auto material = r.object(j, "verificationMaterial", "");
  if (!material) return std::unexpected(material.error());
  auto certs = certificatesOf(r, **material);
  if (!certs) return std::unexpected(certs.error());
  b.certificates = std::move(*certs);
  b.hasPublicKey = present(**material, "publicKey");
  if (auto t = (*material)->find("tlogEntries"); t != (*material)->end()) {
    if (!t->is_array()) return r.bad("verificationMaterial.tlogEntries", "not a list");
    for (size_t i = 0; i < t->size(); ++i) {
      auto e = tlogEntry(r, (*t)[i], "verificationMaterial.tlogEntries[" + std::to_string(i) + "]");
      if (!e) return std::unexpected(e.error());
      b.tlogEntries.push_back(std::move(*e));
    }
  }
  if (present(j, "dsseEnvelope")) {
    auto env = r.object(j, "dsseEnvelope", "");
    if (!env) return std::unexpected(env.error());
    b.content = KeylessBundle::Content::kDsse;
    auto type = r.string(**env, "payloadType", "dsseEnvelope");
    if (!type) return std::unexpected(type.error());
    b.payloadType = *type;
    auto payload = r.bytes(**env, "payload", "dsseEnvelope");
    if (!payload) return std::unexpected(payload.error());
    b.payload = *payload;
    auto sigs = (*env)->find("signatures");
    if (sigs == (*env)->end() || !sigs->is_array()) {
      return r.bad("dsseEnvelope.signatures", "missing or not a list");
    }
    for (size_t i = 0; i < sigs->size(); ++i) {
      std::string sp = "dsseEnvelope.signatures[" + std::to_string(i) + "]";
      if (!(*sigs)[i].is_object()) return r.bad(sp, "not an object");
      auto sig = r.bytes((*sigs)[i], "sig", sp);
      if (!sig) return std::unexpected(sig.error());
      const Json& keyId = (*sigs)[i].contains("keyid") ? (*sigs)[i]["keyid"] : Json();
      DsseSignature s{keyId.is_string() ? keyId.get<std::string>() : "", *sig};
      b.signatures.push_back(std::move(s));
    }
  } else if (present(j, "messageSignature")) {
    auto ms = r.object(j, "messageSignature", "");
    if (!ms) return std::unexpected(ms.error());
    b.content = KeylessBundle::Content::kMessage;
    auto md = r.object(**ms, "messageDigest", "messageSignature");
    if (!md) return std::unexpected(md.error());
    auto algorithm = r.string(**md, "algorithm", "messageSignature.messageDigest");
    if (!algorithm) return std::unexpected(algorithm.error());
    b.messageDigestAlgorithm = *algorithm;
    auto digest = r.bytes(**md, "digest", "messageSignature.messageDigest");
    if (!digest) return std::unexpected(digest.error());
    b.messageDigest = *digest;
    auto sig = r.bytes(**ms, "signature", "messageSignature");
    if (!sig) return std::unexpected(sig.error());
    b.messageSignature = *sig;
  } else {
    return r.bad("(document)", "neither dsseEnvelope nor messageSignature");
  }
  return b;
}

Result<KeylessBundle> parseLegacyKeyless(std::string_view payload, std::string_view signatureBase64,
                                         std::string_view certificatePem, std::string_view chainPem,
                                         std::string_view bundleJson) {
  const Reader r{"legacy keyless signature"};
  KeylessBundle b;
  b.content = KeylessBundle::Content::kMessage;
  b.legacyPayload = std::string(payload);
  b.messageDigestAlgorithm = "SHA2_256";
  b.messageDigest = sha256Bytes(payload);
  auto sig = decodeBase64(signatureBase64);
  if (!sig || sig->empty()) {
    return r.bad(std::string(kCosignSignatureAnnotation), "missing or not base64");
  }
  b.messageSignature = *sig;
  auto leaf = Certificate::fromPem(certificatePem);
  if (!leaf) return r.bad(std::string(kCosignCertificateAnnotation), leaf.error().message);
  b.certificates.push_back(leaf->der());
  if (!chainPem.empty()) {
    auto chain = Certificate::allFromPem(chainPem);
    if (!chain) return r.bad(std::string(kCosignChainAnnotation), chain.error().message);
    for (const Certificate& c : *chain) b.certificates.push_back(c.der());
  }
  if (bundleJson.empty()) return b;
  const std::string where(kCosignBundleAnnotation);
  Json j = Json::parse(bundleJson, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return r.bad(where, "not a JSON object");
  TlogEntry t;
  auto set = r.bytes(j, "SignedEntryTimestamp", where);
  if (!set) return std::unexpected(set.error());
  t.signedEntryTimestamp = *set;
  auto p = r.object(j, "Payload", where);
  if (!p) return std::unexpected(p.error());
  std::string pp = where + ".Payload";
  auto body = r.bytes(**p, "body", pp);
  if (!body) return std::unexpected(body.error());
  t.body = *body;
  auto time = r.int64(**p, "integratedTime", pp);
  if (!time) return std::unexpected(time.error());
  t.integratedTime = *time;
  auto index = r.int64(**p, "logIndex", pp);
  if (!index) return std::unexpected(index.error());
  t.logIndex = *index;
  auto logId = r.string(**p, "logID", pp);
  if (!logId) return std::unexpected(logId.error());
  auto rawId = audit::fromHex(*logId);  // a log id is a SHA-256
  if (!rawId) return r.bad(pp + ".logID", "not 64 hex digits");
  t.logId.assign(rawId->begin(), rawId->end());
  Json bj = Json::parse(t.body, nullptr, false);
  if (bj.is_discarded() || !bj.is_object() || !bj.contains("kind") || !bj["kind"].is_string() ||
      !bj.contains("apiVersion") || !bj["apiVersion"].is_string()) {
    return r.bad(pp + ".body", "not a Rekor entry (kind, apiVersion)");
  }
  t.kind = bj["kind"].get<std::string>();
  t.version = bj["apiVersion"].get<std::string>();
  b.tlogEntries.push_back(std::move(t));
  return b;
}

}  // namespace ramp::supply
