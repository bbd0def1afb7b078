#include "harness/kube_cluster.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>

#include "harness/harness.h"

namespace ramp::testing {
namespace {

int run(const std::string& command, std::string* output) {
  std::string cmd = command + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return -1;
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = ::pclose(p);
  if (output != nullptr) *output = out;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string quote(const std::string& s) { return "'" + s + "'"; }

}  // namespace

KubeCluster* KubeCluster::shared(std::string* skipReason) {
  static std::mutex mu;
  // dir first: statics are destroyed in reverse, so the cluster stops before its dir goes.
  static std::unique_ptr<TempDir> dir;
  static std::unique_ptr<KubeCluster> cluster;
  static bool tried = false;
  static std::string reason;
  std::lock_guard lock(mu);
  if (!tried) {
    tried = true;
    const std::string script = sourceDir() + "/scripts/kube-cluster.sh";
    if (run(quote(script) + " bin", nullptr) != 0) {
      reason = "the test cluster's programs are not built (make kube-build)";
    } else {
      dir = std::make_unique<TempDir>("ramp-kube-cluster");
      auto c = std::unique_ptr<KubeCluster>(new KubeCluster());
      c->script_ = script;
      c->dir_ = dir->file("cluster");
      c->kubeconfig_ = c->dir_ + "/kubeconfig";
      std::string log;
      if (run(quote(script) + " start " + quote(c->dir_), &log) != 0) {
        ADD_FAILURE() << "kube-cluster.sh start failed:\n" << log;  // ~c stops what started
      } else if (c->kubectl("apply -f " + quote(sourceDir() + "/deploy/crds"), &log) != 0 ||
                 c->kubectl("wait --for=condition=Established --timeout=60s -f " +
                                quote(sourceDir() + "/deploy/crds"),
                            &log) != 0) {
        ADD_FAILURE() << "applying deploy/crds failed:\n" << log;
      } else {
        cluster = std::move(c);
      }
    }
  }
  if (cluster == nullptr && skipReason != nullptr) {
    *skipReason =
        reason.empty() ? "the test cluster did not start (see the failure above)" : reason;
  }
  return cluster.get();
}

int KubeCluster::kubectl(const std::string& args, std::string* output) const {
  return run(
      ". " + quote(dir_ + "/env") + " && kubectl --kubeconfig " + quote(kubeconfig_) + " " + args,
      output);
}

int KubeCluster::restartApiServer(std::string* output) {
  return run(quote(script_) + " restart-apiserver " + quote(dir_), output);
}

Status KubeCluster::writeServiceAccountKubeconfig(const std::string& ns, const std::string& name,
                                                  const std::string& path) const {
  std::string server, caFile, caData, token;
  const std::string view = "config view --minify --raw -o jsonpath='{.clusters[0].cluster.";
  if (kubectl(view + "server}'", &server) != 0 ||
      kubectl(view + "certificate-authority}'", &caFile) != 0 ||
      kubectl(view + "certificate-authority-data}'", &caData) != 0) {
    return makeError(ErrorCode::kInternal, "kubectl config view: " + server + caFile + caData);
  }
  if (kubectl("create token " + quote(name) + " -n " + quote(ns) + " --duration=1h", &token) != 0) {
    return makeError(ErrorCode::kInternal, "kubectl create token: " + token);
  }
  while (!token.empty() && token.back() == '\n') token.pop_back();
  std::ofstream out(path);
  out << "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: " << server
      << "\n    "
      << (caData.empty() ? "certificate-authority: " + caFile
                         : "certificate-authority-data: " + caData)
      << "\nusers:\n- name: " << name << "\n  user:\n    token: " << token
      << "\ncontexts:\n- name: sa\n  context: {cluster: test, user: " << name
      << "}\ncurrent-context: sa\n";
  if (!out.flush()) return makeError(ErrorCode::kInternal, "cannot write " + path);
  return {};
}

KubeCluster::~KubeCluster() { (void)run(quote(script_) + " stop " + quote(dir_), nullptr); }

}  // namespace ramp::testing
