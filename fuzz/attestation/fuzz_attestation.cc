// Fuzzes what src/supply reads from an attestation: the in-toto statement (checked for an image
// digest, its provenance or SBOM evidence read), the predicates alone, predicate type names and
// attestation bundles. Each must decode or fail with an Error, never crash; nothing verifies
// against a key that signed nothing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "audit/signer.h"
#include "supply/attestation.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ramp::supply;
  static const ramp::audit::SigningKey key = *ramp::audit::SigningKey::generate();
  static const std::string digest = "sha256:" + std::string(64, 'a');
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)checkAttestationStatement(kInTotoPayloadType, text, digest);
  (void)parseSlsaProvenanceV1(text);
  (void)parseSbomPredicate(kCycloneDxPredicateType, text);
  (void)parseSbomPredicate(kSpdxPredicateType, text);
  (void)predicateTypeUri(text.substr(0, 256));
  if (verifyAttestation(text, digest, key.publicKey())) std::abort();  // this key never signed it
  return 0;
}
