// gitops/webhook.h: push payloads of GitHub, Gitea and GitLab, their signatures, and repository
// URL matching.
#include "gitops/webhook.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace ramp::gitops {
namespace {

std::string hmac(const std::string& secret, const std::string& body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &len);
  char hex[2 * EVP_MAX_MD_SIZE + 1];
  for (unsigned int i = 0; i < len; ++i) std::snprintf(hex + 2 * i, 3, "%02x", mac[i]);
  return std::string(hex, 2 * len);
}

const std::string kGithub =
    R"({"ref":"refs/heads/main","after":"0123abc","repository":{"clone_url":"https://github.com/org/deploy.git","ssh_url":"git@github.com:org/deploy.git","html_url":"https://github.com/org/deploy"}})";
const std::string kGitlab =
    R"({"ref":"refs/heads/main","project":{"git_http_url":"https://gitlab.com/org/deploy.git","git_ssh_url":"git@gitlab.com:org/deploy.git"}})";

TEST(WebhookTest, SignedPushesOfEachProvider) {
  auto gh = decodePushWebhook(
      {{"x-github-event", "push"}, {"x-hub-signature-256", "sha256=" + hmac("s3cret", kGithub)}},
      kGithub, "s3cret");
  ASSERT_TRUE(gh) << gh.error().message;
  EXPECT_EQ(gh->provider, "github");
  EXPECT_EQ(gh->ref, "refs/heads/main");
  EXPECT_EQ(gh->after, "0123abc");
  EXPECT_EQ(gh->repoURLs, (std::vector<std::string>{"https://github.com/org/deploy.git",
                                                    "git@github.com:org/deploy.git",
                                                    "https://github.com/org/deploy"}));
  auto gitea =
      decodePushWebhook({{"x-gitea-event", "push"}, {"x-gitea-signature", hmac("s3cret", kGithub)}},
                        kGithub, "s3cret");
  ASSERT_TRUE(gitea) << gitea.error().message;
  EXPECT_EQ(gitea->provider, "gitea");
  auto gl = decodePushWebhook({{"x-gitlab-event", "Push Hook"}, {"x-gitlab-token", "s3cret"}},
                              kGitlab, "s3cret");
  ASSERT_TRUE(gl) << gl.error().message;
  EXPECT_EQ(gl->repoURLs.front(), "https://gitlab.com/org/deploy.git");
}

TEST(WebhookTest, RefusalsAndIgnoredEvents) {
  struct Row {
    const char* name;
    std::map<std::string, std::string> headers;
    std::string body;
    std::string secret;
    ErrorCode code;
  };
  const Row rows[] = {
      {"wrong signature",
       {{"x-github-event", "push"}, {"x-hub-signature-256", "sha256=00"}},
       kGithub,
       "s3cret",
       ErrorCode::kUnauthenticated},
      {"signature of another body",
       {{"x-github-event", "push"},
        {"x-hub-signature-256", "sha256=" + hmac("s3cret", kGithub + " ")}},
       kGithub,
       "s3cret",
       ErrorCode::kUnauthenticated},
      {"no signature", {{"x-gitea-event", "push"}}, kGithub, "s3cret", ErrorCode::kUnauthenticated},
      {"wrong token",
       {{"x-gitlab-event", "Push Hook"}, {"x-gitlab-token", "guess"}},
       kGitlab,
       "s3cret",
       ErrorCode::kUnauthenticated},
      {"not a webhook",
       {{"content-type", "application/json"}},
       kGithub,
       "",
       ErrorCode::kUnsupported},
      {"another event", {{"x-github-event", "issues"}}, kGithub, "", ErrorCode::kUnsupported},
      {"not JSON", {{"x-github-event", "push"}}, "payload=1", "", ErrorCode::kInvalidArgument},
      {"no repository",
       {{"x-github-event", "push"}},
       R"({"ref":"x"})",
       "",
       ErrorCode::kInvalidArgument},
      {"repository without URL",
       {{"x-github-event", "push"}},
       R"({"repository":{"id":1}})",
       "",
       ErrorCode::kInvalidArgument},
      {"too large",
       {{"x-github-event", "push"}},
       std::string(kMaxWebhookBytes + 1, ' '),
       "",
       ErrorCode::kInvalidArgument},
  };
  for (const Row& row : rows) {
    auto r = decodePushWebhook(row.headers, row.body, row.secret);
    ASSERT_FALSE(r) << row.name;
    EXPECT_EQ(r.error().code, row.code) << row.name << ": " << r.error().message;
  }
  // Without a secret an unsigned push is accepted (Argo CD without webhook secrets).
  EXPECT_TRUE(decodePushWebhook({{"x-github-event", "push"}}, kGithub, ""));
}

TEST(WebhookTest, SameRepository) {
  EXPECT_TRUE(sameRepository("https://github.com/org/deploy.git", "https://github.com/Org/deploy"));
  EXPECT_TRUE(sameRepository("git@github.com:org/deploy.git", "ssh://git@github.com/org/deploy"));
  EXPECT_TRUE(
      sameRepository("https://user:pw@github.com/org/deploy/", "http://github.com/org/deploy"));
  EXPECT_TRUE(sameRepository("git@github.com:org/deploy.git", "https://github.com/org/deploy"));
  EXPECT_FALSE(sameRepository("https://github.com/org/deploy", "https://github.com/org/deploy2"));
  EXPECT_FALSE(sameRepository("https://github.com/org/deploy", "https://gitlab.com/org/deploy"));
}

}  // namespace
}  // namespace ramp::gitops
