// Fuzzes what `ramp audit verify` and a reader of `ramp audit export` read from disk, a server
// or an export: DSSE envelopes, C2SP signed checkpoints, exported record lines and decision
// statements. Each must decode or fail with an Error, never crash; an envelope that decodes
// must encode and decode to itself; nothing verifies against a key that signed nothing; a
// statement made from any evidence, change and object text decodes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "audit/checkpoint.h"
#include "audit/dsse.h"
#include "audit/statement.h"
#include "audit/verify.h"

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
  (void)parseCheckpointText(text);
  (void)decodeDecision(text);
  // A statement made from any evidence, change and object texts decodes again.
  {
    ramp::store::Event event;
    event.object = {"Rollout", "shop", "web"};
    event.reason = size % 2 ? "ImageVerified" : "SpecApplied";
    event.evidence = std::string(text);
    event.change = std::string(text);
    DecisionContext context{std::string(text), std::string(text), "prod"};
    if (!decodeDecision(decisionStatement(event, 1, context))) std::abort();
  }
  if (auto r = decodeExportedRecord(text)) {
    // Against an unsigned checkpoint of its own claimed tree: may pass or fail, never crash.
    (void)verifyExportedRecord(*r, "ramp.local/audit\n1\n" + std::string(44, 'A') + "\n", nullptr);
    if (verifyExportedRecord(*r, "ramp.local/audit\n1\nAAAA\n", &key.publicKey())) std::abort();
  }
  return 0;
}
