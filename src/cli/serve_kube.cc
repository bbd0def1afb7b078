// The Kubernetes API client of `ramp serve` (see serve.h): one client for the whole daemon,
// handed to every extension through ExtensionContext::kubeClient.

#include "cli/serve.h"
#include "kube/client.h"
#include "kube/kubeconfig.h"

namespace ramp::cli {

void configureKubeFlags(CLI::App& cmd, ServeOptions& options) {
  cmd.add_option("--kubeconfig", options.kubeconfig,
                 "Kubernetes API server for platform.kubernetes and store.kubernetes: a kubeconfig "
                 "file (its current context); without it, the in-cluster service account when "
                 "running in a Pod");
  cmd.add_option("--namespace", options.kubeNamespace,
                 "The one namespace platform.kubernetes and store.kubernetes work in (default: "
                 "every namespace)");
  cmd.add_option("--instance-id", options.instanceId,
                 "Argo's controller instance id: store.kubernetes handles only the objects "
                 "labelled argo-rollouts.argoproj.io/controller-instance-id=ID (without it, only "
                 "those without the label), and the leader lease is named after it");
  cmd.add_option("--qps", options.kubeQps,
                 "Requests per second to the Kubernetes API server, on average (Argo's --qps)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd.add_option("--burst", options.kubeBurst,
                 "Requests to the Kubernetes API server at once above --qps (Argo's --burst)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
}

Result<std::unique_ptr<kube::Client>> connectKube(const ServeOptions& options, Clock& clock) {
  Result<kube::ClusterConfig> config;
  if (!options.kubeconfig.empty()) {
    config = kube::loadKubeconfig(options.kubeconfig, "");
    if (!config) {
      return makeError(config.error().code, "--kubeconfig: " + config.error().message);
    }
  } else {
    config = kube::inClusterConfig();
    if (!config) {
      // Not in a cluster: no client, and extensions that need one say so.
      if (config.error().code == ErrorCode::kFailedPrecondition) return nullptr;
      return makeError(config.error().code, "in-cluster configuration: " + config.error().message);
    }
  }
  kube::ClientOptions client;
  client.qps = options.kubeQps;
  client.burst = options.kubeBurst;
  return kube::Client::create(std::move(*config), clock, client);
}

}  // namespace ramp::cli
