#pragma once

// The audit signing key on disk: a PKCS#8 PEM private key (mode 0600) and its public key beside
// it (PATH.pub). Used by `ramp audit keygen` and by `ramp serve`, which makes one in its data
// dir at first start when no --audit-key is given.
//
// Errors name the file, never the key. Thread-compatible (no shared state).

#include <functional>
#include <string>

#include "audit/signer.h"
#include "ramp/error.h"

namespace ramp::audit {

// Generates a new key and writes PATH (private, created with mode 0600, never overwritten) and
// PATH.pub. Errors: kAlreadyExists when either file exists; kUnavailable when a file cannot be
// written (a private key half written is removed).
Result<SigningKey> createKeyFile(const std::string& path);

// Reads the private key at PATH. Errors: kNotFound (no such file), kInvalidArgument (not an
// ECDSA P-256 private key in PEM), the read's error. `warn` is told when the file can be read
// by users other than its owner (whoever reads it can forge the log).
Result<SigningKey> readKeyFile(const std::string& path,
                               const std::function<void(const std::string&)>& warn);

}  // namespace ramp::audit
