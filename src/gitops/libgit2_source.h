#pragma once

// Libgit2Source: GitSource on libgit2 (Debian's libgit2-dev). Each repository URL is fetched into
// a bare mirror under `cacheDir` (named by a hash of the URL), so a revision's files are read
// from the local object database; https, ssh (git@host:path and ssh://), git:// and file URLs are
// supported. Credentials come from `credentialsDir` when set: files `username` and `password`
// (https), `ssh-privatekey` (and optional `ssh-publickey`, `ssh-passphrase`) for ssh. They are
// read when a server asks, never printed: every libgit2 message is passed through a Redactor
// holding them, and URLs are shown without their userinfo. The server is authenticated first:
// what libgit2 validated passes (the system's CAs, ~/.ssh/known_hosts); otherwise `ca.crt` of
// the directory (PEM trust anchors, checked with OpenSSL, IP SANs included) for TLS, and
// `known_hosts` (OpenSSH's format, read by libssh2) for ssh host keys.
//
// libgit2's return codes become ramp::Error at this boundary. Thread safety: one call at a time
// (the agent's thread); libgit2 is initialised once per process.

#include <memory>
#include <string>

#include "gitops/change.h"  // displayUrl
#include "ramp/gitops/git_source.h"

namespace ramp::gitops {

class Libgit2Source : public GitSource {
 public:
  Libgit2Source(std::string cacheDir, std::string credentialsDir);
  ~Libgit2Source() override;

  Result<std::string> resolve(const std::string& repoURL, const std::string& revision) override;
  Result<std::map<std::string, std::string>> readTree(const std::string& repoURL,
                                                      const std::string& sha,
                                                      const std::string& path) override;
  Result<GitCommitInfo> commitInfo(const std::string& repoURL, const std::string& sha) override;
  Result<GitCommitInfo> revertPath(const std::string& repoURL, const std::string& branch,
                                   const std::string& path, const std::string& target,
                                   const std::string& author, const std::string& message) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ramp::gitops
