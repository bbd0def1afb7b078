#pragma once

// The Kubernetes test cluster (scripts/kube-cluster.sh: etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler and kwok on loopback) shared by every test of one test
// process: started on first use with ramp's CRDs (deploy/crds) applied, stopped by pid when the
// process exits. Tests skip, with the reason, only when the cluster's programs are not built
// (`make kube-build`); a cluster that is built but does not start fails the test.
//
// Thread safety: shared() may be called from any thread; kubectl() runs a child process.

#include <string>

#include "ramp/error.h"

namespace ramp::testing {

class KubeCluster {
 public:
  // The running cluster, or nullptr with `*skipReason` set when its programs are not built. A
  // failed start is a test failure (ADD_FAILURE) and also returns nullptr.
  static KubeCluster* shared(std::string* skipReason);

  // The admin kubeconfig.
  const std::string& kubeconfig() const { return kubeconfig_; }
  // Runs `kubectl ARGS` (a shell fragment) against the cluster; returns its exit status, with
  // stdout and stderr in `*output` when given.
  int kubectl(const std::string& args, std::string* output = nullptr) const;
  // Kills kube-apiserver (SIGKILL) and starts it again on its port (kube-cluster.sh
  // restart-apiserver); returns when it answers /readyz. Exit status as kubectl(); every client's
  // connection is cut meanwhile. A test that calls it needs a cluster of its own (its own test
  // binary): the others of one binary share this one.
  int restartApiServer(std::string* output = nullptr);
  // Writes to `path` a kubeconfig of the cluster's server and CA that authenticates as the
  // ServiceAccount `ns/name` with a token of `kubectl create token` (1 h). Error (with
  // kubectl's output) when the token cannot be made.
  Status writeServiceAccountKubeconfig(const std::string& ns, const std::string& name,
                                       const std::string& path) const;

  ~KubeCluster();

 private:
  KubeCluster() = default;
  std::string dir_, script_, kubeconfig_;
};

}  // namespace ramp::testing
