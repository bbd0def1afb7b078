#pragma once

// The real Kubernetes test cluster of scripts/kube-cluster.sh (etcd, kube-apiserver,
// controller-manager, scheduler, kwok) started on loopback in a test's temporary directory for
// the life of one object, and stopped by the pids the script recorded. When the cluster's
// programs are not built (`make kube-build`), built() is false and the test skips itself.
//
// Thread safety: none; use from the test's thread.

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "harness/harness.h"

namespace ramp::testing {

class KubeCluster {
 public:
  explicit KubeCluster(const TempDir& dir) : dir_(dir.file("cluster")) {
    script_ = sourceDir() + "/scripts/kube-cluster.sh";
    std::string bin = "'" + script_ + "' bin >/dev/null 2>&1";
    if (std::system(bin.c_str()) != 0) return;
    programsBuilt_ = true;
    std::string start =
        "'" + script_ + "' start '" + dir_ + "' >" + dir.file("start.log") + " 2>&1";
    started_ = std::system(start.c_str()) == 0;
    EXPECT_TRUE(started_) << "kube-cluster.sh start failed: see " << dir.file("start.log");
  }
  ~KubeCluster() {
    if (!programsBuilt_) return;
    std::string stop = "'" + script_ + "' stop '" + dir_ + "' >/dev/null 2>&1";
    (void)std::system(stop.c_str());
  }
  KubeCluster(const KubeCluster&) = delete;
  KubeCluster& operator=(const KubeCluster&) = delete;

  // True when the programs are built and the cluster started.
  bool built() const { return started_; }
  // The admin kubeconfig (client certificate of group system:masters).
  std::string kubeconfig() const { return dir_ + "/kubeconfig"; }
  // Where the components' logs are (DIR/<name>.log).
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_, script_;
  bool programsBuilt_ = false;
  bool started_ = false;
};

}  // namespace ramp::testing
