#pragma once

// `ramp serve`: options and the hook where the HTTP API joins the daemon. serve_verb.cc runs
// the store and the controller; serve_api.cc starts the API (src/api) next to them, so the
// daemon's wiring stays in one small file per concern.
//
// Thread safety: called once per process from the main thread.

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "ramp/clock.h"
#include "ramp/error.h"

namespace ramp::store {
class StateStore;
}
namespace ramp::controller {
class Controller;
}
namespace ramp {
class Registry;
}  // namespace ramp

namespace ramp::platform {
class WorkloadDriver;
}
namespace ramp::kube {
class Client;
}
namespace ramp::supply {
class ImageVerifier;
}

namespace ramp::cli {

struct ServeOptions {
  std::string dataDir;
  std::string platform = "platform.process";
  std::string store = "store.sqlite";  // the registry's store (--store)
  bool leaderElect = false;  // --leader-elect: run the controller only while holding the lease
  int workers = 4;
  int maxBatch = 16;  // ControllerOptions::maxBatch
  std::string prometheusAddress;
  int64_t progressPollMs = 1000;
  int64_t routerWatchMs = 2000;  // ControllerOptions::routerWatch (0 = off)
  int64_t resyncSeconds = 900;
  // The Kubernetes API server (serve_kube.cc).
  std::string kubeconfig;
  std::string kubeNamespace;
  std::string instanceId;  // Argo's --instance-id (store.kubernetes only)
  double kubeQps = 40;     // Argo's --qps: the client's requests per second
  int kubeBurst = 80;      // Argo's --burst
  // The HTTP API (serve_api.cc).
  std::string listen;
  std::string tokensFile;
  std::string tlsCert;
  std::string tlsKey;
  size_t apiMaxBodyBytes = 1 << 20;
  size_t watchBufferEvents = 1000;
  int64_t watchHeartbeatMs = 15000;
  // The audit log (docs/audit.md): the signing key's PEM file ("" = unsigned records) and how
  // often a checkpoint is signed over new records.
  std::string auditKey;
  int64_t auditCheckpointMs = 10000;
  std::string environment;  // named by every audit record ("" = none)
  // Set by runServe for startApi: the public key served at GET /api/v1/audit/key.
  std::string auditPublicKeyPem;
  // The GitOps agent (serve_gitops.cc).
  std::string gitCredentialsDir;
  int64_t gitopsPollSeconds = 180;
  std::string gitopsWebhookSecretFile;
  // The signature gate (serve_supply.cc).
  std::string imagePolicy;
  std::string imagePolicyNoMatch = "deny";
  std::string registryCredentials;
  std::vector<std::string> trustedRoots;  // --trusted-root FILE | NAME=FILE (keyless)
};

// The GitOps agent running beside the controller; destroying it stops it.
class ServeGitops {
 public:
  virtual ~ServeGitops() = default;
  // Starts the agent's thread (after the API and the controller are up).
  virtual void start() = 0;
  // Makes the Applications reading `repoURL` ("" = all) due now; returns how many.
  virtual int refresh(const std::string& repoURL) = 0;
};

// Declares --git-credentials and --gitops-poll-s on `cmd`.
void configureGitopsFlags(CLI::App& cmd, ServeOptions& options);

// Builds the GitOps agent (docs/gitops.md); start() runs it on its own thread.
std::unique_ptr<ServeGitops> startGitops(const ServeOptions& options, store::StateStore& store,
                                         const Registry& registry);

// Whatever keeps the API running; destroying it stops the API.
class ServeApi {
 public:
  virtual ~ServeApi() = default;
};

// Declares the API's flags (--listen, --tokens, --tls-cert, --tls-key) on `cmd`.
void configureApiFlags(CLI::App& cmd, ServeOptions& options);

// Starts the API when options.listen is set (nullptr when not) and logs its start-up line
// ("api listening on URL (…)"). `driver` answers undo's revision history; apply checks Rollouts
// against `registry`'s extensions for options.platform. On error (address in use, bad tokens
// file or certificate) returns an Error naming the flag.
// `gitops` (may be null) answers POST /api/v1/gitops/webhook.
Result<std::unique_ptr<ServeApi>> startApi(const ServeOptions& options, store::StateStore& store,
                                           controller::Controller& controller,
                                           platform::WorkloadDriver& driver,
                                           const Registry& registry,
                                           const std::function<void(const std::string&)>& log,
                                           ServeGitops* gitops = nullptr);

// Declares --kubeconfig, --namespace, --instance-id, --qps and --burst on `cmd`.
void configureKubeFlags(CLI::App& cmd, ServeOptions& options);

// The daemon's one Kubernetes API client: from options.kubeconfig, else from the in-cluster
// service account, else none (nullptr: not running in a cluster). On error (an unreadable
// kubeconfig, a broken service account) returns an Error naming the flag or the source.
Result<std::unique_ptr<kube::Client>> connectKube(const ServeOptions& options, Clock& clock);

// Declares --image-policy, --image-policy-no-match and --registry-credentials on `cmd`.
void configureImagePolicyFlags(CLI::App& cmd, ServeOptions& options);

// The signature gate's verifier (docs/supply-chain.md): nullptr without --image-policy. On error
// (a policy file that cannot be read or parsed: every problem as file:line:column: path:
// message; an unreadable or unsupported credentials file) returns an Error naming the flag.
Result<std::unique_ptr<supply::ImageVerifier>> makeImageVerifier(const ServeOptions& options);

// Runs the daemon until SIGTERM/SIGINT; returns the exit code.
int runServe(const ServeOptions& options, IoStreams& io);

}  // namespace ramp::cli
