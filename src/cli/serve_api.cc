// The HTTP API's place in `ramp serve` (see serve.h): src/api's ApiServer on the daemon's store,
// with the controller's metrics appended to /metrics, the platform's revisions for undo, and its
// replicas and their logs for `ramp get` and `ramp logs`.

#include "api/api_server.h"
#include "cli/serve.h"
#include "common/file_io.h"
#include "common/strings.h"
#include "controller/controller.h"
#include "ramp/platform/workload_driver.h"
#include "ramp/registry.h"

namespace ramp::cli {
namespace {

class RunningApi final : public ServeApi {
 public:
  explicit RunningApi(std::unique_ptr<api::ApiServer> server) : server_(std::move(server)) {}
  ~RunningApi() override { server_->stop(); }

 private:
  std::unique_ptr<api::ApiServer> server_;
};

}  // namespace

void configureApiFlags(CLI::App& cmd, ServeOptions& options) {
  cmd.add_option("--listen", options.listen,
                 "Serve the HTTP API and the dashboard (/) on ADDR (host:port; port 0 picks a free "
                 "one)");
  cmd.add_option("--tokens", options.tokensFile,
                 "Bearer tokens file (TOKEN,NAME,ROLE per line), re-read when it changes; without "
                 "it the API is unauthenticated and loopback only");
  cmd.add_option("--tls-cert", options.tlsCert, "TLS certificate (PEM)");
  cmd.add_option("--tls-key", options.tlsKey, "TLS private key (PEM)");
  cmd.add_option("--max-body", options.apiMaxBodyBytes,
                 "Largest request body in bytes (413 above)");
  cmd.add_option("--watch-buffer", options.watchBufferEvents,
                 "Frames buffered per watch stream before a slow client is cut off");
  cmd.add_option("--watch-heartbeat-ms", options.watchHeartbeatMs,
                 "Heartbeat period of idle watch streams");
}

Result<std::unique_ptr<ServeApi>> startApi(const ServeOptions& options, store::StateStore& store,
                                           controller::Controller& controller,
                                           platform::WorkloadDriver& driver,
                                           const Registry& registry,
                                           const std::function<void(const std::string&)>& log,
                                           ServeGitops* gitops) {
  if (options.listen.empty()) return std::unique_ptr<ServeApi>();
  api::ApiOptions o;
  o.listen = options.listen;
  o.tokensFile = options.tokensFile;
  o.tlsCert = options.tlsCert;
  o.tlsKey = options.tlsKey;
  o.maxBodyBytes = options.apiMaxBodyBytes;
  o.watchBufferEvents = options.watchBufferEvents;
  o.heartbeat = Duration(options.watchHeartbeatMs);
  o.log = log;
  o.appendMetrics = [&controller](MetricsPage& page) { controller.appendMetrics(page); };
  o.revisions =
      [&driver](const std::string& rolloutKey) -> Result<std::vector<platform::ObservedRevision>> {
    auto workload = driver.observe(rolloutKey);
    if (!workload) return std::unexpected(workload.error());
    return std::move(workload->revisions);
  };
  o.runChecks = {&registry, options.platform};
  o.auditPublicKey = options.auditPublicKeyPem;
  o.replicas = [&driver](const std::string& rolloutKey) {
    return driver.observeReplicas(rolloutKey);
  };
  o.readLog = [&driver](const std::string& rolloutKey, const std::string& replica, int64_t offset,
                        int64_t maxBytes) {
    return driver.readLog(rolloutKey, replica, offset, maxBytes);
  };
  if (gitops != nullptr) {
    o.gitopsRefresh = [gitops](const std::string& url) { return gitops->refresh(url); };
  }
  if (!options.gitopsWebhookSecretFile.empty()) {
    auto secret = readFileIfExists(options.gitopsWebhookSecretFile);
    if (!secret || !*secret) {
      return makeError(
          ErrorCode::kInvalidArgument,
          "--gitops-webhook-secret " + options.gitopsWebhookSecretFile + ": cannot be read");
    }
    o.gitopsWebhookSecret = trim(**secret);
  }
  auto server = api::ApiServer::start(store, realClock(), std::move(o));
  if (!server) {
    return makeError(server.error().code,
                     "--listen " + options.listen + ": " + server.error().message);
  }
  log((*server)->startupNotice());
  return std::unique_ptr<ServeApi>(new RunningApi(std::move(*server)));
}

}  // namespace ramp::cli
