#pragma once

// Real Git servers for the gitops integration tests, each on 127.0.0.1 on a port chosen at run
// time and stopped by pid in its destructor:
//   - GitDaemon: `git daemon` (git://, push allowed);
//   - HttpsGitServer: `git http-backend` behind nginx (through fcgiwrap) with TLS from a CA the
//     test generates and HTTP Basic authentication (Debian's nginx, fcgiwrap, git, openssl);
//   - SshGitServer: OpenSSH's `sshd` with a generated host key and one authorised user key.
// Each serves the bare repositories under one directory, and start() waits until the git CLI
// can list a repository through it, so a test of ramp never races the server's start.
//
// Thread safety: none; use each object from the test's thread.

#include <memory>
#include <string>

#include "gitops/render.h"
#include "harness/harness.h"

namespace ramp::gitops::testing {

// Runs `command` with sh; returns its output (stdout and stderr, trailing newlines removed).
// Adds a test failure naming the command when it exits non-zero.
std::string sh(const std::string& command);

// Writes `text` to `path`, creating the parent directories.
void writeFile(const std::string& path, const std::string& text);

// A bare repository ROOT/shop.git (ROOT = dir/srv) made with the git CLI from a work tree
// (dir/work): commit c1 (testing::twoEnvironments("shop:1"), tagged v1), then c2 ("shop:2"), both
// pushed to main.
struct ShopRepository {
  explicit ShopRepository(const ramp::testing::TempDir& dir);
  // `git -C WORK` with an author set.
  std::string git() const;
  // Writes `files` into the work tree and commits them; returns the new commit.
  std::string commit(const FileTree& files, const std::string& message);
  // Pushes main to the bare repository.
  void push();
  // `git log -1 --format=FORMAT main` in the bare repository.
  std::string serverLog(const std::string& format) const;

  std::string root, work, c1, c2;
};

// `git daemon --export-all --enable=receive-pack` over `root`.
class GitDaemon {
 public:
  // Starts it and waits until `git ls-remote URL/probe` answers for repository `probe` (a path
  // under root). Null (and a test failure) when it does not start.
  static std::unique_ptr<GitDaemon> start(const std::string& root, const std::string& probe,
                                          const std::string& logFile);
  // git://127.0.0.1:PORT/REPO
  std::string url(const std::string& repo) const;
  std::string log() const { return process_->log(); }

 private:
  int port_ = 0;
  std::unique_ptr<ramp::testing::Process> process_;
};

// nginx (TLS, HTTP Basic) -> fcgiwrap -> git http-backend over `root`; pushes allowed for the
// authenticated user. Files (certificates, htpasswd, configs, logs) live in `workDir`.
class HttpsGitServer {
 public:
  static std::unique_ptr<HttpsGitServer> start(const std::string& root, const std::string& probe,
                                               const std::string& workDir, const std::string& user,
                                               const std::string& password);
  ~HttpsGitServer();
  // https://127.0.0.1:PORT/REPO (no userinfo).
  std::string url(const std::string& repo) const;
  // The PEM of the CA that signed the server's certificate (IP:127.0.0.1).
  std::string caFile() const { return workDir_ + "/ca.crt"; }
  // The PEM of another CA, which signed nothing the server shows.
  std::string otherCaFile() const { return workDir_ + "/other-ca.crt"; }
  std::string log() const;

 private:
  int port_ = 0;
  std::string workDir_;
  std::unique_ptr<ramp::testing::Process> fcgiwrap_, nginx_;
};

// sshd -D -e with a generated ed25519 host key, accepting the public key `authorizedKey` (an
// OpenSSH public key line) for the user running the test, public-key authentication only. The
// repositories are addressed by absolute path: ssh://USER@127.0.0.1:PORT/ROOT/REPO.
class SshGitServer {
 public:
  // `clientKey`: the private key file the probe (`git ls-remote` through ssh) uses.
  static std::unique_ptr<SshGitServer> start(const std::string& root, const std::string& probe,
                                             const std::string& workDir,
                                             const std::string& authorizedKey,
                                             const std::string& clientKey);
  std::string url(const std::string& repo) const;
  // The server's known_hosts line ("[127.0.0.1]:PORT ssh-ed25519 AAAA…").
  std::string knownHostsLine() const;
  std::string log() const { return process_->log(); }

 private:
  int port_ = 0;
  std::string root_, workDir_, user_;
  std::unique_ptr<ramp::testing::Process> process_;
};

}  // namespace ramp::gitops::testing
