#pragma once

// Controller: the shell around the two pure cores. It keeps every stored Rollout and
// AnalysisRun reconciled: a work queue keyed by object, a pool of workers, requeue-after timers,
// per-item backoff (≤ 10 s) and a periodic resync. Level-triggered: each reconcile reads the
// object, observes the world and decides from scratch, so a reconcile can be repeated, or cut
// short by a crash, without harm.
//
// One Rollout reconcile:
//   1. read the Rollout; observe the platform; read its AnalysisRuns and the AnalysisTemplates
//      it references; ask its routers whether the weight set last time holds;
//   2. plan = rollout::reconcileRollout(rollout, observed, now)   (pure);
//   3. persist the intent first, in ONE store transaction: the new status, the AnalysisRuns the
//      plan creates, terminates or deletes, and the plan's events with their evidence;
//   4. then act, in the plan's order: platform (ensure, scale, deadlines, retire) and routers
//      (endpoints, weight, header and mirror routes). Every action is idempotent, and the next
//      reconcile re-derives any action a crash interrupted from the persisted status.
// One AnalysisRun reconcile: analysis::reconcileAnalysisRun with providers from the Registry;
// the new status and its phase events are written with compare-and-swap.
//
// The rollout and analysis halves talk only through stored AnalysisRuns, as in Argo: a change to
// a run queues the run and its owning rollout (label kOwnerLabel).
//
// Where changes come from: subscribe() for writes by this process (the API), and a poller of
// changesSince() for writes by other processes sharing the SQLite file (tests, a second CLI).
//
// Threading: start()/stop() from one owning thread. reconcile() runs on worker threads, one key
// at a time per key (the queue guarantees it), concurrently for different keys. The driver,
// routers and providers must be thread-safe across rollouts (their seams say so).

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "controller/claim_index.h"
#include "controller/rollout_cache.h"
#include "controller/work_queue.h"
#include "controller/writes.h"
#include "ramp/analysis/secret_source.h"
#include "ramp/clock.h"
#include "ramp/error.h"
#include "ramp/registry.h"
#include "ramp/spec/rollout.h"
#include "ramp/store/state_store.h"
#include "rollout/engine.h"

namespace ramp {
class MetricsPage;
}  // namespace ramp

namespace ramp::controller {

// Label the controller puts on every AnalysisRun it creates: the owning Rollout's name (same
// namespace). Argo uses an ownerReference; the store has none.
inline constexpr const char* kOwnerLabel = "rollouts.ramp.dev/rollout";

struct ControllerOptions {
  int workers = 4;
  // Every object is queued again this often (Argo's --rollout-resync, 15 min).
  Duration resyncPeriod = std::chrono::minutes(15);
  // While replicas are still starting or stopping (the platform does not push changes), the
  // rollout is reconciled again after this long.
  Duration progressPoll = std::chrono::seconds(1);
  // How often changes written by other processes are picked up (0 = never: only this process
  // writes, e.g. unit tests). Each poll that finds none doubles the wait, up to
  // externalPollIdle, so a quiet controller wakes rarely; one that finds some goes back to
  // externalPoll (nextExternalPoll()).
  Duration externalPoll = Duration(250);
  Duration externalPollIdle = std::chrono::seconds(2);
  // On a platform that cannot say when the Deployment (ReplicaSet, PodTemplate) a Rollout's
  // spec.workloadRef names changes (WorkloadDriver::watchWorkloadRefs is false), such a Rollout
  // is reconciled again at least this often, so a new template there is picked up within this
  // long. platform.kubernetes watches those objects (as Argo does): no polling.
  Duration workloadRefPoll = std::chrono::seconds(5);
  // Memory: once at least repackAfter reconciles have run since the last repack and none for
  // repackQuiet, the poller has the driver and the store make their caches again
  // (WorkloadDriver::repackMemory, StateStore::repackMemory; shouldRepack()). After a start-up
  // sync or a burst of releases what the caches keep is scattered over allocator pages that the
  // burst's garbage left partly used; a repack lets the allocator give those back (10,000
  // Rollouts: docs/performance.md). Needs the poller (externalPoll > 0); 0 = never.
  int64_t repackAfter = 1000;
  Duration repackQuiet = std::chrono::seconds(10);
  // secretKeyRef root (<dir>/<namespace>/<secret>/<key>); "" = no secrets.
  std::string secretsDir;
  // The identity recorded on events the controller writes.
  std::string actor = "controller";
  // Rollouts whose last decoded version is kept (RolloutCache) while they are busy; settled
  // and deleted rollouts are dropped from it. 0 = decode every read. Each entry is a few KB
  // (docs/performance.md, Controller); beyond this many busy rollouts the least recently used
  // entry goes, and a cycle over more busy rollouts than this misses every time.
  size_t rolloutCacheCapacity = 100000;
  // Group commit under a backlog: a worker that finds more keys queued than there are workers
  // takes up to this many at once (its fair share of the backlog), decides each Rollout in
  // turn, persists all their intents in ONE store transaction, then acts for each. Each rollout
  // still persists before it acts; what it saves is a commit per reconcile (most of a writing
  // reconcile's store cost). A batch's rollouts wait for one another's actions, so a slow
  // router delays the others of its batch (never more than this many). 1 = no batching.
  // AnalysisRun keys are never batched (their providers may be slow).
  size_t maxBatch = 16;
  // How often the router watch re-reads every routed rollout's proxies (0 = never). Reconciles
  // only react to changes, and a settled rollout has none, so without it a proxy that restarted
  // or reloaded (HAProxy's dynamic servers are then gone) or was changed by hand would serve the
  // wrong split, or nothing, until the next resync. Each tick calls verifyWeight with the weight
  // last applied, for rollouts with a watchable() router only, and queues those whose routers
  // do not hold it (or hold it again while their status still records a mismatch):
  // routerWatchRequeues().
  Duration routerWatch = std::chrono::seconds(2);
  // The signature gate (docs/supply-chain.md): asked about every image of a revision before the
  // revision is created, once per (rollout, pod template hash); a refusal again after a spec
  // change or `ramp retry`. Null = no gate. Thread-safe; must outlive the controller.
  supply::ImageVerifier* imageVerifier = nullptr;
  // Called with one line per notable thing (start, errors). Must be thread-safe. May be empty.
  std::function<void(const std::string&)> log;
};

// Counters for /metrics and the benchmarks. Read with stats().
struct ControllerStats {
  int64_t rolloutReconciles = 0;
  int64_t analysisReconciles = 0;
  int64_t reconcileErrors = 0;
  int64_t storeWrites = 0;  // transactions committed by reconciles
  int64_t eventsWritten = 0;
  int64_t cachedRollouts = 0;  // entries in the rollout cache now (busy rollouts)
  int64_t memoryRepacks = 0;   // times the driver's and the store's caches were made again
};

// The wait before the next poll for other processes' writes: back to options.externalPoll
// when the last poll found some (more may follow), else double `current`, at most
// options.externalPollIdle.
Duration nextExternalPoll(Duration current, bool foundExternal, const ControllerOptions& options);

// Whether the caches are made again now (ControllerOptions::repackAfter): `reconciles` have run
// since the last repack (at least options.repackAfter, which must be > 0), the newest of them
// `quietFor` ago (at least options.repackQuiet).
bool shouldRepack(int64_t reconciles, Duration quietFor, const ControllerOptions& options);

// The router watch's decision for one routed rollout: queue it for a reconcile when its routers
// report that what was applied does not hold (kNotYet: a proxy restarted, reloaded, drifted or
// cannot be reached), or when it holds again while the stored status still says
// `verified: false` (so the status, `ramp get`, the dashboard and /metrics catch up). Routers
// that cannot read their state back (kUnsupported) are not watched. Pure.
bool routerWatchRequeues(rollout::WeightVerification probe, std::optional<bool> statusVerified);

// The events of Service switches (a SyncEndpoints's), once they were applied. With routers
// (`routerTypes`, e.g. "ramp/haproxy") their backends are the Services: SwitchService, "Switched
// service 'web-active' from 'a' to 'b' through ramp/haproxy". Without any, on a platform whose
// Services carry the traffic (`servicesRoute`: Kubernetes) the selector switch is the switch:
// Argo's SwitchService, "Switched selector for service 'web-active' from 'a' to 'b'"; elsewhere
// no traffic moved on `platform`, and the event says so: Warning ServiceNotRouted. Pure.
std::vector<rollout::Event> switchEvents(const std::vector<rollout::ServiceSwitch>& switches,
                                         const std::vector<std::string>& routerTypes,
                                         const std::string& platform, bool servicesRoute = false);

class Controller {
 public:
  // `store`, `registry`, `driver` and `context.clock` must outlive the controller.
  Controller(store::StateStore& store, const Registry& registry, platform::WorkloadDriver& driver,
             ExtensionContext context, ControllerOptions options);
  ~Controller();  // stop()

  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Subscribes to changes, queues every Rollout and unfinished AnalysisRun, schedules the
  // resync, starts the workers and the external-change poller. On error (the store cannot be
  // listed) nothing is started.
  Status start();

  // Stops taking new work, lets every worker finish its current reconcile, joins the threads.
  // Idempotent. Safe to call without start().
  void stop();

  // Lists the store and queues every Rollout and every AnalysisRun that is not finished, and
  // rebuilds the run ownership index. Used by start(), resync and by steppable tests.
  Status enqueueAll();

  // One reconcile of a queue key (ObjectKey::toString() of a Rollout or AnalysisRun). On success
  // says when to come back; on error the caller retries with backoff. Public so tests can step
  // the controller on a simulated clock without threads: queue().tryGet(now) -> reconcile ->
  // reconcileOnce semantics.
  Result<ReconcileOutcome> reconcile(const std::string& key);

  // One worker iteration for a key taken from queue(): reconcile, then forget/requeue on
  // success or report the error and back off (reconcileOnce).
  void process(const std::string& key);

  // One worker iteration for several keys taken from queue() (what each worker thread runs,
  // see ControllerOptions::maxBatch): every key ends as process(key) would end it — reconciled,
  // forgotten or requeued, done() — but the Rollouts' intents are committed in one store
  // transaction. If that transaction fails (a compare-and-swap lost to a concurrent write),
  // each intent is committed on its own, so only the rollout that lost retries.
  void processBatch(const std::vector<std::string>& keys);

  // Feeds one store change (as subscribe() would). Public for tests and the poller.
  void onChange(const store::Change& change);

  // Picks up changes written by other processes since the last call. On a compacted change log,
  // falls back to enqueueAll().
  // Returns true when it found changes written by another process (or had to re-list).
  bool pollExternalChanges();

  // Has the driver and the store repack their memory when shouldRepack() says so, counting
  // reconciles from the last call that saw them change. Called by the poller after each poll;
  // by tests of a controller without one. Not thread-safe against itself.
  void repackIfQuiet();

  WorkQueue& queue() { return queue_; }
  ControllerStats stats() const;

  // Declares the controller's own metric families on `page`: the rollout_reconcile histogram,
  // rollout_reconcile_error_total, controller_events_total and controller_workqueue_depth.
  void appendMetrics(MetricsPage& page) const;

  // The reserved queue key that triggers a resync.
  static constexpr const char* kResyncKey = "resync";
  // The reserved queue key of the router watch (ControllerOptions::routerWatch). It is queued
  // once a routed rollout's weight has been applied and comes back every routerWatch while any
  // routed rollout remains; unrouted rollouts never schedule it.
  static constexpr const char* kRouterWatchKey = "router-watch";

 private:
  struct RouterSet;
  struct RolloutIntent;
  Result<ReconcileOutcome> reconcileRolloutKey(const store::ObjectKey& key);
  // A rollout reconcile reads as observe → decide → persist → act:
  //   prepareRollout: decode (decodeRollout), observe (observeRollout), decide (the core's
  //     reconcileRollout), create a new revision with 0 replicas (createNewRevisions) and the
  //     writes of step 3 (rolloutWrites, pure);
  //   commitIntents: persist;  actRollout: act (the platform, then the routers).
  // On success either `intent` is set (commit it, then act) or the returned outcome is final
  // (deleted, unreadable record).
  Result<ReconcileOutcome> prepareRollout(const store::ObjectKey& key,
                                          std::unique_ptr<RolloutIntent>& intent);
  // Sets intent.cached (and intent.fresh when this call decoded it) from the cache or `stored`.
  // False for a record that cannot be decoded (reported with recordError; not worth a retry).
  bool decodeRollout(const store::StoredObject& stored, RolloutIntent& intent);
  // Step 1: the workload, the owned AnalysisRuns (and their versions), the templates the spec
  // names, the routers and whether they hold the recorded weight. The store's, platform's or
  // router factory's error otherwise.
  Status observeRollout(RolloutIntent& intent);
  // Step 2b, between decide and persist: ensureRevision for each revision the plan creates that
  // the platform does not have yet (0 replicas: nothing runs or is served), noting in
  // intent.created those that succeeded so that step 4 does not ask again.
  void createNewRevisions(RolloutIntent& intent);
  // Step 1 too, with an image verifier: its verdicts on the images of the revision the core
  // would create (rollout::revisionToCreate), into intent.observed.imageCheck. Cached per
  // rollout; a refusal is asked again after a spec change (generation) or a retry
  // (rollout::imageRecheckRequested). Blocks on the registry for the verifier's bounded time.
  void checkImages(RolloutIntent& intent);
  static StoredRollout storedOf(const RolloutIntent& intent);
  // Step 3: persists every intent's writes, together when there are several; sets each one's
  // `committed`. Never throws away an intent's ops: a failed batch falls back to one by one.
  void commitIntents(std::span<RolloutIntent* const> intents);
  // Step 4 for a committed intent; the intent's commit error otherwise.
  Result<ReconcileOutcome> actRollout(RolloutIntent& intent);
  // Counts a finished reconcile of `key` (stats, duration histogram, last error).
  void noteReconciled(const std::string& key, bool rollout, Time started,
                      const Result<ReconcileOutcome>& out);
  Result<ReconcileOutcome> reconcileRunKey(const store::ObjectKey& key);
  Result<ReconcileOutcome> cleanupDeleted(const store::ObjectKey& key);
  Result<RouterSet*> routersFor(const std::string& rolloutKey, const spec::Rollout& rollout);
  // One tick of the router watch: probes every routed rollout whose routers are not in use by
  // its reconcile and queues those routerWatchRequeues() picks. Says when to come back (nullopt
  // once no routed rollout is left).
  ReconcileOutcome watchRouters();
  // Notes that a routed rollout now has an applied weight: schedules the watch if it is idle.
  void scheduleRouterWatch();
  // Records switchEvents() of `switches`, applied by `routerSet` (null: no router), for `key`.
  void recordSwitches(const store::ObjectKey& key,
                      const std::vector<rollout::ServiceSwitch>& switches,
                      const RouterSet* routerSet);
  // Removes what the routers of a deleted rollout created; forgets them once that worked.
  Status removeRoutes(const std::string& rolloutKey);
  // Why this daemon will not run `rollout` (Registry::checkRollout for the driver's platform, a
  // backend another Rollout owns, a template the platform refused), as one message; "" when it
  // can. Records its claims.
  std::string runProblems(const std::string& rolloutKey, const spec::Rollout& rollout);
  void recordError(const std::string& key, const Error& error);
  void noteOwner(const store::ObjectKey& runKey, const std::string& owner, bool removed);
  std::vector<std::string> ownedRuns(const std::string& rolloutKey) const;
  void observeDuration(Duration d);
  void runPoller();

  // repackIfQuiet()'s state: the reconcile count it saw last and since when, and the count at
  // the last repack.
  struct RepackWatch {
    int64_t seen = 0;
    std::optional<Time> seenSince;
    int64_t repackedAt = 0;
  };
  RepackWatch repackWatch_;

  store::StateStore& store_;
  const Registry& registry_;
  platform::WorkloadDriver& driver_;
  ExtensionContext context_;
  ControllerOptions options_;
  Clock& clock_;
  WorkQueue queue_;
  std::unique_ptr<WorkerPool> pool_;
  std::unique_ptr<analysis::SecretSource> secrets_;
  int64_t subscription_ = -1;
  // The platform tells when a workloadRef's object changes (set by the constructor).
  bool workloadRefsPushed_ = false;
  RolloutCache rolloutCache_;  // thread-safe on its own
  ClaimIndex claims_;          // thread-safe on its own

  mutable std::mutex mu_;  // guards everything below
  // "namespace/rollout" -> names of the AnalysisRuns it owns.
  std::unordered_map<std::string, std::set<std::string>> owners_;
  // Shared with a router watch tick that may be probing the set while it is replaced.
  std::unordered_map<std::string, std::shared_ptr<RouterSet>> routers_;
  bool routerWatchScheduled_ = false;
  std::unordered_map<std::string, std::string> lastError_;  // key -> last error event message
  // rollout key -> {pod template hash, why}: templates the platform refused (ensureRevision's
  // kInvalidArgument, e.g. a command not found on this host). Such a rollout is InvalidSpec
  // until its template changes or the next resync tries again.
  std::unordered_map<std::string, std::pair<std::string, std::string>> refused_;
  // rollout key -> a pod template hash whose revision's name the platform found held by another
  // object (ensureRevision's kAlreadyExists), for the next reconcile's core (Argo's collision).
  std::unordered_map<std::string, std::string> collided_;
  // rollout key -> the signature gate's last verdicts (checkImages), for one revision.
  struct CachedImageCheck {
    int64_t generation = 0;  // of the spec they were asked for
    bool allowed = false;
    rollout::ImageCheck check;
  };
  std::unordered_map<std::string, CachedImageCheck> imageChecks_;
  std::set<int64_t> selfRevisions_;  // store revisions written by reconciles (poller skips)
  int64_t polledRevision_ = 0;
  ControllerStats stats_;
  std::vector<int64_t> histogram_;  // reconcile duration buckets (kBuckets), cumulative at render
  double durationSum_ = 0;
  std::map<std::pair<std::string, std::string>, int64_t> eventCounts_;  // (reason, type)

  std::mutex pollMu_;
  std::condition_variable pollCv_;
  bool stopping_ = false;
  std::thread poller_;
  bool started_ = false;
};

}  // namespace ramp::controller
