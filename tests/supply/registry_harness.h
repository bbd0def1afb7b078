#pragma once

// A real OCI registry for src/supply's integration tests: Debian's `docker-registry`
// (distribution 2.8.2, no referrers API) on 127.0.0.1 with a port chosen at run time, stopped
// by pid; optionally behind token authentication, with a token server (cpp-httplib, in this
// process) that issues ES256 JWTs distribution verifies against a throw-away certificate. Images
// and signatures are written through the registry's HTTP API (blob upload POST + PUT, manifest
// PUT), as `crane`/`cosign` would.
//
// Thread safety: none; test code.

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "harness/harness.h"
#include "harness/test_server.h"
#include "ramp/error.h"

namespace ramp::supply::testing {

struct RegistryOptions {
  bool tokenAuth = false;     // require Bearer tokens from the token server
  std::string user = "ramp";  // the token server's Basic credentials
  std::string password = "s3cret-pw";
};

class LocalRegistry {
 public:
  // Starts the registry (and the token server) under `workDir`; waits until /v2/ answers.
  static Result<std::unique_ptr<LocalRegistry>> start(const RegistryOptions& options,
                                                      const std::string& workDir);
  // The push helpers for a registry someone else started at "127.0.0.1:<port>" (anonymous).
  static std::unique_ptr<LocalRegistry> attach(const std::string& host);
  ~LocalRegistry();

  // "127.0.0.1:<port>", the registry part of image references.
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  ramp::testing::Process& process() { return *process_; }
  // How many tokens the token server issued (0 without tokenAuth).
  int tokensIssued() const { return tokensIssued_; }

  // Uploads `bytes` as a blob of `repo`; returns its digest.
  Result<std::string> pushBlob(const std::string& repo, const std::string& bytes);
  // PUTs `bytes` as a manifest of `repo` at `reference` (tag or digest) with `mediaType`;
  // returns its digest.
  Result<std::string> pushManifest(const std::string& repo, const std::string& reference,
                                   const std::string& bytes, const std::string& mediaType);
  // Pushes a small image (an OCI config blob, one layer, the manifest) at `repo:tag`; returns the
  // manifest's digest. `salt` makes different images.
  Result<std::string> pushImage(const std::string& repo, const std::string& tag,
                                const std::string& salt);
  // Writes cosign's legacy signature manifest for `digest` at tag sha256-<hex>.sig: one
  // simple-signing layer per (payload, base64 signature) pair, as `cosign sign` 1-2 does.
  // `annotations[i]`, when given, are added to layer i (a keyless signature's certificate and
  // bundle).
  Status pushLegacySignature(
      const std::string& repo, const std::string& digest,
      const std::vector<std::pair<std::string, std::string>>& signatures,
      const std::vector<std::map<std::string, std::string>>& annotations = {});
  // Writes `bundle` as a Sigstore bundle referrer of `digest` (artifactType
  // application/vnd.dev.sigstore.bundle.v0.3+json, subject = the image) and adds it to the
  // referrers tag-schema index at sha256-<hex>, as cosign 3 does on a registry without the
  // referrers API.
  Status pushBundleReferrer(const std::string& repo, const std::string& digest,
                            const std::string& bundle);

 private:
  std::string authorization(const std::string& repo);  // "" without tokenAuth
  std::string mintToken(const std::string& scopeRepo, const std::string& actions);

  RegistryOptions options_;
  int port_ = 0;
  std::unique_ptr<ramp::testing::Process> process_;
  std::unique_ptr<ramp::testing::TestServer> tokenServer_;
  std::string keyPem_;
  std::string certDerBase64_;
  int tokensIssued_ = 0;
  std::map<std::string, std::string> referrerIndexes_;  // "repo@digest" -> index JSON
};

}  // namespace ramp::supply::testing
