#pragma once

// ECDSA P-256 keys for ramp's signatures (DSSE envelopes of decision records, checkpoints of the
// audit log), on OpenSSL: generate, read and write PEM, sign and verify (ASN.1 DER signatures
// over SHA-256, as cosign and Rekor use), and the key's identifiers.
//
// Thread safety: a SigningKey or VerifyingKey may be used from any thread (OpenSSL key objects
// are immutable once loaded).

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "ramp/error.h"

namespace ramp::audit {

class VerifyingKey {
 public:
  // A PEM "PUBLIC KEY" (SubjectPublicKeyInfo). Errors: kInvalidArgument when it is not one, or
  // not an EC P-256 key.
  static Result<VerifyingKey> fromPem(std::string_view pem);

  // Verifies an ASN.1 DER ECDSA signature of SHA-256(data). Errors: kInvalidArgument "signature
  // does not verify".
  Status verify(std::string_view data, std::string_view signature) const;

  std::string pem() const;
  std::string der() const;  // SubjectPublicKeyInfo, DER
  // Hex SHA-256 of the DER public key (the key id of DSSE signatures).
  std::string keyId() const;

 private:
  explicit VerifyingKey(std::shared_ptr<void> key) : key_(std::move(key)) {}
  std::shared_ptr<void> key_;  // EVP_PKEY
  friend class SigningKey;
};

class SigningKey {
 public:
  // A new random P-256 key.
  static Result<SigningKey> generate();
  // A PEM private key (PKCS#8 or SEC1 "EC PRIVATE KEY"). Errors: kInvalidArgument.
  static Result<SigningKey> fromPem(std::string_view pem);

  // ASN.1 DER ECDSA signature of SHA-256(data).
  Result<std::string> sign(std::string_view data) const;

  std::string privatePem() const;  // PKCS#8; never logged
  const VerifyingKey& publicKey() const { return public_; }

 private:
  SigningKey(std::shared_ptr<void> key, VerifyingKey pub)
      : key_(std::move(key)), public_(std::move(pub)) {}
  static Result<SigningKey> fromKey(std::shared_ptr<void> key);
  std::shared_ptr<void> key_;  // EVP_PKEY
  VerifyingKey public_;
};

}  // namespace ramp::audit
