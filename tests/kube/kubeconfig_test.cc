#include "kube/kubeconfig.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace ramp::kube {
namespace {

// "hello" and a PEM-ish text, base64.
constexpr const char* kCaB64 =
    "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCmNhCg==";  // "-----BEGIN CERTIFICATE-----\nca\n"

std::string kubeconfig(const std::string& user, const std::string& extraCluster = "") {
  return "apiVersion: v1\nkind: Config\ncurrent-context: dev\n"
         "contexts:\n"
         "- name: dev\n  context: {cluster: local, user: me, namespace: shop}\n"
         "- name: other\n  context: {cluster: local, user: me}\n"
         "clusters:\n"
         "- name: local\n  cluster:\n    server: https://127.0.0.1:6443/\n"
         "    certificate-authority-data: " +
         std::string(kCaB64) + "\n" + extraCluster + "users:\n- name: me\n  user:\n" + user;
}

struct Files {
  std::map<std::string, std::string> files;
  FileReader reader() const {
    return [this](const std::string& p) -> Result<std::string> {
      auto it = files.find(p);
      if (it == files.end()) return makeError(ErrorCode::kNotFound, "cannot read " + p);
      return it->second;
    };
  }
};

TEST(Kubeconfig, ClientCertificateFromDataAndFiles) {
  Files f;
  f.files["certs/me.key"] = "KEY";
  auto c = parseKubeconfig(kubeconfig("    client-certificate-data: Q0VSVA==\n"
                                      "    client-key: certs/me.key\n"),
                           "kc.yaml", "", f.reader());
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->server, "https://127.0.0.1:6443");
  EXPECT_EQ(c->caPem, "-----BEGIN CERTIFICATE-----\nca\n");
  EXPECT_EQ(c->clientCertPem, "CERT");
  EXPECT_EQ(c->clientKeyPem, "KEY");
  EXPECT_EQ(c->namespace_, "shop");
  EXPECT_EQ(c->source, "kubeconfig kc.yaml, context dev");
  auto other = parseKubeconfig(kubeconfig("    token: abc\n"), "kc.yaml", "other", f.reader());
  ASSERT_TRUE(other) << other.error().message;
  EXPECT_EQ(other->namespace_, "default");
  EXPECT_EQ(other->token, "abc");
}

TEST(Kubeconfig, EveryProblemNamesFileLineColumnAndPath) {
  Files f;
  struct Case {
    std::string text;
    std::string context;
    std::string want;
  };
  const std::vector<Case> cases = {
      {kubeconfig("    exec: {command: aws}\n"), "",
       "kc.yaml:17:11: users[0].user.exec: exec credential plugins are not supported"},
      {kubeconfig("    auth-provider: {name: gcp}\n"), "",
       "users[0].user.auth-provider: auth-provider plugins are not supported"},
      {kubeconfig("    username: a\n    password: b\n"), "", "basic authentication was removed"},
      {kubeconfig("    client-certificate-data: Q0VSVA==\n"), "",
       "client-certificate and client-key go together"},
      {kubeconfig("    client-certificate-data: '%%%'\n    client-key-data: Q0VSVA==\n"), "",
       "users[0].user.client-certificate-data: is not base64"},
      {kubeconfig("    client-key: nope.key\n    client-certificate-data: Q0VSVA==\n"), "",
       "users[0].user.client-key: cannot read nope.key"},
      {kubeconfig("    token: abc\n"), "prod", "--context: no context named \"prod\" in contexts"},
      {"apiVersion: v1\nkind: Config\n", "", "current-context: is not set"},
      {"- a\n- b\n", "", "a kubeconfig is one YAML map"},
      {"current-context: x\ncontexts: [\n", "", "kc.yaml:3:1"},
      {"current-context: dev\ncontexts:\n- name: dev\n  context: {cluster: gone, user: me}\n", "",
       "contexts[0].context.cluster: no cluster named \"gone\" in clusters"},
      {"current-context: dev\ncontexts:\n- name: dev\n  context: {cluster: k}\nclusters:\n- name: "
       "k\n"
       "  cluster: {server: 127.0.0.1:6443}\n",
       "", "clusters[0].cluster.server: must be an http(s):// URL"},
  };
  for (const Case& c : cases) {
    auto got = parseKubeconfig(c.text, "kc.yaml", c.context, f.reader());
    ASSERT_FALSE(got) << c.want;
    EXPECT_NE(got.error().message.find(c.want), std::string::npos)
        << "want: " << c.want << "\ngot:  " << got.error().message;
    EXPECT_EQ(got.error().message.find("Q0VSVA"), std::string::npos);  // no secret echoed
  }
}

TEST(Kubeconfig, InClusterFromTheServiceAccount) {
  Files f;
  f.files["/sa/token"] = "tok\n";
  f.files["/sa/ca.crt"] = "CA";
  f.files["/sa/namespace"] = "argo-rollouts\n";
  auto c = inClusterConfigFrom(
      {{"KUBERNETES_SERVICE_HOST", "10.0.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}}, "/sa",
      f.reader());
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->server, "https://10.0.0.1:443");
  EXPECT_EQ(c->tokenFile, "/sa/token");
  EXPECT_EQ(c->caPem, "CA");
  EXPECT_EQ(c->namespace_, "argo-rollouts");
  auto ipv6 = inClusterConfigFrom(
      {{"KUBERNETES_SERVICE_HOST", "fd00::1"}, {"KUBERNETES_SERVICE_PORT", "443"}}, "/sa",
      f.reader());
  ASSERT_TRUE(ipv6);
  EXPECT_EQ(ipv6->server, "https://[fd00::1]:443");
  auto outside = inClusterConfigFrom({}, "/sa", f.reader());
  ASSERT_FALSE(outside);
  EXPECT_EQ(outside.error().code, ErrorCode::kFailedPrecondition);
}

}  // namespace
}  // namespace ramp::kube
