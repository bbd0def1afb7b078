#include "supply/sigstore_crypto.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <chrono>

#include "spec/values.h"

namespace ramp::supply {
namespace {

std::shared_ptr<void> ownKey(EVP_PKEY* k) {
  return std::shared_ptr<void>(k, [](void* p) { EVP_PKEY_free(static_cast<EVP_PKEY*>(p)); });
}
std::shared_ptr<void> ownCert(X509* c) {
  return std::shared_ptr<void>(c, [](void* p) { X509_free(static_cast<X509*>(p)); });
}

// The digest a key signs messages with (null for Ed25519/Ed448, which sign the message).
const EVP_MD* digestFor(EVP_PKEY* k) {
  int id = EVP_PKEY_get_base_id(k);
  if (id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448) return nullptr;
  if (id == EVP_PKEY_EC) {
    int bits = EVP_PKEY_get_bits(k);
    if (bits > 384) return EVP_sha512();
    if (bits > 256) return EVP_sha384();
  }
  return EVP_sha256();
}

int64_t asn1Seconds(const ASN1_TIME* t) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<int64_t>(timegm(&tm));
}

}  // namespace

Result<PublicKey> PublicKey::fromDer(std::string_view der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  EVP_PKEY* k = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
  if (k == nullptr || p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    EVP_PKEY_free(k);
    return makeError(ErrorCode::kParse, "not a DER public key");
  }
  return PublicKey(ownKey(k));
}

bool PublicKey::verify(std::string_view message, std::string_view signature) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  int rc = EVP_DigestVerifyInit(ctx, nullptr, digestFor(get()), nullptr, get());
  if (rc == 1) {
    rc = EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                          message.size());
  }
  EVP_MD_CTX_free(ctx);
  return rc == 1;
}

bool PublicKey::verifySha256Digest(std::string_view digest, std::string_view signature) const {
  if (digest.size() != SHA256_DIGEST_LENGTH || digestFor(get()) == nullptr) return false;
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(get(), nullptr);
  if (ctx == nullptr) return false;
  int rc = EVP_PKEY_verify_init(ctx);
  if (rc == 1) rc = EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256());
  if (rc == 1) {
    rc = EVP_PKEY_verify(ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                         signature.size(), reinterpret_cast<const unsigned char*>(digest.data()),
                         digest.size());
  }
  EVP_PKEY_CTX_free(ctx);
  return rc == 1;
}

std::string PublicKey::der() const {
  unsigned char* buf = nullptr;
  int n = i2d_PUBKEY(get(), &buf);
  std::string out(reinterpret_cast<char*>(buf), n > 0 ? static_cast<size_t>(n) : 0);
  OPENSSL_free(buf);
  return out;
}

Result<Certificate> Certificate::fromDer(std::string_view der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  X509* c = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (c == nullptr || p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    X509_free(c);
    return makeError(ErrorCode::kParse, "not a DER X.509 certificate");
  }
  return Certificate(ownCert(c));
}

Result<Certificate> Certificate::fromPem(std::string_view pem) {
  auto all = allFromPem(pem);
  if (!all) return std::unexpected(all.error());
  return all->front();
}

Result<std::vector<Certificate>> Certificate::allFromPem(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  std::vector<Certificate> out;
  while (X509* c = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    out.push_back(Certificate(ownCert(c)));
  }
  BIO_free(bio);
  if (out.empty()) return makeError(ErrorCode::kParse, "no PEM certificate");
  return out;
}

std::string Certificate::der() const {
  unsigned char* buf = nullptr;
  int n = i2d_X509(get(), &buf);
  std::string out(reinterpret_cast<char*>(buf), n > 0 ? static_cast<size_t>(n) : 0);
  OPENSSL_free(buf);
  return out;
}

PublicKey Certificate::publicKey() const {
  // X509_get_pubkey returns a new reference.
  return PublicKey(ownKey(X509_get_pubkey(get())));
}

int64_t Certificate::notBefore() const { return asn1Seconds(X509_get0_notBefore(get())); }
int64_t Certificate::notAfter() const { return asn1Seconds(X509_get0_notAfter(get())); }

std::string sha256Bytes(std::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  return std::string(reinterpret_cast<char*>(md), sizeof md);
}

std::string hexBytes(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::string formatUnixTime(int64_t seconds) {
  return spec::formatRfc3339(Time(std::chrono::seconds(seconds)));
}

}  // namespace ramp::supply
