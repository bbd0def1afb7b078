// The GitOps agent's place in `ramp serve` (see serve.h): gitops::Agent on the daemon's store,
// reading Git through libgit2 (mirrors in DATA/git, credentials from --git-credentials) and
// writing through the API's own apply (api/gitops_service.h), on its own thread.

#include <thread>

#include "api/gitops_service.h"
#include "api/object_service.h"
#include "cli/serve.h"
#include "gitops/agent.h"
#include "gitops/libgit2_source.h"
#include "ramp/registry.h"

namespace ramp::cli {
namespace {

class RunningGitops final : public ServeGitops {
 public:
  RunningGitops(store::StateStore& store, const Registry& registry, const ServeOptions& options)
      : service_(store, realClock(), nullptr, api::RunChecks{&registry, options.platform}),
        git_(options.dataDir + "/git", options.gitCredentialsDir),
        agent_(store, git_, api::gitopsApplyFn(service_), agentOptions(options)) {}
  ~RunningGitops() override {
    if (thread_.joinable()) {
      thread_.request_stop();
      thread_.join();
    }
  }
  void start() override {
    thread_ = std::jthread([this](std::stop_token stop) { agent_.run(realClock(), stop); });
  }
  int refresh(const std::string& repoURL) override { return agent_.refresh(repoURL); }

 private:
  static gitops::AgentOptions agentOptions(const ServeOptions& options) {
    gitops::AgentOptions o;
    o.reconcile.pollInterval = std::chrono::seconds(options.gitopsPollSeconds);
    return o;
  }
  api::ObjectService service_;
  gitops::Libgit2Source git_;
  gitops::Agent agent_;
  std::jthread thread_;
};

}  // namespace

void configureGitopsFlags(CLI::App& cmd, ServeOptions& options) {
  cmd.add_option("--git-credentials", options.gitCredentialsDir,
                 "Directory of Git credentials for Applications' repositories: username and "
                 "password (https), ssh-privatekey (ssh), never printed; ca.crt and known_hosts "
                 "to trust servers (docs/gitops.md)")
      ->check(CLI::ExistingDirectory);
  cmd.add_option("--gitops-poll-s", options.gitopsPollSeconds,
                 "How often each Application's repository is fetched (Argo CD's "
                 "timeout.reconciliation)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd.add_option("--gitops-webhook-secret", options.gitopsWebhookSecretFile,
                 "File holding the secret Git servers sign POST /api/v1/gitops/webhook with "
                 "(without it unsigned pushes are accepted, as in Argo CD)")
      ->check(CLI::ExistingFile);
}

std::unique_ptr<ServeGitops> startGitops(const ServeOptions& options, store::StateStore& store,
                                         const Registry& registry) {
  return std::make_unique<RunningGitops>(store, registry, options);
}

}  // namespace ramp::cli
