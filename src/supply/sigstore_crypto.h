#pragma once

// The OpenSSL objects keyless verification works with, owned: public keys of any type a Sigstore
// trusted root or a Fulcio certificate carries (ECDSA P-256/P-384/P-521, Ed25519, RSA), X.509
// certificates, and the two ways Sigstore signs with them: over a message (DSSE's PAE, a
// signed note, a SET's canonical JSON) or over a message's SHA-256 digest (hashedrekord, a
// bundle's messageSignature). audit::VerifyingKey stays P-256 only; this is its general form.
//
// Thread safety: a PublicKey or Certificate may be used from any thread (OpenSSL objects are
// not modified once loaded).

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ramp/error.h"

typedef struct evp_pkey_st EVP_PKEY;
typedef struct x509_st X509;

namespace ramp::supply {

class PublicKey {
 public:
  // A DER SubjectPublicKeyInfo. Errors: kParse "not a DER public key".
  static Result<PublicKey> fromDer(std::string_view der);

  // Verifies `signature` over `message`: ECDSA (DER) and RSA PKCS#1 v1.5 with the hash of the
  // key's size (SHA-256 for P-256 and RSA, SHA-384 for P-384, SHA-512 for P-521), Ed25519 over
  // the message itself. False when it does not verify.
  bool verify(std::string_view message, std::string_view signature) const;
  // Verifies `signature` over a SHA-256 `digest` (32 bytes) already computed. Ed25519 cannot
  // sign a digest: false.
  bool verifySha256Digest(std::string_view digest, std::string_view signature) const;

  std::string der() const;  // SubjectPublicKeyInfo
  EVP_PKEY* get() const { return static_cast<EVP_PKEY*>(key_.get()); }

 private:
  explicit PublicKey(std::shared_ptr<void> key) : key_(std::move(key)) {}
  std::shared_ptr<void> key_;  // EVP_PKEY
  friend class Certificate;
};

class Certificate {
 public:
  // A DER certificate. Errors: kParse "not a DER X.509 certificate".
  static Result<Certificate> fromDer(std::string_view der);
  // The first PEM "CERTIFICATE" of `pem`. Errors: kParse.
  static Result<Certificate> fromPem(std::string_view pem);
  // Every PEM certificate of `pem`, in order. Errors: kParse when there is none or one is bad.
  static Result<std::vector<Certificate>> allFromPem(std::string_view pem);

  std::string der() const;
  PublicKey publicKey() const;
  int64_t notBefore() const;  // seconds since the epoch
  int64_t notAfter() const;
  X509* get() const { return static_cast<X509*>(cert_.get()); }

 private:
  explicit Certificate(std::shared_ptr<void> cert) : cert_(std::move(cert)) {}
  std::shared_ptr<void> cert_;  // X509
};

std::string sha256Bytes(std::string_view data);  // 32 raw bytes
std::string hexBytes(std::string_view bytes);    // lower-case hex
std::string formatUnixTime(int64_t seconds);     // RFC 3339 UTC

}  // namespace ramp::supply
