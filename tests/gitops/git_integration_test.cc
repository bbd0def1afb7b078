// gitops/libgit2_source.h against real Git: repositories made by the test with the git CLI,
// read over file:// and over git:// from a real `git daemon` on a loopback port chosen at run
// time (stopped by pid), including a pushed revert commit and a force-pushed branch. Last, `ramp
// serve` as the GitOps agent of such a repository, driven by the CLI: sync, a pushed commit, `ramp
// app rollback`.
#include "gitops/libgit2_source.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "gitops/git_servers.h"
#include "gitops/gitops_fixtures.h"
#include "harness/harness.h"
#include "harness/ramp_daemon.h"

namespace ramp::gitops {
namespace {

using ramp::testing::TempDir;
using testing::GitDaemon;
using testing::sh;
using testing::ShopRepository;

class GitIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = repo_.root;
    c1_ = repo_.c1;
    c2_ = repo_.c2;
  }
  // Starts git daemon serving root_ (push allowed); returns the repository's URL.
  std::string startDaemon() {
    daemon_ = GitDaemon::start(root_, "shop.git", dir_.file("daemon.log"));
    return daemon_ ? daemon_->url("shop.git") : "";
  }

  TempDir dir_{"ramp-git"};
  ShopRepository repo_{dir_};
  std::string root_, c1_, c2_;
  std::unique_ptr<GitDaemon> daemon_;
};

TEST_F(GitIntegrationTest, FileUrlBranchTagCommitAndPaths) {
  Libgit2Source source(dir_.file("cache"), "");
  const std::string url = "file://" + root_ + "/shop.git";
  EXPECT_EQ(source.resolve(url, "main"), c2_);
  EXPECT_EQ(source.resolve(url, "HEAD"), c2_);
  EXPECT_EQ(source.resolve(url, ""), c2_);
  EXPECT_EQ(source.resolve(url, "v1"), c1_);
  EXPECT_EQ(source.resolve(url, c1_), c1_);
  EXPECT_EQ(source.resolve(url, c1_.substr(0, 8)), c1_);
  auto missing = source.resolve(url, "release-9");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);

  auto files = source.readTree(url, c1_, "environments/prod");
  ASSERT_TRUE(files) << files.error().message;
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ(files->begin()->first, "environments/prod/shop.yaml");
  EXPECT_NE(files->begin()->second.find("shop:1"), std::string::npos);
  auto all = source.readTree(url, c2_, "");
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 4u);
  auto noPath = source.readTree(url, c2_, "environments/qa");
  ASSERT_FALSE(noPath);
  EXPECT_EQ(noPath.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(noPath.error().message,
            "path environments/qa does not exist in " + url + " at " + c2_.substr(0, 7));
}

// commitInfo reads the author and the whole message (trailers included) from the mirror.
TEST_F(GitIntegrationTest, CommitInfoReadsTheAuthorAndTheWholeMessage) {
  const std::string c3 =
      repo_.commit(testing::twoEnvironments("shop:3"),
                   "Merge pull request #7 from shop/bump\n\nReviewed-by: Bob <bob@example.com>");
  repo_.push();
  Libgit2Source source(dir_.file("cache"), "");
  const std::string url = "file://" + root_ + "/shop.git";
  ASSERT_EQ(source.resolve(url, "main"), c3);
  auto info = source.commitInfo(url, c3);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->sha, c3);
  EXPECT_EQ(info->message, "Merge pull request #7 from shop/bump");
  EXPECT_EQ(info->author, "tester <tester@example.com>");
  EXPECT_EQ(reviewFacts(info->body), (ReviewFacts{"7", {"Bob <bob@example.com>"}}));
  auto unknown = source.commitInfo(url, std::string(40, '1'));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound) << unknown.error().message;
}

TEST_F(GitIntegrationTest, GitDaemonFetchesNewCommitsAndTakesARevertPush) {
  Libgit2Source source(dir_.file("cache"), "");
  const std::string url = startDaemon();
  EXPECT_EQ(source.resolve(url, "main"), c2_);
  // A new commit upstream is seen on the next resolve.
  const std::string c3 = repo_.commit(testing::twoEnvironments("shop:3"), "third");
  repo_.push();
  EXPECT_EQ(source.resolve(url, "main"), c3);
  // Revert environments/prod to the first commit: a new commit on main, pushed.
  auto revert = source.revertPath(url, "main", "environments/prod", c1_, "alice",
                                  "Revert environments/prod to " + c1_.substr(0, 7));
  ASSERT_TRUE(revert) << revert.error().message;
  EXPECT_EQ(source.resolve(url, "main"), revert->sha);
  auto prod = source.readTree(url, revert->sha, "environments/prod");
  ASSERT_TRUE(prod);
  EXPECT_NE(prod->at("environments/prod/shop.yaml").find("shop:1"), std::string::npos);
  auto staging = source.readTree(url, revert->sha, "environments/staging");
  EXPECT_NE(staging->at("environments/staging/shop.yaml").find("shop:2"), std::string::npos)
      << "the rest of the tree is the branch's";
  // The server has it, authored by the caller, parent = the old head.
  EXPECT_EQ(repo_.serverLog("%an %P %s"),
            "alice " + c3 + " Revert environments/prod to " + c1_.substr(0, 7));
  // Reverting again changes nothing: refused, no commit made.
  auto again = source.revertPath(url, "main", "environments/prod", c1_, "alice", "again");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
  // "" is the default branch; a tag is not a branch, and nothing is pushed for it.
  auto onDefault = source.revertPath(url, "", "environments/prod", c2_, "bob", "to c2");
  ASSERT_TRUE(onDefault) << onDefault.error().message;
  EXPECT_EQ(source.resolve(url, "main"), onDefault->sha);
  auto onTag = source.revertPath(url, "v1", "environments/prod", c2_, "bob", "on a tag");
  ASSERT_FALSE(onTag);
  EXPECT_EQ(onTag.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(onTag.error().message.find("is not a branch"), std::string::npos)
      << onTag.error().message;
  EXPECT_EQ(sh("git --git-dir=" + root_ + "/shop.git branch --list v1"), "");
}

// A force-pushed branch (history rewritten upstream) is followed, as Argo CD follows it: the
// next resolve gives the new head, which does not contain the old one, and the old commit stays
// readable from the cache (for history and rollback to it).
TEST_F(GitIntegrationTest, AForcePushedBranchIsFollowedAndTheOldCommitStaysReadable) {
  Libgit2Source source(dir_.file("cache"), "");
  const std::string url = startDaemon();
  ASSERT_EQ(source.resolve(url, "main"), c2_);
  sh(repo_.git() + " reset -q --hard " + c1_);
  const std::string c5 = repo_.commit(testing::twoEnvironments("shop:5"), "rewritten");
  sh(repo_.git() + " push -q -f " + root_ + "/shop.git main");
  ASSERT_EQ(repo_.serverLog("%H"), c5);
  EXPECT_EQ(sh("git --git-dir=" + root_ + "/shop.git merge-base --is-ancestor " + c2_ + " " + c5 +
               " || echo rewritten"),
            "rewritten");
  EXPECT_EQ(source.resolve(url, "main"), c5);
  auto now = source.readTree(url, c5, "environments/prod");
  ASSERT_TRUE(now) << now.error().message;
  EXPECT_NE(now->at("environments/prod/shop.yaml").find("shop:5"), std::string::npos);
  auto before = source.readTree(url, c2_, "environments/prod");
  ASSERT_TRUE(before) << before.error().message;
  EXPECT_NE(before->at("environments/prod/shop.yaml").find("shop:2"), std::string::npos);
  // A revert on the rewritten branch goes on top of its new head.
  auto revert = source.revertPath(url, "main", "environments/prod", c2_, "carol", "back to c2");
  ASSERT_TRUE(revert) << revert.error().message;
  EXPECT_EQ(repo_.serverLog("%an %P"), "carol " + c5);
}

TEST_F(GitIntegrationTest, UnreachableRepositoryNeverShowsCredentials) {
  TempDir secrets("ramp-git-secret");
  testing::writeFile(secrets.file("username"), "deploy\n");
  testing::writeFile(secrets.file("password"), "s3cr3t-token\n");
  Libgit2Source source(dir_.file("cache"), secrets.path());
  const int port = ramp::testing::pickFreePort();  // nothing listens there
  const std::string url = "http://deploy:s3cr3t-token@127.0.0.1:" + std::to_string(port) + "/x.git";
  auto r = source.resolve(url, "main");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message.find("repository http://127.0.0.1:"), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("unreachable"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find("s3cr3t"), std::string::npos) << r.error().message;
  EXPECT_EQ(displayUrl("https://u:p@host/a/b.git"), "https://host/a/b.git");
  EXPECT_EQ(displayUrl("git@host:a/b.git"), "git@host:a/b.git");
}

// `ramp serve` on platform.sim with the agent reading the repository from git daemon: an
// Application (applied with the CLI) syncs prod, a pushed commit changes the image, and
// `ramp app rollback` by an operator pushes a revert commit authored by them, which the agent
// syncs; auto-sync keeps it. `ramp app history` lists all three.
constexpr const char* kAdmin = "admin-token-0123456789abcdef";
constexpr const char* kOperator = "operator-token-0123456789abc";

TEST_F(GitIntegrationTest, ServeSyncsFromGitAndRollsBackByARevertCommit) {
  const std::string url = startDaemon();
  std::ofstream(dir_.file("tokens.csv")) << kAdmin << ",alice,admin\n"
                                         << kOperator << ",bob,operator\n";
  ramp::testing::RampDaemon serve(
      dir_, {"--platform", "platform.sim", "--tokens", dir_.file("tokens.csv"), "--gitops-poll-s",
             "1", "--environment", "prod"});
  ASSERT_FALSE(serve.url().empty());
  auto cli = [&](const std::vector<std::string>& args, const char* token = kAdmin) {
    return ramp::testing::runRamp(dir_, args, serve.url(), token);
  };
  auto image = [&] {
    auto r = cli({"get", "rollout", "shop", "-n", "shop", "-o", "json"});
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    return r.code == 0 && j.is_object()
               ? j["spec"]["template"]["spec"]["containers"][0].value("image", "")
               : "";
  };
  auto waitForImage = [&](const std::string& want) {
    for (int i = 0; i < 300 && image() != want; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return image() == want;
  };
  std::ofstream(dir_.file("app.yaml"))
      << "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: shop-prod, "
         "namespace: argocd}\nspec:\n  source: {repoURL: \""
      << url
      << "\", path: environments/prod, targetRevision: main}\n  destination: {namespace: shop}\n"
         "  syncPolicy: {automated: {}}\n";
  auto applied = cli({"apply", "-f", dir_.file("app.yaml")});
  ASSERT_EQ(applied.code, 0) << applied.out << applied.err;
  ASSERT_TRUE(waitForImage("shop:2")) << serve.log();

  const std::string c3 =
      repo_.commit(testing::twoEnvironments("shop:3"),
                   "Merge pull request #7 from shop/bump\n\nReviewed-by: Bob <bob@example.com>");
  repo_.push();
  ASSERT_EQ(cli({"app", "refresh", "shop-prod", "-n", "argocd"}, kOperator).code, 0);
  ASSERT_TRUE(waitForImage("shop:3")) << serve.log();

  auto rollback = cli(
      {"app", "rollback", "shop-prod", "-n", "argocd", "--reason", "checkout errors after shop:3"},
      kOperator);
  ASSERT_EQ(rollback.code, 0) << rollback.out << rollback.err;
  EXPECT_NE(rollback.out.find("history 1, by a revert commit"), std::string::npos) << rollback.out;
  ASSERT_TRUE(waitForImage("shop:2")) << serve.log();

  // The server's branch has the revert: by bob, on top of c3, naming what it reverts and why.
  const std::string head = repo_.serverLog("%an%n%P%n%s%n%b");
  EXPECT_EQ(head.substr(0, head.find('\n')), "bob") << head;
  EXPECT_NE(head.find(c3 + "\nRoll back environments/prod to " + c2_.substr(0, 7)),
            std::string::npos)
      << head;
  EXPECT_NE(head.find("Reason: checkout errors after shop:3"), std::string::npos) << head;
  const std::string revert = sh("git --git-dir=" + root_ + "/shop.git rev-parse main");

  auto history = cli({"app", "history", "shop-prod", "-n", "argocd"});
  ASSERT_EQ(history.code, 0) << history.err;
  EXPECT_NE(history.out.find("3   "), std::string::npos) << history.out;
  EXPECT_NE(history.out.find(revert.substr(0, 7) + "   bob"), std::string::npos) << history.out;
  auto got = cli({"app", "get", "shop-prod", "-n", "argocd", "-o", "json"});
  auto app = nlohmann::json::parse(got.out, nullptr, false);
  ASSERT_TRUE(app.is_object()) << got.out << got.err;
  EXPECT_EQ(app["status"]["sync"].value("status", ""), "Synced");
  EXPECT_EQ(app["status"]["sync"].value("revision", ""), revert);
  // The audit records of the sync of c3 name the change (the merge commit's pull request and
  // approver), the environment, where it came from and the image it replaced.
  auto records = cli({"audit", "show", "--action", "apply,sync,rollback", "-o", "json"});
  ASSERT_EQ(records.code, 0) << records.err;
  auto all = nlohmann::json::parse(records.out, nullptr, false);
  ASSERT_TRUE(all.is_array()) << records.out;
  // Copies: a missing field reads as null instead of failing an assertion.
  std::optional<nlohmann::json> apply3, sync3;
  int rollbacks = 0;
  for (const auto& r : all) {
    const auto& p = r["statement"]["predicate"];
    EXPECT_EQ(p.value("environment", ""), "prod") << p.dump();
    if (p["action"] == "rollback") ++rollbacks;
    if (!p.contains("change") || p["change"].value("revision", "") != c3) continue;
    if (p["action"] == "apply" && p["object"]["kind"] == "Rollout") apply3 = p;
    if (p["action"] == "sync") sync3 = p;
  }
  ASSERT_TRUE(apply3) << records.out;
  ASSERT_TRUE(sync3) << records.out;
  EXPECT_EQ((*apply3)["change"]["pullRequest"], "7");
  EXPECT_EQ((*apply3)["change"]["approvers"], nlohmann::json::array({"Bob <bob@example.com>"}));
  EXPECT_EQ((*apply3)["change"]["author"], "tester <tester@example.com>");
  EXPECT_EQ((*apply3)["change"]["repo"], url);
  EXPECT_EQ((*apply3)["actor"]["origin"], "gitops");
  EXPECT_EQ((*apply3)["previous"]["images"], nlohmann::json::array({"shop:2"}));
  EXPECT_EQ((*sync3)["change"], (*apply3)["change"]);
  EXPECT_GE(rollbacks, 1) << "the rollback is a decision record too";
  auto text = cli({"audit", "show", "shop", "-n", "shop", "--action", "apply"});
  EXPECT_NE(text.out.find("pull request 7 approved by Bob <bob@example.com>"), std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("(controller, gitops) in prod"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("previous: image shop:2"), std::string::npos) << text.out;

  // Polls later: Git says shop:2, and auto-sync leaves it there.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(image(), "shop:2");
}

}  // namespace
}  // namespace ramp::gitops
