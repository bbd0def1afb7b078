#include "supply/keyless_fixtures.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <nlohmann/json.hpp>

#include "audit/checkpoint.h"
#include "audit/dsse.h"
#include "audit/merkle.h"
#include "common/base64.h"
#include "supply/cosign_fixtures.h"

namespace ramp::supply::testing {
namespace {

using Json = nlohmann::json;

EVP_PKEY* privateKey(const audit::SigningKey& k) {
  std::string pem = k.privatePem();
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return key;
}

EVP_PKEY* publicKey(const audit::SigningKey& k) {
  std::string pem = k.publicKey().pem();
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return key;
}

void addExtension(X509* cert, X509* issuer, const char* name, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_nconf(nullptr, &ctx, name, value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

std::string der(X509* cert) {
  unsigned char* buf = nullptr;
  int n = i2d_X509(cert, &buf);
  std::string out(reinterpret_cast<char*>(buf), static_cast<size_t>(n));
  OPENSSL_free(buf);
  return out;
}

std::string pem(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

std::string hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::string logId(const audit::SigningKey& k) {
  audit::Hash h = audit::sha256(k.publicKey().der());
  return std::string(reinterpret_cast<const char*>(h.data()), h.size());
}

}  // namespace

KeylessSigstore::KeylessSigstore(int64_t now, const std::string& subject, const std::string& issuer,
                                 bool codeSigning)
    : now_(now) {
  EVP_PKEY* caPriv = privateKey(caKey_);
  EVP_PKEY* caPub = publicKey(caKey_);
  EVP_PKEY* leafPub = publicKey(leafKey_);

  X509* ca = X509_new();
  X509_set_version(ca, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(ca), 1);
  ASN1_TIME_set(X509_getm_notBefore(ca), 1577836800);  // 2020-01-01
  ASN1_TIME_set(X509_getm_notAfter(ca), 4102444800);   // 2100-01-01
  X509_NAME* name = X509_get_subject_name(ca);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("ramp-test"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("ramp test fulcio"), -1, -1, 0);
  X509_set_issuer_name(ca, name);
  X509_set_pubkey(ca, caPub);
  addExtension(ca, ca, "basicConstraints", "critical,CA:TRUE");
  addExtension(ca, ca, "keyUsage", "critical,keyCertSign,cRLSign");
  addExtension(ca, ca, "subjectKeyIdentifier", "hash");
  X509_sign(ca, caPriv, EVP_sha256());
  caDer_ = der(ca);

  X509* leaf = X509_new();
  X509_set_version(leaf, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(leaf), 2);
  ASN1_TIME_set(X509_getm_notBefore(leaf), static_cast<time_t>(now - 5));
  ASN1_TIME_set(X509_getm_notAfter(leaf), static_cast<time_t>(now + 600));
  X509_set_issuer_name(leaf, name);
  X509_set_pubkey(leaf, leafPub);
  addExtension(leaf, ca, "keyUsage", "critical,digitalSignature");
  addExtension(leaf, ca, "extendedKeyUsage", codeSigning ? "codeSigning" : "emailProtection");
  addExtension(leaf, ca, "subjectAltName", ("critical,email:" + subject).c_str());
  addExtension(leaf, ca, "authorityKeyIdentifier", "keyid");
  addExtension(leaf, ca, "1.3.6.1.4.1.57264.1.8", ("ASN1:UTF8String:" + issuer).c_str());
  // Fulcio also writes the older issuer extension, its value the string's raw bytes.
  addExtension(leaf, ca, "1.3.6.1.4.1.57264.1.1", ("DER:" + hex(issuer)).c_str());
  X509_sign(leaf, caPriv, EVP_sha256());
  leafDer_ = der(leaf);
  leafPem_ = pem(leaf);

  X509_free(leaf);
  X509_free(ca);
  EVP_PKEY_free(leafPub);
  EVP_PKEY_free(caPub);
  EVP_PKEY_free(caPriv);
}

std::string KeylessSigstore::trustedRootJson() const {
  Json root;
  root["mediaType"] = "application/vnd.dev.sigstore.trustedroot+json;version=0.1";
  Json log;
  log["baseUrl"] = "https://rekor.ramp.test";
  log["hashAlgorithm"] = "SHA2_256";
  log["publicKey"] = {{"rawBytes", encodeBase64(logKey_.publicKey().der())},
                      {"keyDetails", "PKIX_ECDSA_P256_SHA_256"},
                      {"validFor", {{"start", "2020-01-01T00:00:00Z"}}}};
  log["logId"] = {{"keyId", encodeBase64(logId(logKey_))}};
  root["tlogs"] = Json::array({log});
  Json ca;
  ca["subject"] = {{"organization", "ramp-test"}, {"commonName", "ramp test fulcio"}};
  ca["uri"] = "https://fulcio.ramp.test";
  ca["certChain"] = {{"certificates", Json::array({{{"rawBytes", encodeBase64(caDer_)}}})}};
  ca["validFor"] = {{"start", "2020-01-01T00:00:00Z"}};
  root["certificateAuthorities"] = Json::array({ca});
  root["ctlogs"] = Json::array();
  return root.dump();
}

std::string KeylessSigstore::set(const std::string& body, int64_t index) const {
  Json p;
  p["body"] = encodeBase64(body);
  p["integratedTime"] = now_;
  p["logID"] = hex(logId(logKey_));
  p["logIndex"] = index;
  return encodeBase64(*logKey_.sign(p.dump()));
}

std::string KeylessSigstore::bundle(const std::string& name, const std::string& digest) const {
  const std::string statement = signStatement(name, digest);
  const std::string type = "application/vnd.in-toto+json";
  const std::string sig = *leafKey_.sign(audit::pae(type, statement));
  Json body;
  body["apiVersion"] = "0.0.1";
  body["kind"] = "dsse";
  body["spec"] = {
      {"envelopeHash", {{"algorithm", "sha256"}, {"value", std::string(64, '0')}}},
      {"payloadHash", {{"algorithm", "sha256"}, {"value", audit::toHex(audit::sha256(statement))}}},
      {"signatures",
       Json::array({{{"signature", encodeBase64(sig)}, {"verifier", encodeBase64(leafPem_)}}})}};
  const std::string bodyText = body.dump();
  // A log of one entry: the root is the leaf hash, the proof is empty.
  audit::Hash root = audit::leafHash(bodyText);
  audit::Checkpoint cp{"rekor.ramp.test - 1", 1, root};
  std::string note = *audit::signCheckpoint(cp, "rekor.ramp.test", logKey_);
  Json entry;
  entry["logIndex"] = "0";
  entry["logId"] = {{"keyId", encodeBase64(logId(logKey_))}};
  entry["kindVersion"] = {{"kind", "dsse"}, {"version", "0.0.1"}};
  entry["integratedTime"] = std::to_string(now_);
  entry["inclusionPromise"] = {{"signedEntryTimestamp", set(bodyText, 0)}};
  entry["inclusionProof"] = {
      {"logIndex", "0"},
      {"rootHash", encodeBase64(std::string(reinterpret_cast<const char*>(root.data()), 32))},
      {"treeSize", "1"},
      {"hashes", Json::array()},
      {"checkpoint", {{"envelope", note}}}};
  entry["canonicalizedBody"] = encodeBase64(bodyText);
  Json b;
  b["mediaType"] = "application/vnd.dev.sigstore.bundle.v0.3+json";
  b["verificationMaterial"] = {{"certificate", {{"rawBytes", encodeBase64(leafDer_)}}},
                               {"tlogEntries", Json::array({entry})}};
  b["dsseEnvelope"] = {{"payload", encodeBase64(statement)},
                       {"payloadType", type},
                       {"signatures", Json::array({{{"sig", encodeBase64(sig)}, {"keyid", ""}}})}};
  return b.dump();
}

KeylessSigstore::Legacy KeylessSigstore::legacy(const std::string& reference,
                                                const std::string& digest) const {
  Legacy l;
  l.payload = simpleSigningPayload(reference, digest);
  const std::string sig = *leafKey_.sign(l.payload);
  l.signatureBase64 = encodeBase64(sig);
  l.certificatePem = leafPem_;
  Json body;
  body["apiVersion"] = "0.0.1";
  body["kind"] = "hashedrekord";
  body["spec"] = {
      {"data",
       {{"hash", {{"algorithm", "sha256"}, {"value", audit::toHex(audit::sha256(l.payload))}}}}},
      {"signature",
       {{"content", l.signatureBase64}, {"publicKey", {{"content", encodeBase64(leafPem_)}}}}}};
  const std::string bodyText = body.dump();
  Json b;
  b["SignedEntryTimestamp"] = set(bodyText, 7);
  b["Payload"] = {{"body", encodeBase64(bodyText)},
                  {"integratedTime", now_},
                  {"logIndex", 7},
                  {"logID", hex(logId(logKey_))}};
  l.bundleJson = b.dump();
  return l;
}

}  // namespace ramp::supply::testing
