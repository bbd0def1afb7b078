#pragma once

// Checkpoints of ramp's audit log in the C2SP tlog-checkpoint format, as a C2SP signed note:
//
//   <origin>\n<tree size>\n<base64 tree head>\n      (the note text)
//   \n
//   — <key name> <base64(4-byte key id || DER ECDSA signature of the note text)>\n
//
// The key id of an ECDSA P-256 key is the first four bytes of SHA-256 of its DER public key
// (C2SP signed-note, signature type 0x02). Verification ignores signatures of other keys and
// fails when no signature of the trusted key verifies. Pure functions.
//
// Thread safety: pure functions.

#include <cstdint>
#include <string>
#include <string_view>

#include "audit/merkle.h"
#include "audit/signer.h"
#include "ramp/error.h"

namespace ramp::audit {

struct Checkpoint {
  std::string origin;  // the log's name, e.g. "ramp.local/audit/<install id>"
  uint64_t size = 0;
  Hash root{};
  bool operator==(const Checkpoint&) const = default;
};

// The note text of a checkpoint.
std::string checkpointText(const Checkpoint& checkpoint);

// The signed note: the text, a blank line, one signature line by `key` named `keyName`.
// Errors: kInvalidArgument for a key name with spaces or '+' or an origin with a newline.
Result<std::string> signCheckpoint(const Checkpoint& checkpoint, std::string_view keyName,
                                   const SigningKey& key);

// Parses a signed note and verifies it was signed by `key` under `keyName`. Errors: kParse for
// a malformed note (naming the line); kInvalidArgument when no signature of that key verifies.
Result<Checkpoint> verifyCheckpoint(std::string_view note, std::string_view keyName,
                                    const VerifyingKey& key);

// Parses the note text alone (origin, size, tree head; what an unsigned log stores), ignoring
// anything after the third line. Errors: kParse naming the line.
Result<Checkpoint> parseCheckpointText(std::string_view text);

// The 4-byte key id (big-endian) of `key`.
uint32_t noteKeyId(const VerifyingKey& key);

}  // namespace ramp::audit
