#pragma once

// ApiServer: ramp's HTTP API (JSON under /api/v1, docs/api.md), the watch stream (Server-Sent
// Events), /metrics, /healthz and /readyz, and the dashboard's files at / (static_assets.h),
// served by `ramp serve`.
//
// Every request except /healthz, /readyz and the dashboard's files is authenticated with a bearer
// token from the tokens file and authorised by role (viewer: read and watch; auditor: + the
// audit log; operator: + actions; admin: + apply and delete); a refused request changes nothing.
// The tokens file is re-read when it changes (api/auth.h, TokensFile). Without a tokens file
// authentication is off, and the server refuses to listen anywhere but loopback. TLS when a
// certificate and key are given.
//
// The server only writes user intent into the store (apply, delete, the actions) — the
// controller carries it out — and every write is recorded as an event naming the caller.
//
// Threading: start() returns once the socket is bound; requests are served on the server's own
// threads (one per open connection; a watch stream holds its connection's thread). stop() (or
// the destructor) ends every watch stream and joins every thread. The store and clock must
// outlive the server.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "api/object_service.h"
#include "ramp/clock.h"
#include "ramp/error.h"
#include "ramp/platform/workload_driver.h"
#include "ramp/store/state_store.h"

namespace ramp {
class MetricsPage;
}  // namespace ramp

namespace ramp::api {

struct ApiOptions {
  // HOST:PORT; port 0 picks a free port (see port()). "[::1]:PORT" for IPv6.
  std::string listen = "127.0.0.1:8080";
  // Tokens file (TOKEN,NAME,ROLE per line, see api/auth.h). Empty = authentication off, and
  // `listen` must then be a loopback address.
  std::string tokensFile;
  // How often at most the tokens file is checked for changes (its mtime, size and inode).
  Duration tokensCheckInterval = Duration(1000);
  // Lines for the operator (a tokens file that changed but could not be used, …). May be empty.
  std::function<void(const std::string&)> log;
  // PEM certificate chain and private key; both or neither. With them the server speaks HTTPS.
  std::string tlsCert;
  std::string tlsKey;
  size_t maxBodyBytes = 1 << 20;  // larger request bodies get 413
  // Watch: frames buffered per stream before a slow client is cut off, and the heartbeat period.
  size_t watchBufferEvents = 1000;
  Duration heartbeat = Duration(15000);
  // Upper bound on connections served at once (each holds a thread); more wait for a free one.
  size_t maxConnections = 4096;
  // Declares controller-side metric families (rollout_reconcile histogram, …) on the /metrics
  // page. May be empty.
  std::function<void(MetricsPage&)> appendMetrics;
  // /readyz answers 200 when this returns true (absent = always ready once started).
  std::function<bool()> ready;
  // The revisions a platform runs for a rollout ("namespace/name"): used by undo and
  // GET …/revisions. Absent = those answer 501.
  std::function<Result<std::vector<platform::ObservedRevision>>(const std::string&)> revisions;
  // What apply checks against the daemon's platform and routers (object_service.h). Default:
  // only the spec's own rules.
  RunChecks runChecks;
  // The platform's replicas of a rollout and their logs (object_service.h, ReplicasFn and
  // ReadLogFn): GET …/replicas and …/logs. Absent = those answer 501.
  ReplicasFn replicas;
  ReadLogFn readLog;
  // The public key (PEM) that signs the audit log, served at GET /api/v1/audit/key; "" when
  // the daemon's records are unsigned.
  std::string auditPublicKey;
  // The GitOps agent's refresh, called by POST /api/v1/gitops/webhook (gitops_service.h), and
  // the secret pushes must be signed with ("" = unsigned pushes accepted). Absent = 501.
  std::function<int(const std::string&)> gitopsRefresh;
  std::string gitopsWebhookSecret;
};

class ApiServer {
 public:
  // Binds and starts serving. Errors: kInvalidArgument for a malformed listen address, a
  // non-loopback address without a tokens file, or only one of tlsCert/tlsKey; the tokens
  // file's errors (naming file:line); kUnavailable when the address cannot be bound or the
  // certificate cannot be loaded.
  static Result<std::unique_ptr<ApiServer>> start(store::StateStore& store, Clock& clock,
                                                  ApiOptions options);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // The bound port.
  int port() const;
  // "http://127.0.0.1:PORT" (https when TLS is on) — the URL clients use.
  std::string address() const;
  // One line for the operator: where the server listens and whether authentication is on,
  // e.g. "api listening on http://127.0.0.1:8080 (authentication off: loopback only)".
  std::string startupNotice() const;

  // Stops accepting, ends watch streams and joins the server threads. Idempotent.
  void stop();

  struct Impl;

 private:
  explicit ApiServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ramp::api
