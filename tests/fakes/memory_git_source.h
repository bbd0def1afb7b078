#pragma once

// MemoryGitSource: a GitSource held in memory (LevelDB's memenv for Git). A test commits file
// trees to branches and tags; resolve() and readTree() answer from them, revertPath() commits
// like a server would. setReachable(false) makes every call fail as an unreachable repository.
//
// Thread safety: one thread at a time (as the agent calls it).

#include <map>
#include <string>
#include <vector>

#include "ramp/gitops/git_source.h"

namespace ramp::testing {

class MemoryGitSource : public gitops::GitSource {
 public:
  using Files = std::map<std::string, std::string>;

  // Commits `files` as the whole tree of `branch` in `repoURL` and returns the commit id (a
  // 40-hex number made from a counter). The first branch committed is the default one.
  std::string commit(const std::string& repoURL, const std::string& branch, Files files,
                     const std::string& message = "commit", const std::string& author = "test") {
    Repo& r = repos_[repoURL];
    if (r.defaultBranch.empty()) r.defaultBranch = branch;
    char sha[41];
    std::snprintf(sha, sizeof sha, "%040d", ++counter_);
    r.commits[sha] = Commit{std::move(files), message, author};
    r.branches[branch] = sha;
    return sha;
  }
  void tag(const std::string& repoURL, const std::string& tag, const std::string& sha) {
    repos_[repoURL].tags[tag] = sha;
  }
  void setReachable(bool reachable) { reachable_ = reachable; }
  int resolveCalls() const { return resolveCalls_; }
  const Files& files(const std::string& repoURL, const std::string& sha) {
    return repos_[repoURL].commits[sha].files;
  }
  // The commit `branch` points at, with its whole message and author ("" fields if none).
  gitops::GitCommitInfo head(const std::string& repoURL, const std::string& branch) {
    Repo& r = repos_[repoURL];
    auto b = r.branches.find(branch);
    if (b == r.branches.end()) return {};
    const Commit& c = r.commits[b->second];
    return {b->second, c.message, c.author};
  }

  Result<std::string> resolve(const std::string& repoURL, const std::string& revision) override {
    ++resolveCalls_;
    if (!reachable_ || repos_.count(repoURL) == 0) {
      return makeError(ErrorCode::kUnavailable,
                       "repository " + repoURL + " unreachable: connection refused");
    }
    Repo& r = repos_[repoURL];
    const std::string rev = revision.empty() || revision == "HEAD" ? r.defaultBranch : revision;
    if (auto it = r.branches.find(rev); it != r.branches.end()) return it->second;
    if (auto it = r.tags.find(rev); it != r.tags.end()) return it->second;
    for (const auto& [sha, c] : r.commits) {
      if (rev.size() >= 7 && sha.starts_with(rev)) return sha;
    }
    return makeError(ErrorCode::kNotFound, "revision \"" + revision + "\" not found in " + repoURL);
  }

  Result<Files> readTree(const std::string& repoURL, const std::string& sha,
                         const std::string& path) override {
    if (!reachable_) return makeError(ErrorCode::kUnavailable, "unreachable");
    auto& commits = repos_[repoURL].commits;
    auto it = commits.find(sha);
    if (it == commits.end()) return makeError(ErrorCode::kNotFound, "no commit " + sha);
    const std::string prefix = dir(path);
    Files out;
    for (const auto& [p, content] : it->second.files) {
      if (p.starts_with(prefix)) out[p] = content;
    }
    if (out.empty() && !prefix.empty()) {
      return makeError(ErrorCode::kNotFound, "path " + path + " does not exist in " + repoURL +
                                                 " at " + sha.substr(0, 7));
    }
    return out;
  }

  Result<gitops::GitCommitInfo> commitInfo(const std::string& repoURL,
                                           const std::string& sha) override {
    if (!reachable_) return makeError(ErrorCode::kUnavailable, "unreachable");
    auto& commits = repos_[repoURL].commits;
    auto it = commits.find(sha);
    if (it == commits.end()) return makeError(ErrorCode::kNotFound, "no commit " + sha);
    const std::string& m = it->second.message;
    return gitops::GitCommitInfo{sha, m.substr(0, m.find('\n')), it->second.author, m};
  }

  Result<gitops::GitCommitInfo> revertPath(const std::string& repoURL, const std::string& branch,
                                           const std::string& path, const std::string& target,
                                           const std::string& author,
                                           const std::string& message) override {
    auto head = resolve(repoURL, branch);
    if (!head) return std::unexpected(head.error());
    Repo& r = repos_[repoURL];
    const std::string name = branch.empty() || branch == "HEAD" ? r.defaultBranch : branch;
    if (r.branches.count(name) == 0) {
      return makeError(ErrorCode::kFailedPrecondition, "\"" + name + "\" is not a branch");
    }
    if (r.commits.count(target) == 0) return makeError(ErrorCode::kNotFound, "no commit " + target);
    const std::string prefix = dir(path);
    Files next;
    for (const auto& [p, c] : r.commits[*head].files) {
      if (!p.starts_with(prefix)) next[p] = c;
    }
    for (const auto& [p, c] : r.commits[target].files) {
      if (p.starts_with(prefix)) next[p] = c;
    }
    if (next == r.commits[*head].files) {
      return makeError(ErrorCode::kAlreadyExists, "nothing to revert");
    }
    const std::string sha = commit(repoURL, name, std::move(next), message, author);
    return gitops::GitCommitInfo{sha, message, author, message};
  }

 private:
  struct Commit {
    Files files;
    std::string message, author;
  };
  struct Repo {
    std::string defaultBranch;
    std::map<std::string, Commit> commits;
    std::map<std::string, std::string> branches, tags;
  };
  static std::string dir(const std::string& path) {
    std::string p = path;
    while (p.starts_with("./")) p.erase(0, 2);
    while (p.ends_with("/")) p.pop_back();
    return p.empty() || p == "." ? "" : p + "/";
  }

  std::map<std::string, Repo> repos_;
  int counter_ = 0;
  bool reachable_ = true;
  int resolveCalls_ = 0;
};

}  // namespace ramp::testing
