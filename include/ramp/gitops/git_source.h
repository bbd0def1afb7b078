#pragma once

// GitSource: where the GitOps agent reads (and, for rollback, writes) Git repositories. The
// daemon's implementation is libgit2 over https, ssh and file URLs with credentials from a secret
// directory (src/gitops/libgit2_source.h); tests use an in-memory fake
// (tests/fakes/memory_git_source.h), as LevelDB's memenv stands in for the file system.
//
// Error messages never contain credentials. Thread safety: implementations must allow calls from
// one thread at a time per repository URL; the agent makes them from its one thread.

#include <map>
#include <string>

#include "ramp/error.h"

namespace ramp::gitops {

struct GitCommitInfo {
  std::string sha;      // full 40-hex id
  std::string message;  // first line
  std::string author;   // "Name <email>"
  std::string body;     // the whole message, trailers included
  bool operator==(const GitCommitInfo&) const = default;
};

class GitSource {
 public:
  virtual ~GitSource() = default;

  // Fetches `repoURL` and resolves `revision` there: a branch, a tag, a full or abbreviated
  // commit id, or ""/"HEAD" for the default branch. Returns the commit's id. Errors:
  // kUnavailable when the repository cannot be reached or read (the message says why, e.g.
  // "repository https://… unreachable: connection refused", or the server cannot be
  // authenticated: its TLS certificate or ssh host key is not trusted), kNotFound when the
  // revision does not exist, kUnauthenticated when the server refuses the credentials.
  virtual Result<std::string> resolve(const std::string& repoURL, const std::string& revision) = 0;

  // Every file under directory `path` ("" = the root) of commit `sha`, previously returned by
  // resolve(), keyed by its path from the repository root. kNotFound when `path` is not a
  // directory of that commit; kUnavailable when the repository cannot be read.
  virtual Result<std::map<std::string, std::string>> readTree(const std::string& repoURL,
                                                              const std::string& sha,
                                                              const std::string& path) = 0;

  // The commit `sha` (previously returned by resolve()) of `repoURL`: its id, author and
  // message, read from the local copy without fetching. Errors: kNotFound for an unknown commit,
  // kUnavailable when the repository cannot be read.
  virtual Result<GitCommitInfo> commitInfo(const std::string& repoURL, const std::string& sha) = 0;

  // Creates on `branch` (a branch name, or ""/"HEAD" for the default branch) a commit whose tree
  // under `path` is that of commit `target` (the rest of the tree is left as the branch has it),
  // authored by `author`, with `message`, and pushes it. Returns the new commit. Errors:
  // kAlreadyExists when the branch already has target's files under `path` (nothing to revert;
  // no commit is made); kFailedPrecondition when `branch` is not a branch (a tag or a commit id:
  // nothing to push to) or the branch moved and the push was refused; kNotFound for an unknown
  // commit or path; kUnavailable as resolve().
  virtual Result<GitCommitInfo> revertPath(const std::string& repoURL, const std::string& branch,
                                           const std::string& path, const std::string& target,
                                           const std::string& author,
                                           const std::string& message) = 0;
};

}  // namespace ramp::gitops
