#pragma once

// DSSE (Dead Simple Signing Envelope), the envelope of in-toto attestations and of ramp's
// decision records: {"payloadType","payload" (base64),"signatures":[{"keyid","sig" (base64)}]},
// each signature over PAE(payloadType, payload) = "DSSEv1" SP len(type) SP type SP len(body) SP
// body, lengths in decimal. Pure encoding and decoding; signing and verification with
// audit/signer.h's keys.
//
// Thread safety: pure functions.

#include <string>
#include <string_view>
#include <vector>

#include "audit/signer.h"
#include "ramp/error.h"

namespace ramp::audit {

inline constexpr std::string_view kInTotoPayloadType = "application/vnd.in-toto+json";

struct DsseSignature {
  std::string keyId;
  std::string sig;  // raw signature bytes (DER ECDSA)
  bool operator==(const DsseSignature&) const = default;
};

struct Envelope {
  std::string payloadType;
  std::string payload;  // raw bytes (the statement's JSON)
  std::vector<DsseSignature> signatures;
  bool operator==(const Envelope&) const = default;
};

// The Pre-Authentication Encoding the signatures cover.
std::string pae(std::string_view payloadType, std::string_view payload);

// Signs `payload` into a one-signature envelope.
Result<Envelope> signEnvelope(std::string_view payloadType, std::string_view payload,
                              const SigningKey& key);

// Verifies that a signature by `key` (matched by key id, or the only signature when its key id
// is empty) covers the envelope. Errors: kInvalidArgument naming what failed ("no signature by
// key …", "signature does not verify").
Status verifyEnvelope(const Envelope& envelope, const VerifyingKey& key);

// JSON text of the envelope (keys in the order above).
std::string encodeEnvelope(const Envelope& envelope);
// Errors: kParse naming the field (not JSON, a missing or mistyped field, bad base64).
Result<Envelope> decodeEnvelope(std::string_view json);

}  // namespace ramp::audit
