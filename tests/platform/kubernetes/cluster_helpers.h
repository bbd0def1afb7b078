#pragma once

// Helpers shared by the tests that run `ramp serve --platform platform.kubernetes` against the
// test cluster (kubernetes_cluster_test.cc, argo_plugin_cluster_test.cc): an admin API client
// a poll with a deadline, and a shell command's output. Not thread-safe beyond what kube::Client
// promises.

#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "harness/harness.h"
#include "harness/kube_cluster.h"
#include "kube/client.h"
#include "kube/kubeconfig.h"
#include "ramp/clock.h"

namespace ramp::testing {

// A client of the cluster's admin kubeconfig.
inline Result<std::unique_ptr<kube::Client>> adminClient(const KubeCluster& cluster) {
  auto config = kube::loadKubeconfig(cluster.kubeconfig(), "");
  if (!config) return std::unexpected(config.error());
  return kube::Client::create(*config, realClock());
}

// A fixture on the shared test cluster with an admin client (client_): skipped, with the reason,
// while the cluster's programs are not built; failed when the cluster did not start
// (KubeCluster::shared reports why). A fixture that sets up more calls this SetUp first and
// stops when IsSkipped() or HasFatalFailure().
class OnTheSharedCluster : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string skip;
    cluster_ = KubeCluster::shared(&skip);
    if (cluster_ == nullptr) {
      if (!skip.empty()) GTEST_SKIP() << skip;
      GTEST_FAIL() << "the test cluster did not start";
    }
    auto made = adminClient(*cluster_);
    ASSERT_TRUE(made) << made.error().message;
    client_ = std::move(*made);
  }

  KubeCluster* cluster_ = nullptr;
  std::unique_ptr<kube::Client> client_;
};

// Polls `done` every 200 ms until it returns true or `timeout` passes; returns its last answer.
inline bool eventually(const std::function<bool()>& done,
                       std::chrono::seconds timeout = std::chrono::seconds(120)) {
  for (auto end = std::chrono::steady_clock::now() + timeout;
       std::chrono::steady_clock::now() < end;
       std::this_thread::sleep_for(std::chrono::milliseconds(200))) {
    if (done()) return true;
  }
  return done();
}

// Starts `ramp serve --store store.kubernetes --platform platform.kubernetes EXTRA…` on
// `kubeconfig` and `ns`, with its data and log (serve.log) in `dir`, and waits up to `ready` for it
// to say so. On error (it did not start, or not ready in time: the message has its log) the
// process, if any, is stopped.
inline Result<std::unique_ptr<Process>> startRampOnCluster(
    const TempDir& dir, const std::string& kubeconfig, const std::string& ns,
    std::chrono::seconds ready = std::chrono::seconds(60),
    const std::vector<std::string>& extra = {}) {
  ProcessOptions o;
  o.argv = {binaryDir() + "/ramp",
            "serve",
            "--data",
            dir.file("data"),
            "--store",
            "store.kubernetes",
            "--platform",
            "platform.kubernetes",
            "--kubeconfig",
            kubeconfig,
            "--namespace",
            ns,
            "--listen",
            "127.0.0.1:0",
            "--progress-poll-ms",
            "200"};
  o.argv.insert(o.argv.end(), extra.begin(), extra.end());
  o.logFile = dir.file("serve.log");
  auto serve = Process::start(o);
  if (!serve) return serve;
  if (!eventually([&] { return (*serve)->log().find("ramp serve: ready") != std::string::npos; },
                  ready)) {
    return std::unexpected(
        makeError(ErrorCode::kDeadlineExceeded, "ramp serve was not ready:\n" + (*serve)->log()));
  }
  return serve;
}

// Runs a shell command; returns (exit status, stdout and stderr together).
inline std::pair<int, std::string> shell(const std::string& command) {
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return {-1, "popen failed"};
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// `s` in single quotes for the shell (s must not contain a single quote).
inline std::string quote(const std::string& s) { return "'" + s + "'"; }

}  // namespace ramp::testing
