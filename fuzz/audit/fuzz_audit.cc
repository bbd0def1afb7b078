// Fuzzes what `ramp audit verify` reads from disk or an export: DSSE envelopes and C2SP signed
// checkpoints. Each must decode or fail with an Error, never crash; an envelope that decodes
// must encode and decode to itself; nothing verifies against a key that signed nothing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "audit/checkpoint.h"
#include "audit/dsse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ramp::audit;
  static const SigningKey key = *SigningKey::generate();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto e = decodeEnvelope(text)) {
    auto again = decodeEnvelope(encodeEnvelope(*e));
    if (!again || !(*again == *e)) std::abort();
    if (verifyEnvelope(*e, key.publicKey())) std::abort();  // this key never signed it
  }
  if (verifyCheckpoint(text, "ramp.local/audit", key.publicKey())) std::abort();
  return 0;
}
