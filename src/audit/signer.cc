#include "audit/signer.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "audit/merkle.h"

namespace ramp::audit {
namespace {

std::shared_ptr<void> own(EVP_PKEY* k) {
  return std::shared_ptr<void>(k, [](void* p) { EVP_PKEY_free(static_cast<EVP_PKEY*>(p)); });
}
EVP_PKEY* raw(const std::shared_ptr<void>& k) { return static_cast<EVP_PKEY*>(k.get()); }

bool isP256(EVP_PKEY* k) {
  if (EVP_PKEY_get_base_id(k) != EVP_PKEY_EC) return false;
  char group[64] = {0};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) !=
      1) {
    return false;
  }
  std::string_view name(group, len);
  return name == "prime256v1" || name == "P-256";
}

std::string bioString(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, n > 0 ? static_cast<size_t>(n) : 0);
}

}  // namespace

Result<VerifyingKey> VerifyingKey::fromPem(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* k = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (k == nullptr) return makeError(ErrorCode::kInvalidArgument, "not a PEM public key");
  auto key = own(k);
  if (!isP256(k)) return makeError(ErrorCode::kInvalidArgument, "not an ECDSA P-256 key");
  return VerifyingKey(key);
}

Status VerifyingKey::verify(std::string_view data, std::string_view signature) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  int rc = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, raw(key_));
  if (rc == 1) {
    rc = EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                          data.size());
  }
  EVP_MD_CTX_free(ctx);
  if (rc != 1) return makeError(ErrorCode::kInvalidArgument, "signature does not verify");
  return {};
}

std::string VerifyingKey::pem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, raw(key_));
  std::string out = bioString(bio);
  BIO_free(bio);
  return out;
}

std::string VerifyingKey::der() const {
  unsigned char* buf = nullptr;
  int n = i2d_PUBKEY(raw(key_), &buf);
  std::string out(reinterpret_cast<char*>(buf), n > 0 ? static_cast<size_t>(n) : 0);
  OPENSSL_free(buf);
  return out;
}

std::string VerifyingKey::keyId() const { return toHex(sha256(der())); }

Result<SigningKey> SigningKey::fromKey(std::shared_ptr<void> key) {
  if (!isP256(raw(key))) return makeError(ErrorCode::kInvalidArgument, "not an ECDSA P-256 key");
  unsigned char* buf = nullptr;
  int n = i2d_PUBKEY(raw(key), &buf);
  const unsigned char* p = buf;
  EVP_PKEY* pub = n > 0 ? d2i_PUBKEY(nullptr, &p, n) : nullptr;
  OPENSSL_free(buf);
  if (pub == nullptr) return makeError(ErrorCode::kInternal, "cannot derive the public key");
  return SigningKey(std::move(key), VerifyingKey(own(pub)));
}

Result<SigningKey> SigningKey::generate() {
  EVP_PKEY* k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (k == nullptr) return makeError(ErrorCode::kInternal, "cannot generate a P-256 key");
  return fromKey(own(k));
}

Result<SigningKey> SigningKey::fromPem(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* k = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (k == nullptr) return makeError(ErrorCode::kInvalidArgument, "not a PEM private key");
  return fromKey(own(k));
}

Result<std::string> SigningKey::sign(std::string_view data) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t n = 0;
  std::string sig;
  int rc = EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, raw(key_));
  if (rc == 1) {
    rc = EVP_DigestSign(ctx, nullptr, &n, reinterpret_cast<const unsigned char*>(data.data()),
                        data.size());
  }
  if (rc == 1) {
    sig.resize(n);
    rc = EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &n,
                        reinterpret_cast<const unsigned char*>(data.data()), data.size());
    sig.resize(n);
  }
  EVP_MD_CTX_free(ctx);
  if (rc != 1) return makeError(ErrorCode::kInternal, "ECDSA signing failed");
  return sig;
}

std::string SigningKey::privatePem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, raw(key_), nullptr, nullptr, 0, nullptr, nullptr);
  std::string out = bioString(bio);
  BIO_free(bio);
  return out;
}

}  // namespace ramp::audit
