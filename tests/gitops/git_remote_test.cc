// gitops/libgit2_source.h against real Git servers over the two transports Git hosts use, with
// the credentials read from ramp's secret directory (--git-credentials, docs/gitops.md):
//   - https: git http-backend behind nginx (fcgiwrap), TLS from a CA the test generates, HTTP
//     Basic authentication;
//   - ssh: OpenSSH's sshd with a generated host key and the user key of the secret directory.
// Each clones, fetches a new commit and pushes a revert commit; each refuses a server it cannot
// authenticate (an unknown CA, an unknown or changed host key) and wrong credentials, with a
// message that says which and never holds the secret.
#include <gtest/gtest.h>

#include "gitops/git_servers.h"
#include "gitops/gitops_fixtures.h"
#include "gitops/libgit2_source.h"
#include "harness/harness.h"

namespace ramp::gitops {
namespace {

using ramp::testing::TempDir;
using testing::sh;
using testing::writeFile;

constexpr const char* kPassword = "pa55-0f-deploy-9f3c";
constexpr const char* kWrongPassword = "not-the-password-77aa";

class GitRemoteTest : public ::testing::Test {
 protected:
  std::string secret(const std::string& name) const { return secrets_.file(name); }

  // Fetches a new upstream commit, then pushes a revert of environments/prod to c1 authored by
  // bob, and checks the server has it.
  void fetchesAndPushesARevert(Libgit2Source& source, const std::string& url) {
    EXPECT_EQ(source.resolve(url, "main"), repo_.c2);
    EXPECT_EQ(source.resolve(url, "v1"), repo_.c1);
    const std::string c3 = repo_.commit(testing::twoEnvironments("shop:3"), "third");
    repo_.push();
    ASSERT_EQ(source.resolve(url, "main"), c3);
    auto prod = source.readTree(url, c3, "environments/prod");
    ASSERT_TRUE(prod) << prod.error().message;
    EXPECT_NE(prod->at("environments/prod/shop.yaml").find("shop:3"), std::string::npos);
    auto revert = source.revertPath(url, "main", "environments/prod", repo_.c1, "bob",
                                    "Roll back environments/prod to " + repo_.c1.substr(0, 7));
    ASSERT_TRUE(revert) << revert.error().message;
    EXPECT_EQ(
        repo_.serverLog("%H %an %P %s"),
        revert->sha + " bob " + c3 + " Roll back environments/prod to " + repo_.c1.substr(0, 7));
    EXPECT_EQ(source.resolve(url, "main"), revert->sha);
  }

  TempDir dir_{"ramp-git-remote"};
  TempDir secrets_{"ramp-git-secret"};
  testing::ShopRepository repo_{dir_};
};

// Before any repository is read, the server must be authenticated (a CA), then the server must
// accept us (username + password); each failure is named, without the password.
TEST_F(GitRemoteTest, HttpsThroughNginxWithBasicCredentialsAndATestCa) {
  auto server = testing::HttpsGitServer::start(repo_.root, "shop.git", dir_.file("https"), "deploy",
                                               kPassword);
  ASSERT_TRUE(server);
  const std::string url = server->url("shop.git");
  Libgit2Source source(dir_.file("cache"), secrets_.path());
  auto refused = [&](ErrorCode code, const std::string& why) {
    auto r = source.resolve(url, "main");
    if (r) return ::testing::AssertionFailure() << "resolved " << *r;
    if (r.error().code != code || r.error().message.find(why) == std::string::npos ||
        r.error().message.find(kPassword) != std::string::npos ||
        r.error().message.find(kWrongPassword) != std::string::npos) {
      return ::testing::AssertionFailure()
             << errorCodeName(r.error().code) << ": " << r.error().message;
    }
    return ::testing::AssertionSuccess();
  };

  // The server's CA is not one of the system's, and the secret directory has none.
  writeFile(secret("username"), "deploy\n");
  writeFile(secret("password"), std::string(kPassword) + "\n");
  EXPECT_TRUE(refused(ErrorCode::kUnavailable,
                      "repository " + url +
                          ": the TLS certificate of 127.0.0.1 is not trusted by the system's "
                          "CAs, and the credentials directory has no ca.crt"));
  // A CA that signed something else.
  sh("cp " + server->otherCaFile() + " " + secret("ca.crt"));
  EXPECT_TRUE(refused(ErrorCode::kUnavailable,
                      "the TLS certificate of 127.0.0.1 is not trusted by ca.crt of the "
                      "credentials directory: unable to get local issuer certificate"));
  // The right CA, a wrong password: nginx answers 401 each time.
  sh("cp " + server->caFile() + " " + secret("ca.crt"));
  writeFile(secret("password"), std::string(kWrongPassword) + "\n");
  EXPECT_TRUE(refused(ErrorCode::kUnauthenticated,
                      "repository " + url + ": the server refused the credentials"));
  // The secrets are read when the server asks: the right password works without a restart.
  writeFile(secret("password"), std::string(kPassword) + "\n");
  fetchesAndPushesARevert(source, url);
  EXPECT_EQ(server->log().find(kPassword), std::string::npos);
}

TEST_F(GitRemoteTest, SshThroughSshdWithAUserKeyAndKnownHosts) {
  sh("ssh-keygen -q -t ed25519 -N '' -C ramp -f " + dir_.file("ramp_key"));
  sh("ssh-keygen -q -t ed25519 -N '' -C intruder -f " + dir_.file("intruder_key"));
  auto server =
      testing::SshGitServer::start(repo_.root, "shop.git", dir_.file("ssh"),
                                   sh("cat " + dir_.file("ramp_key.pub")), dir_.file("ramp_key"));
  ASSERT_TRUE(server);
  const std::string url = server->url("shop.git");
  // "256 SHA256:… ramp-test-host (ED25519)" -> "SHA256:…"
  std::string fingerprint = sh("ssh-keygen -l -f " + dir_.file("ssh/host_key.pub"));
  fingerprint = fingerprint.substr(4, fingerprint.find(' ', 4) - 4);
  const std::string line = server->knownHostsLine();
  const std::string hostField = line.substr(0, line.find(' '));  // [127.0.0.1]:PORT
  const std::string who = "the ssh host key of " + hostField + " (ssh-ed25519 " + fingerprint + ")";
  Libgit2Source source(dir_.file("cache"), secrets_.path());
  const std::string intruderKey = sh("cat " + dir_.file("intruder_key"));
  auto refused = [&](ErrorCode code, const std::string& why) {
    auto r = source.resolve(url, "main");
    if (r) return ::testing::AssertionFailure() << "resolved " << *r;
    const std::string keyBody = intruderKey.substr(40, 40);  // inside the PEM
    if (r.error().code != code || r.error().message.find(why) == std::string::npos ||
        r.error().message.find(keyBody) != std::string::npos) {
      return ::testing::AssertionFailure()
             << errorCodeName(r.error().code) << ": " << r.error().message;
    }
    return ::testing::AssertionSuccess();
  };

  writeFile(secret("ssh-privatekey"), sh("cat " + dir_.file("ramp_key")) + "\n");
  // The host key is not known: no credential is sent to the server.
  EXPECT_TRUE(refused(ErrorCode::kUnavailable,
                      "repository " + displayUrl(url) + ": " + who +
                          " is unknown: no known_hosts in the credentials directory, and not "
                          "in ~/.ssh/known_hosts"));
  writeFile(secret("known_hosts"), "[127.0.0.1]:1 " + line.substr(line.find(' ') + 1) + "\n");
  EXPECT_TRUE(refused(ErrorCode::kUnavailable,
                      who + " is not in known_hosts of the credentials directory"));
  // known_hosts lists another key for this host and port: a changed key is refused.
  writeFile(secret("known_hosts"),
            hostField + " " + sh("cut -d' ' -f1,2 " + dir_.file("intruder_key.pub")) + "\n");
  EXPECT_TRUE(
      refused(ErrorCode::kUnavailable, who + " does not match the one known_hosts has for it"));
  // The right host key, a user key the server does not accept.
  writeFile(secret("known_hosts"), "# ramp's Git servers\n" + line + "\n");
  writeFile(secret("ssh-privatekey"), intruderKey + "\n");
  EXPECT_TRUE(refused(ErrorCode::kUnauthenticated,
                      "repository " + displayUrl(url) + ": the server refused the credentials"));
  // The right key.
  writeFile(secret("ssh-privatekey"), sh("cat " + dir_.file("ramp_key")) + "\n");
  fetchesAndPushesARevert(source, url);
  // A URL without a user: the user is `username` of the secret directory.
  const std::string user = url.substr(6, url.find('@') - 6);
  const std::string noUser = "ssh://" + url.substr(url.find('@') + 1);
  writeFile(secret("username"), user + "\n");
  auto head = source.resolve(noUser, "main");
  ASSERT_TRUE(head) << head.error().message;
  EXPECT_EQ(*head, sh("git --git-dir=" + repo_.root + "/shop.git rev-parse main"));
}

}  // namespace
}  // namespace ramp::gitops
