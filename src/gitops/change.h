#pragma once

// The Git change a sync carries out, as its audit records name it (docs/audit.md, "The decision
// record"): the repository (without credentials), the commit, the Application and path it was
// read for, the commit's author and subject, and the pull request it merged and who approved it
// as far as the commit message says. Argo CD keeps none of this beyond the commit id; an auditor
// asks for all of it.
//
// Pure functions; thread-safe.

#include <string>
#include <string_view>
#include <vector>

#include "ramp/gitops/git_source.h"
#include "ramp/spec/gitops.h"

namespace ramp::gitops {

// What a commit message says about its review.
struct ReviewFacts {
  // The pull (merge) request the commit merged: "42" from GitHub's and Gitea's merge commits
  // ("Merge pull request #42 from …", "Merge pull request 'title' (#42) from …"), a squash
  // merge's subject ending in "(#42)" and Bitbucket's "(pull request #42)"; "group/project!42"
  // from GitLab's "See merge request group/project!42" (at most 256 characters). "" when the
  // message names none.
  std::string pullRequest;
  // The values of the message's "Approved-by:", "Reviewed-by:" and "Acked-by:" trailers (lines
  // of its last paragraph), in order, each once. Approvals a forge keeps outside the commit are
  // not known here.
  std::vector<std::string> approvers;
  bool operator==(const ReviewFacts&) const = default;
};

ReviewFacts reviewFacts(std::string_view message);

// `url` without its user information, so credentials written into a repoURL are never printed
// or recorded: "https://user:token@host/x.git" -> "https://host/x.git". Other URLs unchanged.
std::string displayUrl(const std::string& url);

// The change record (JSON text) of `app` syncing commit `commit.sha`:
//   {"repo":"https://host/x.git","revision":"<sha>","path":"apps/web",
//    "application":"argocd/web","author":"…","subject":"…","pullRequest":"42",
//    "approvers":["…"]}
// Fields the commit does not give (author, subject, pullRequest, approvers) are left out; a
// window the sync overrode adds "syncWindowOverride": "<who and which window>".
std::string changeRecord(const spec::Application& app, const GitCommitInfo& commit,
                         const std::string& windowOverride = "");

}  // namespace ramp::gitops
