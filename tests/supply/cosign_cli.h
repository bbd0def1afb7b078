#pragma once

// The real cosign for src/supply's integration tests: the binary scripts/cosign.sh builds (v3,
// from the Go module proxy; `make cosign-build`), run with no network (its proxies pointed at a
// closed port, loopback excepted) and HOME in the test's directory, so signing with a key and
// --tlog-upload=false reaches nothing but the test's registry.
//
// Thread safety: none; test code.

#include <string>

#include "audit/signer.h"
#include "ramp/error.h"

namespace ramp::supply::testing {

// Runs `cmd` with sh; returns its exit status (-1 when it did not exit) and appends its output
// (stdout and stderr) to `out`.
int runShell(const std::string& cmd, std::string* out);

// The path of the cosign binary, "" when it is not built (tests then skip, saying so).
std::string cosignBinary();

// The shell prefix cosign runs under in `dir`: cd there, HOME there, no network, the key's
// password.
std::string cosignEnv(const std::string& dir);

// `cosign generate-key-pair` in `dir` (cosign.key, cosign.pub); returns cosign.pub as ramp reads
// it.
Result<audit::VerifyingKey> generateKeyPair(const std::string& cosign, const std::string& dir);

// The command that signs an image (append the reference) with `dir`'s cosign.key, offline: cosign
// 3's bundle format, or with `legacy` the simple-signing `.sig` manifest.
std::string cosignSignCommand(const std::string& cosign, const std::string& dir,
                              bool legacy = false);

// The command that attests an image (append the reference) with `dir`'s cosign.key, offline, in
// cosign 3's default format (a Sigstore bundle referrer): `type` is cosign's --type
// (slsaprovenance1, cyclonedx, spdxjson, …), `predicate` the predicate file (relative to `dir`).
std::string cosignAttestCommand(const std::string& cosign, const std::string& dir,
                                const std::string& type, const std::string& predicate);

// A ClusterImagePolicy document named `name`: images matching `glob` need a signature in
// `format` ("legacy" or "bundle") by the public key `pubPem`, under the authority "release-key".
std::string keyPolicyYaml(const std::string& name, const std::string& glob,
                          const std::string& format, const std::string& pubPem);

}  // namespace ramp::supply::testing
