// Fuzzes what src/supply reads as a signature: simple-signing payloads, Sigstore bundles and the
// in-toto statements inside them. Each must decode or fail with an Error, never crash; nothing
// verifies against a key that signed nothing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "audit/signer.h"
#include "supply/cosign_verify.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ramp::supply;
  static const ramp::audit::SigningKey key = *ramp::audit::SigningKey::generate();
  static const std::string digest = "sha256:" + std::string(64, 'a');
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)parseSimpleSigningPayload(text);
  (void)parseInTotoStatement(text);
  (void)parseSigstoreBundle(text);
  if (verifyBundle(text, digest, key.publicKey())) std::abort();  // this key never signed it
  size_t split = text.find('\n');
  if (split != std::string_view::npos) {
    if (verifyLegacySignature(text.substr(0, split), text.substr(split + 1), digest,
                              key.publicKey())) {
      std::abort();
    }
  }
  return 0;
}
