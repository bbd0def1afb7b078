// gitops/change.h: what a commit message says about its review, and the change record of a sync
// (tables; pure).
#include "gitops/change.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace ramp::gitops {
namespace {

TEST(ReviewFacts, PullRequestsAndApproversAsForgesWriteThem) {
  struct Row {
    const char* name;
    const char* message;
    ReviewFacts want;
  } rows[] = {
      {"GitHub merge commit",
       "Merge pull request #42 from shop/bump\n\nBump shop to 7\n",
       {"42", {}}},
      {"GitHub squash merge", "Bump shop to 7 (#108)\n\n* bump\n", {"108", {}}},
      {"Gitea merge commit",
       "Merge pull request 'Bump shop' (#9) from bump into main\n\nReviewed-on: "
       "https://gitea.example/shop/pulls/9\nReviewed-by: Bob <bob@example.com>\n",
       {"9", {"Bob <bob@example.com>"}}},
      {"GitLab merge commit",
       "Merge branch 'bump' into 'main'\n\nBump shop\n\nSee merge request shop/deploy!17",
       {"shop/deploy!17", {}}},
      {"Bitbucket merge", "Merged in bump (pull request #5)\n\nBump shop\n", {"5", {}}},
      {"trailers of the last paragraph, each once, any case",
       "Bump shop\n\nBody mentioning Reviewed-by: nobody in prose.\n\nReviewed-by: Bob\n"
       "approved-by: Dana\nAcked-by: Bob\nSigned-off-by: Carol\n\n",
       {"", {"Bob", "Dana"}}},
      {"a one-paragraph message has no trailers", "Reviewed-by: Bob", {"", {}}},
      {"no pull request, no approvers", "Bump shop to 7\n", {"", {}}},
      {"empty", "", {"", {}}},
      {"a number in prose is no pull request", "Fix #42 crash in 2 places\n", {"", {}}},
  };
  for (const Row& r : rows) EXPECT_EQ(reviewFacts(r.message), r.want) << r.name;
  // A huge message is scanned, not recursed over, and names no absurd pull request.
  const std::string huge = "Bump (#" + std::string(1 << 20, '7') + "\n\nSee merge request " +
                           std::string(1 << 20, 'g') + "!12\n\nReviewed-by: Bob\n";
  ReviewFacts big = reviewFacts(huge);
  EXPECT_EQ(big.pullRequest, "") << "no pull request of 1 MiB";
  EXPECT_EQ(big.approvers, std::vector<std::string>{"Bob"});
}

TEST(ChangeRecord, NamesTheRepositoryWithoutCredentials) {
  spec::Application app;
  app.metadata.namespace_ = "argocd";
  app.metadata.name = "shop-prod";
  app.spec.source.repoURL = "https://ci:s3cret@git.example.com/shop.git";
  app.spec.source.path = "environments/prod";
  GitCommitInfo commit{std::string(40, 'a'), "Bump (#3)", "Carol <c@example.com>",
                       "Bump (#3)\n\nReviewed-by: Bob\n"};
  const std::string text = changeRecord(app, commit, "alice (deny window 0 22 * * *)");
  EXPECT_EQ(text.find("s3cret"), std::string::npos);
  auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j["repo"], "https://git.example.com/shop.git");
  EXPECT_EQ(j["revision"], std::string(40, 'a'));
  EXPECT_EQ(j["path"], "environments/prod");
  EXPECT_EQ(j["application"], "argocd/shop-prod");
  EXPECT_EQ(j["author"], "Carol <c@example.com>");
  EXPECT_EQ(j["subject"], "Bump (#3)");
  EXPECT_EQ(j["pullRequest"], "3");
  EXPECT_EQ(j["approvers"], nlohmann::json::array({"Bob"}));
  EXPECT_EQ(j["syncWindowOverride"], "alice (deny window 0 22 * * *)");
  // A commit whose message could not be read: only what is known.
  auto bare = nlohmann::json::parse(changeRecord(app, GitCommitInfo{std::string(40, 'b')}));
  EXPECT_EQ(bare.size(), 4u) << bare.dump();
  EXPECT_FALSE(bare.contains("pullRequest"));
  EXPECT_EQ(displayUrl("git@github.com:shop/deploy.git"), "git@github.com:shop/deploy.git");
  EXPECT_EQ(displayUrl("ssh://git@host:2222/x.git"), "ssh://host:2222/x.git");
}

}  // namespace
}  // namespace ramp::gitops
