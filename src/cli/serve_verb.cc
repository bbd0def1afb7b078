// `ramp serve --data DIR`: the daemon. Opens the store (--store: SQLite in DIR, or the custom
// resources of a Kubernetes cluster), builds the registry and the platform, runs the controller
// until SIGTERM or SIGINT, then drains: every worker finishes the
// reconcile it is in (each persisted its intent first, so nothing is half-applied) and the
// process exits 0.
//
// One daemon per data directory: it holds an flock on DIR/serve.lock for its lifetime (released
// by the kernel when the process dies, so a SIGKILLed daemon restarts at once).

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <ostream>
#include <random>
#include <thread>

#include "audit/audited_store.h"
#include "audit/key_file.h"
#include "cli/serve.h"
#include "cli/verb.h"
#include "common/file_io.h"
#include "controller/controller.h"
#include "controller/leader_election.h"
#include "kube/client.h"
#include "ramp/registry.h"
#include "ramp/supply/image_verifier.h"

namespace ramp::cli {
namespace {

// Holds DIR/serve.lock while alive.
class DataDirLock {
 public:
  static Result<DataDirLock> take(const std::filesystem::path& dir) {
    const std::string path = (dir / "serve.lock").string();
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return makeError(ErrorCode::kUnavailable, "cannot open " + path);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd);
      return makeError(
          ErrorCode::kFailedPrecondition,
          "another ramp serve is running on " + dir.string() + " (" + path + " is locked)");
    }
    return DataDirLock(fd);
  }
  DataDirLock(DataDirLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  ~DataDirLock() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_;
};

// Argo's lock name, so ramp and Argo's controller (on one cluster, same instance) exclude each
// other; with --instance-id ID, "argo-rollouts-controller-lock-ID" (Argo's leaseLockName).
constexpr const char* kLeaderLease = "argo-rollouts-controller-lock";
std::string leaderLease(const std::string& instanceId) {
  return instanceId.empty() ? kLeaderLease : std::string(kLeaderLease) + "-" + instanceId;
}

// host name + "_" + a random suffix per process, as Argo names its leader-election identity.
std::string leaderIdentity() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::strcpy(host, "ramp");
  std::random_device random;
  char suffix[17];
  std::snprintf(suffix, sizeof suffix, "%08x%08x", random(), random());
  return std::string(host) + "_" + suffix;
}

class ServeVerb final : public Verb {
 public:
  std::string name() const override { return "serve"; }
  std::string summary() const override {
    return "Run the controller (and the API) over a data directory";
  }
  void configure(CLI::App& cmd) override {
    cmd.add_option("--data", options_.dataDir, "Data directory (store, platform state, logs)")
        ->required();
    cmd.add_option("--platform", options_.platform,
                   "Where replicas run: platform.process (local processes), platform.kubernetes "
                   "(ReplicaSets; --kubeconfig) or platform.sim")
        ->capture_default_str();
    cmd.add_option("--store", options_.store,
                   "Where objects live: store.sqlite (DIR/ramp.db) or store.kubernetes (Argo's "
                   "custom resources in the cluster)")
        ->capture_default_str();
    cmd.add_flag("--leader-elect", options_.leaderElect,
                 "Run the controller only while holding the lease " + std::string(kLeaderLease) +
                     "[-INSTANCE-ID] in the store (several daemons on one store: one leads)");
    cmd.add_option("--workers", options_.workers, "Reconcile workers")->capture_default_str();
    cmd.add_option("--max-batch", options_.maxBatch,
                   "Rollouts a worker commits in one transaction under a backlog (1 = none)")
        ->capture_default_str()
        ->check(CLI::Range(1, 1024));
    cmd.add_option("--prometheus", options_.prometheusAddress,
                   "Default Prometheus address for metrics that name none");
    cmd.add_option("--progress-poll-ms", options_.progressPollMs,
                   "How often a rollout whose replicas are starting is looked at again")
        ->capture_default_str();
    cmd.add_option("--resync-s", options_.resyncSeconds, "Full resync period in seconds")
        ->capture_default_str();
    cmd.add_option("--router-watch-ms", options_.routerWatchMs,
                   "How often every routed rollout's proxies are checked for a restart or drift "
                   "(0 = never)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    cmd.add_option("--audit-key", options_.auditKey,
                   "Sign the audit log with this ECDSA P-256 private key (PEM; `ramp audit keygen` "
                   "makes one); without it DATA/audit-key.pem, made at first start");
    cmd.add_option("--environment", options_.environment,
                   "The environment this daemon deploys to (e.g. prod), named by every audit "
                   "record; an object's ramp.dev/environment annotation overrides it");
    cmd.add_option("--audit-checkpoint-ms", options_.auditCheckpointMs,
                   "How often a checkpoint of the audit log is signed over new records")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    configureApiFlags(cmd, options_);
    configureKubeFlags(cmd, options_);
    configureGitopsFlags(cmd, options_);
    configureImagePolicyFlags(cmd, options_);
  }
  int run(IoStreams& io) override { return runServe(options_, io); }

 private:
  ServeOptions options_;
};

// Signs a checkpoint of the audit log every `period` until stopped, and once more when stopped.
class Checkpointer {
 public:
  // `active`: whether this daemon signs checkpoints now (with --leader-elect, while it leads:
  // the daemons of one store share its log, and the leader's checkpoints cover every record).
  Checkpointer(audit::AuditedStateStore& store, Duration period,
               std::function<void(const std::string&)> say, std::function<bool()> active)
      : store_(store),
        period_(period),
        say_(std::move(say)),
        active_(std::move(active)),
        thread_([this] { loop(); }) {}
  ~Checkpointer() { stop(); }
  void stop() {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
    once();
  }

 private:
  void loop() {
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, period_, [this] { return stopping_; })) {
      lock.unlock();
      once();
      lock.lock();
    }
  }
  void once() {
    if (!active_()) return;
    auto r = store_.checkpoint(realClock().now());
    if (!r) say_("audit log: cannot sign a checkpoint: " + r.error().message);
  }
  audit::AuditedStateStore& store_;
  const Duration period_;
  const std::function<void(const std::string&)> say_;
  const std::function<bool()> active_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace

int runServe(const ServeOptions& options, IoStreams& io) {
  std::mutex logMu;
  auto log = [&](const std::string& line) {
    std::lock_guard lock(logMu);
    io.err << "ramp serve: " << line << std::endl;
  };
  std::error_code ec;
  std::filesystem::create_directories(options.dataDir, ec);
  if (ec) {
    log("cannot create " + options.dataDir + ": " + ec.message());
    return 1;
  }
  auto lock = DataDirLock::take(options.dataDir);
  if (!lock) {
    log(lock.error().message);
    return 1;
  }
  // Block the stop signals before any thread starts (the Kubernetes store's informers are the
  // first), so every thread inherits the mask and only sigwait below receives them.
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  sigaddset(&stopSignals, SIGTERM);
  sigaddset(&stopSignals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);

  Registry registry;
  registerBuiltins(registry, BuiltinSettings{options.prometheusAddress});
  ExtensionContext context;
  context.clock = &realClock();
  context.dataDir = std::filesystem::absolute(options.dataDir).string();
  context.log = log;
  auto kubeClient = connectKube(options, realClock());
  if (!kubeClient) {
    log(kubeClient.error().message);
    return 1;
  }
  context.kubeClient = kubeClient->get();
  context.kubeNamespace = options.kubeNamespace;
  if (!options.instanceId.empty() && options.store != "store.kubernetes") {
    log("--instance-id selects Argo's custom resources in a cluster: it needs --store "
        "store.kubernetes (this daemon's store is " +
        options.store + ")");
    return 1;
  }
  context.kubeInstanceId = options.instanceId;
  auto store = registry.makeStore(options.store, context);
  if (!store) {
    log("--store: " + store.error().message);
    return 1;
  }

  // Every decision the controller and the API write goes through the audit log.
  ServeOptions withKey = options;
  // The key: --audit-key, else DATA/audit-key.pem, made at first start (docs/audit.md).
  std::string keyPath = options.auditKey;
  Result<audit::SigningKey> key = makeError(ErrorCode::kNotFound, "");
  if (keyPath.empty()) {
    keyPath = options.dataDir + "/audit-key.pem";
    key = audit::readKeyFile(keyPath, [&](const std::string& w) { log("warning: " + w); });
    if (!key && key.error().code == ErrorCode::kNotFound) {
      key = audit::createKeyFile(keyPath);
      if (key) log("audit log: made a signing key at first start: " + keyPath);
    }
  } else {
    key = audit::readKeyFile(keyPath,
                             [&](const std::string& w) { log("warning: --audit-key " + w); });
  }
  if (!key) {
    log((options.auditKey.empty() ? "audit key " : "--audit-key ") + key.error().message);
    return 1;
  }
  withKey.auditPublicKeyPem = key->publicKey().pem();
  const std::string pub = options.dataDir + "/audit-key.pub";
  if (auto s = writeFileAtomically(pub, withKey.auditPublicKeyPem); !s) {
    log("cannot write " + pub + ": " + s.error().message);
    return 1;
  }
  log("audit log: records signed by key " + key->publicKey().keyId().substr(0, 16) +
      " (public key in " + pub + ")");
  std::optional<audit::SigningKey> auditKey = std::move(*key);
  controller::ControllerOptions copts;
  // A store that keeps no audit log (none of ramp's now) runs without one, said loudly.
  std::unique_ptr<audit::AuditedStateStore> audited;
  store::StateStore* active = store->get();
  // During a burst of decisions, the appending worker waits 10 ms for the others' records
  // (one ConfigMap update for more of them on store.kubernetes; docs/performance.md, session
  // 25); nothing waits on a transactional store.
  audit::GroupCommitOptions group;
  group.linger = Duration(10);
  group.clock = &realClock();
  if (auto wrapped = audit::AuditedStateStore::wrap(**store, std::move(auditKey), copts.actor,
                                                    options.environment, group)) {
    audited = std::move(*wrapped);
    active = audited.get();
  } else if (wrapped.error().code == ErrorCode::kUnsupported) {
    log("warning: " + options.store +
        " keeps no audit log yet: decisions are not recorded "
        "(docs/audit.md)");
  } else {
    log(wrapped.error().message);
    return 1;
  }

  // The signature gate: a bad policy file stops the daemon before anything runs.
  auto imageVerifier = makeImageVerifier(options);
  if (!imageVerifier) {
    log(imageVerifier.error().message);
    return 1;
  }
  if (*imageVerifier) {
    log("signature gate: images verified as " + options.imagePolicy +
        " says (no match: " + options.imagePolicyNoMatch + ")");
  }

  auto driver = registry.makePlatform(options.platform, context);
  if (!driver) {
    log("--platform: " + driver.error().message);
    return 1;
  }

  copts.workers = options.workers;
  copts.maxBatch = static_cast<size_t>(options.maxBatch);
  copts.progressPoll = Duration(options.progressPollMs);
  copts.resyncPeriod = std::chrono::seconds(options.resyncSeconds);
  copts.routerWatch = Duration(options.routerWatchMs);
  copts.secretsDir = context.dataDir + "/secrets";
  copts.log = log;
  copts.imageVerifier = imageVerifier->get();
  controller::Controller controller(*active, registry, **driver, context, copts);
  // The API first: a port in use, a bad tokens file or TLS key stop the daemon before the
  // controller has touched anything. Writes that arrive before the controller starts are
  // picked up by its first listing.
  auto gitopsAgent = startGitops(options, *active, registry);
  auto api = startApi(withKey, *active, controller, **driver, registry, log, gitopsAgent.get());
  if (!api) {
    log(api.error().message);
    return 1;
  }
  // With --leader-elect the controller runs only while this daemon holds the lease; losing it
  // stops the daemon (exit 1, as Argo's controller exits), for its supervisor to start again as a
  // candidate.
  std::atomic<bool> failed{false};
  auto stopDaemon = [&] {
    failed = true;
    ::kill(::getpid(), SIGTERM);  // sigwait below takes it
  };
  std::unique_ptr<controller::LeaderElector> elector;
  const std::string lease = leaderLease(options.instanceId);
  if (options.leaderElect) {
    const std::string identity = leaderIdentity();
    elector = std::make_unique<controller::LeaderElector>(
        **store, realClock(), lease, identity, controller::LeaderTimings{},
        [&, identity] {
          if (auto s = controller.start(); !s) {
            log("cannot start the controller: " + s.error().message);
            stopDaemon();
            return;
          }
          log("leading as " + identity + " (lease " + lease + ")");
        },
        [&] {
          log("lost the leadership: stopping");
          stopDaemon();
        });
  } else if (auto s = controller.start(); !s) {
    log("cannot start the controller: " + s.error().message);
    api->reset();
    return 1;
  }
  gitopsAgent->start();
  std::optional<Checkpointer> checkpointer;
  if (audited) {
    checkpointer.emplace(*audited, Duration(options.auditCheckpointMs), log,
                         [&elector] { return !elector || elector->leading(); });
  }
  log("ready (data " + context.dataDir + ", store " + options.store + ", platform " +
      options.platform + (elector ? ", waiting for the leadership" : "") + ")");
  if (elector) elector->start();

  int signal = 0;
  sigwait(&stopSignals, &signal);
  if (!failed) {
    log(std::string("received ") + (signal == SIGINT ? "SIGINT" : "SIGTERM") + ", draining");
  }
  api->reset();
  if (elector) elector->stop();
  gitopsAgent.reset();
  controller.stop();
  if (checkpointer) checkpointer->stop();  // a last checkpoint over every record
  if (elector && elector->leading()) {
    // Hand over at once instead of after the lease's 15 s.
    (void)(*store)->releaseLease(lease, elector->identity(), realClock().now());
  }
  log("stopped");
  return failed ? 1 : 0;
}

VerbPtr makeServeVerb() { return std::make_unique<ServeVerb>(); }

}  // namespace ramp::cli
