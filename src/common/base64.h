#pragma once

// Standard base64 (RFC 4648 §4, padded) through OpenSSL, for every format ramp reads or writes
// that carries bytes as text: kubeconfig *-data, DSSE envelopes, signed notes, OCI descriptors.
//
// Thread safety: pure functions.

#include <string>
#include <string_view>

#include "ramp/error.h"

namespace ramp {

std::string encodeBase64(std::string_view bytes);

// Decodes padded base64; whitespace and newlines are skipped (PEM bodies have them). Error:
// kInvalidArgument "not base64".
Result<std::string> decodeBase64(std::string_view text);

}  // namespace ramp
