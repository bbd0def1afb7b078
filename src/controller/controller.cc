#include "controller/controller.h"

#include <nlohmann/json.hpp>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <algorithm>
#include <array>
#include <deque>
#include <functional>
#include <iterator>
#include <variant>

#include "analysis/engine.h"
#include "analysis/runner.h"
#include "analysis/secret_dir.h"
#include "common/metrics_page.h"
#include "controller/writes.h"
#include "rollout/engine.h"
#include "rollout/ephemeral_metadata.h"
#include "rollout/services.h"
#include "spec/codec.h"
#include "spec/kinds.h"

namespace ramp::controller {

using store::ObjectKey;

namespace {

constexpr const char* kRollout = spec::kindInfo(spec::Kind::kRollout).name;
constexpr const char* kAnalysisRun = spec::kindInfo(spec::Kind::kAnalysisRun).name;
constexpr const char* kAnalysisTemplate = spec::kindInfo(spec::Kind::kAnalysisTemplate).name;
constexpr const char* kClusterAnalysisTemplate =
    spec::kindInfo(spec::Kind::kClusterAnalysisTemplate).name;

// Reconcile duration buckets in seconds (Argo's rollout_reconcile histogram uses these).
constexpr std::array<double, 9> kBuckets = {0.0001, 0.0005, 0.001, 0.005, 0.01,
                                            0.05,   0.1,    0.5,   1.0};

Result<ObjectKey> parseKey(const std::string& key) {
  const auto a = key.find('/');
  const auto b = a == std::string::npos ? std::string::npos : key.find('/', a + 1);
  if (b == std::string::npos) {
    return makeError(ErrorCode::kInvalidArgument, "malformed queue key \"" + key + "\"");
  }
  return ObjectKey{key.substr(0, a), key.substr(a + 1, b - a - 1), key.substr(b + 1)};
}

std::string rolloutKeyOf(const ObjectKey& key) { return key.namespace_ + "/" + key.name; }

// The queue key of the Rollout "namespace/name".
std::string rolloutQueueKey(const std::string& rolloutKey) {
  const auto slash = rolloutKey.find('/');
  return ObjectKey{kRollout, rolloutKey.substr(0, slash), rolloutKey.substr(slash + 1)}.toString();
}

std::string diagnosticsText(const std::vector<spec::Diagnostic>& diagnostics) {
  std::string out;
  for (const auto& d : diagnostics) {
    if (!out.empty()) out += "; ";
    out += d.path.empty() ? d.message : d.path + ": " + d.message;
  }
  return out;
}

void addRefs(const std::optional<spec::RolloutAnalysis>& a,
             std::vector<spec::AnalysisTemplateRef>& out) {
  if (a)
    for (const auto& t : a->templates) out.push_back(t);
}

// Every AnalysisTemplateRef the rollout's strategy names (steps, background, pre/post).
std::vector<spec::AnalysisTemplateRef> templateRefs(const spec::Rollout& rollout) {
  std::vector<spec::AnalysisTemplateRef> out;
  if (const auto& c = rollout.spec.strategy.canary) {
    for (const auto& step : c->steps) addRefs(step.analysis, out);
    if (c->analysis)
      for (const auto& t : c->analysis->templates) out.push_back(t);
  }
  if (const auto& b = rollout.spec.strategy.blueGreen) {
    addRefs(b->prePromotionAnalysis, out);
    addRefs(b->postPromotionAnalysis, out);
  }
  return out;
}

traffic::StringMatch toMatch(const spec::StringMatch& m) {
  return traffic::StringMatch{m.exact, m.prefix, m.regex};
}

traffic::HeaderRoute toHeaderRoute(const spec::SetHeaderRoute& r) {
  traffic::HeaderRoute out;
  out.name = r.name;
  for (const auto& m : r.match) out.match.push_back({m.headerName, toMatch(m.headerValue)});
  return out;
}

traffic::MirrorRoute toMirrorRoute(const spec::SetMirrorRoute& r) {
  traffic::MirrorRoute out;
  out.name = r.name;
  out.percentage = r.percentage;
  for (const auto& m : r.match) {
    traffic::MirrorRoute::Match match;
    if (m.method) match.method = toMatch(*m.method);
    if (m.path) match.path = toMatch(*m.path);
    for (const auto& [name, value] : m.headers) match.headers.emplace_back(name, toMatch(value));
    out.match.push_back(std::move(match));
  }
  return out;
}

traffic::RevisionEndpoints endpointsOf(const platform::ObservedWorkload& workload,
                                       const std::string& hash) {
  traffic::RevisionEndpoints out;
  out.podTemplateHash = hash;
  for (const auto& r : workload.revisions)
    if (r.podTemplateHash == hash) out.endpoints = r.endpoints;
  return out;
}

// True while the platform is still moving toward what it was asked (replicas starting or
// stopping): the platform does not push changes, so the controller polls.
bool inMotion(const platform::ObservedWorkload& workload) {
  for (const auto& r : workload.revisions) {
    if (r.currentReplicas != r.desiredReplicas || r.availableReplicas != r.desiredReplicas) {
      return true;
    }
  }
  return false;
}

// Hands the heap's free pages back to the system. glibc's free() keeps them (it only trims the
// top of the heap), so after a burst of busy rollouts the process would stay at its peak size;
// malloc_trim releases every free page (measured: the resident size per settled rollout after
// 10,000 concurrent releases falls from 11.6 KB to 8.8 KB).
void releaseFreeMemory() {
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}

std::optional<Duration> earlier(std::optional<Duration> a, std::optional<Duration> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

}  // namespace

// The routers of one rollout, rebuilt when its routing configuration changes.
struct Controller::RouterSet {
  std::string configKey;
  int32_t maxWeight = spec::kDefaultMaxTrafficWeight;
  std::string queueKey;  // the rollout's queue key, for the router watch
  std::vector<traffic::TrafficRouterPtr> routers;
  bool watchable = false;  // some router's proxy can change behind ramp's back
  // Held by whoever calls the routers: the rollout's reconcile, or the router watch (which
  // skips a set that is in use rather than wait). Guards the fields below too.
  std::mutex mu;
  // The weight the last SetWeight applied on every router; unset until one did.
  std::optional<int32_t> appliedWeight;
  // status.canary.weights.verified as the rollout's last reconcile persisted it.
  std::optional<bool> statusVerified;
  // Service switches the status already records but the routers have not applied yet (the
  // sync failed, or nothing was ready): recorded as events once a later sync succeeds.
  std::vector<rollout::ServiceSwitch> pendingSwitches;
};

namespace {

// Asks every router whether `weight` holds; one verdict for the rollout. An unreachable proxy
// is not a verified weight.
rollout::WeightVerification verifyRouters(std::vector<traffic::TrafficRouterPtr>& routers,
                                          int32_t weight) {
  bool allUnsupported = true;
  bool allVerified = true;
  for (auto& router : routers) {
    auto check = router->verifyWeight(weight, {});
    if (!check) {
      allUnsupported = allVerified = false;
      continue;
    }
    if (*check != traffic::WeightCheck::kUnsupported) allUnsupported = false;
    if (*check == traffic::WeightCheck::kNotYet) allVerified = false;
  }
  return allUnsupported ? rollout::WeightVerification::kUnsupported
         : allVerified  ? rollout::WeightVerification::kVerified
                        : rollout::WeightVerification::kNotYet;
}

}  // namespace

bool routerWatchRequeues(rollout::WeightVerification probe, std::optional<bool> statusVerified) {
  switch (probe) {
    case rollout::WeightVerification::kNotYet: return true;
    case rollout::WeightVerification::kVerified: return statusVerified == false;
    default: return false;
  }
}

Controller::Controller(store::StateStore& store, const Registry& registry,
                       platform::WorkloadDriver& driver, ExtensionContext context,
                       ControllerOptions options)
    : store_(store),
      registry_(registry),
      driver_(driver),
      context_(std::move(context)),
      options_(std::move(options)),
      clock_(*context_.clock),
      queue_(clock_),
      rolloutCache_(options_.rolloutCacheCapacity),
      histogram_(kBuckets.size() + 1, 0) {
  if (!options_.secretsDir.empty()) {
    secrets_ = std::make_unique<analysis::SecretDir>(options_.secretsDir);
  }
  workloadRefsPushed_ = driver_.watchWorkloadRefs(
      [this](const std::string& rolloutKey) { queue_.add(rolloutQueueKey(rolloutKey)); });
}

Controller::~Controller() {
  stop();
  if (workloadRefsPushed_) driver_.watchWorkloadRefs(nullptr);  // the driver may live on
}

Status Controller::start() {
  if (started_) return {};
  auto rev = store_.currentRevision();
  if (!rev) return std::unexpected(rev.error());
  {
    std::lock_guard lock(mu_);
    polledRevision_ = *rev;
  }
  subscription_ = store_.subscribe([this](const store::Change& c) { onChange(c); });
  if (auto s = enqueueAll(); !s) {
    store_.unsubscribe(subscription_);
    subscription_ = -1;
    return s;
  }
  queue_.addAfter(kResyncKey, options_.resyncPeriod);
  pool_ = std::make_unique<WorkerPool>(
      queue_, [this](const std::string& key) { return reconcile(key); }, options_.workers,
      [this](const std::string& key, const Error& e) { recordError(key, e); });
  // (WorkerPool runs exactly what processBatch() does, on its threads.)
  pool_->setBatchHandler([this](const std::vector<std::string>& keys) { processBatch(keys); },
                         options_.maxBatch);
  pool_->start();
  if (options_.externalPoll > Duration(0)) {
    poller_ = std::thread([this] { runPoller(); });
  }
  started_ = true;
  if (options_.log) {
    options_.log("controller started: " + std::to_string(options_.workers) + " workers, platform " +
                 driver_.type());
  }
  return {};
}

void Controller::stop() {
  {
    std::lock_guard lock(pollMu_);
    stopping_ = true;
  }
  pollCv_.notify_all();
  if (poller_.joinable()) poller_.join();
  if (pool_) pool_->stop();
  queue_.shutDown();
  if (subscription_ >= 0) {
    store_.unsubscribe(subscription_);
    subscription_ = -1;
  }
}

Duration nextExternalPoll(Duration current, bool foundExternal, const ControllerOptions& options) {
  const Duration idle = std::max(options.externalPoll, options.externalPollIdle);
  if (foundExternal) return options.externalPoll;
  return std::clamp(current * 2, options.externalPoll, idle);
}

bool shouldRepack(int64_t reconciles, Duration quietFor, const ControllerOptions& options) {
  return options.repackAfter > 0 && reconciles >= options.repackAfter &&
         quietFor >= options.repackQuiet;
}

void Controller::repackIfQuiet() {
  int64_t reconciles = 0;
  {
    std::lock_guard lock(mu_);
    reconciles = stats_.rolloutReconciles + stats_.analysisReconciles;
  }
  const Time now = clock_.now();
  RepackWatch& w = repackWatch_;
  if (reconciles != w.seen || !w.seenSince) {
    w.seen = reconciles;
    w.seenSince = now;
  }
  if (!shouldRepack(reconciles - w.repackedAt, now - *w.seenSince, options_)) return;
  const int64_t since = reconciles - w.repackedAt;
  w.repackedAt = reconciles;
  driver_.repackMemory();
  store_.repackMemory();
  {
    std::lock_guard lock(mu_);
    ++stats_.memoryRepacks;
  }
  if (options_.log) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now() - now);
    options_.log("memory repacked after " + std::to_string(since) + " reconciles (" +
                 std::to_string(ms.count()) + " ms)");
  }
}

void Controller::runPoller() {
  std::unique_lock lock(pollMu_);
  Duration wait = options_.externalPoll;
  while (!stopping_) {
    // The poller waits in real time: it exists for other processes, which live in real time.
    pollCv_.wait_for(lock, wait, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    const bool found = pollExternalChanges();
    repackIfQuiet();
    lock.lock();
    wait = nextExternalPoll(wait, found, options_);
  }
}

bool Controller::pollExternalChanges() {
  bool found = false;
  int64_t from;
  {
    std::lock_guard lock(mu_);
    from = polledRevision_;
  }
  for (;;) {
    auto changes = store_.changesSince(from, 1000);
    if (!changes) {
      if (changes.error().code == ErrorCode::kFailedPrecondition) {
        auto rev = store_.currentRevision();
        (void)enqueueAll();
        if (rev) from = *rev;
        found = true;
      }
      break;
    }
    if (changes->empty()) break;
    for (const auto& c : *changes) {
      bool self;
      {
        std::lock_guard lock(mu_);
        self = selfRevisions_.erase(c.revision) > 0;
      }
      if (!self) {
        onChange(c);
        found = true;
      }
      from = c.revision;
    }
  }
  std::lock_guard lock(mu_);
  polledRevision_ = std::max(polledRevision_, from);
  // Our own writes the poller has passed can no longer be seen; forget them.
  selfRevisions_.erase(selfRevisions_.begin(), selfRevisions_.upper_bound(polledRevision_));
  return found;
}

void Controller::onChange(const store::Change& change) {
  const ObjectKey& key = change.key;
  if (key.kind == kRollout) {
    queue_.add(key.toString());
    return;
  }
  if (key.kind != kAnalysisRun) return;
  std::string owner;
  std::string phase;
  try {
    const auto j = nlohmann::json::parse(change.json);
    if (const auto* labels = j.contains("metadata") ? &j["metadata"] : nullptr;
        labels && labels->contains("labels")) {
      owner = (*labels)["labels"].value(kOwnerLabel, "");
    }
  } catch (const nlohmann::json::exception&) {
    // A run we cannot read still gets reconciled (which reports the problem).
  }
  if (!owner.empty()) {
    noteOwner(key, owner, change.type == store::ChangeType::kDelete);
    queue_.add(ObjectKey{kRollout, key.namespace_, owner}.toString());
  }
  if (change.type == store::ChangeType::kPut) queue_.add(key.toString());
}

void Controller::noteOwner(const ObjectKey& runKey, const std::string& owner, bool removed) {
  const std::string rolloutKey = runKey.namespace_ + "/" + owner;
  std::lock_guard lock(mu_);
  if (removed) {
    auto it = owners_.find(rolloutKey);
    if (it == owners_.end()) return;
    it->second.erase(runKey.name);
    if (it->second.empty()) owners_.erase(it);
  } else {
    owners_[rolloutKey].insert(runKey.name);
  }
}

std::vector<std::string> Controller::ownedRuns(const std::string& rolloutKey) const {
  std::lock_guard lock(mu_);
  auto it = owners_.find(rolloutKey);
  if (it == owners_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

Status Controller::enqueueAll() {
  auto rollouts = store_.list(kRollout, "");
  if (!rollouts) return std::unexpected(rollouts.error());
  auto runs = store_.list(kAnalysisRun, "");
  if (!runs) return std::unexpected(runs.error());
  std::unordered_map<std::string, std::set<std::string>> owners;
  std::vector<std::string> unfinished;
  for (const auto& o : runs->items) {
    auto run = spec::analysisRunFromJson(o.json, o.key.toString());
    if (!run.value) {
      unfinished.push_back(o.key.toString());  // reconcile reports it
      continue;
    }
    auto it = run.value->metadata.labels.find(kOwnerLabel);
    if (it != run.value->metadata.labels.end()) {
      owners[o.key.namespace_ + "/" + it->second].insert(o.key.name);
    }
    if (!analysis::phaseCompleted(run.value->status.phase)) unfinished.push_back(o.key.toString());
  }
  {
    std::lock_guard lock(mu_);
    owners_ = std::move(owners);
  }
  // Who claims which backend, before any reconcile, so the first to run is not a usurper.
  const std::vector<std::string> claiming = registry_.claimingPlugins();
  std::vector<ClaimHolder> claims;
  for (const auto& o : rollouts->items) {
    if (std::none_of(claiming.begin(), claiming.end(), [&](const std::string& p) {
          return o.json.find("\"" + p + "\"") != std::string::npos;
        })) {
      continue;
    }
    auto decoded = spec::rolloutFromJson(o.json, o.key.toString());
    if (!decoded.value) continue;
    for (auto& c : registry_.claimsOf(rolloutKeyOf(o.key), *decoded.value)) {
      claims.push_back(std::move(c));
    }
  }
  claims_.reset(claims);
  {
    std::lock_guard lock(mu_);
    refused_.clear();  // a resync tries refused templates again (the host may have changed)
  }
  for (const auto& o : rollouts->items) queue_.add(o.key.toString());
  for (const auto& k : unfinished) queue_.add(k);
  return {};
}

// One rollout reconcile between "decided" and "acted": what prepareRollout() read and decided,
// the store writes that persist it, and (after commitIntents()) whether they landed.
struct Controller::RolloutIntent {
  ObjectKey key;
  std::string cacheKey;    // key.toString()
  std::string rolloutKey;  // "namespace/name", the driver's and routers' key
  // The decoded version the plan was made from; `fresh` when this reconcile decoded it.
  std::shared_ptr<const RolloutCache::Entry> cached;
  std::shared_ptr<RolloutCache::Entry> fresh;
  int64_t storedVersion = 0;
  rollout::Observed observed;
  std::map<std::string, int64_t> runVersions;  // of observed.analysisRuns, by name
  rollout::Plan plan;
  RouterSet* routerSet = nullptr;
  // Revisions (by hash) step 2b created, before the intent was persisted.
  std::set<std::string> created;
  // What step 3 persists (writes.h); its ops and events move through commitIntents().
  RolloutWrites writes;
  // Set by commitIntents().
  Status committed;
  int64_t versionAfter = 0;  // the Rollout's new version, once a status change is committed
};

Result<ReconcileOutcome> Controller::reconcile(const std::string& key) {
  if (key == kResyncKey) {
    if (auto s = enqueueAll(); !s) return std::unexpected(s.error());
    return ReconcileOutcome{options_.resyncPeriod};
  }
  if (key == kRouterWatchKey) return watchRouters();
  auto objectKey = parseKey(key);
  if (!objectKey) return std::unexpected(objectKey.error());
  const Time started = clock_.now();
  Result<ReconcileOutcome> out = makeError(ErrorCode::kInvalidArgument, "unknown kind in " + key);
  if (objectKey->kind == kRollout) {
    out = reconcileRolloutKey(*objectKey);
  } else if (objectKey->kind == kAnalysisRun) {
    out = reconcileRunKey(*objectKey);
  }
  noteReconciled(key, objectKey->kind == kRollout, started, out);
  return out;
}

void Controller::noteReconciled(const std::string& key, bool rollout, Time started,
                                const Result<ReconcileOutcome>& out) {
  observeDuration(clock_.now() - started);
  std::lock_guard lock(mu_);
  if (rollout) {
    ++stats_.rolloutReconciles;
  } else {
    ++stats_.analysisReconciles;
  }
  if (out) lastError_.erase(key);
}

void Controller::process(const std::string& key) {
  reconcileOnce(
      queue_, key, [this](const std::string& k) { return reconcile(k); },
      [this](const std::string& k, const Error& e) { recordError(k, e); });
}

void Controller::processBatch(const std::vector<std::string>& keys) {
  const auto onError = [this](const std::string& k, const Error& e) { recordError(k, e); };
  const auto finish = [&](const std::string& key, Time started, Result<ReconcileOutcome> out) {
    noteReconciled(key, true, started, out);
    applyOutcome(queue_, key, out, onError);
  };
  struct Item {
    const std::string* key;
    Time started;
    std::unique_ptr<RolloutIntent> intent;
  };
  std::vector<Item> items;
  items.reserve(keys.size());
  for (const auto& key : keys) {
    auto objectKey = parseKey(key);
    if (keys.size() == 1 || !objectKey || objectKey->kind != kRollout) {
      process(key);
      continue;
    }
    const Time started = clock_.now();
    std::unique_ptr<RolloutIntent> intent;
    auto prepared = guardReconcile([&] { return prepareRollout(*objectKey, intent); });
    if (!prepared || !intent) {
      finish(key, started, std::move(prepared));
      continue;
    }
    items.push_back({&key, started, std::move(intent)});
  }
  std::vector<RolloutIntent*> intents;
  for (auto& item : items) intents.push_back(item.intent.get());
  auto committed = guardReconcile([&]() -> Result<ReconcileOutcome> {
    commitIntents(intents);
    return ReconcileOutcome{};
  });
  for (auto& item : items) {
    if (!committed) {
      finish(*item.key, item.started, std::unexpected(committed.error()));
      continue;
    }
    finish(*item.key, item.started, guardReconcile([&] { return actRollout(*item.intent); }));
  }
}

void Controller::observeDuration(Duration d) {
  const double seconds = std::chrono::duration<double>(d).count();
  std::lock_guard lock(mu_);
  size_t i = 0;
  while (i < kBuckets.size() && seconds > kBuckets[i]) ++i;
  ++histogram_[i];
  durationSum_ += seconds;
}

void Controller::recordError(const std::string& key, const Error& error) {
  {
    std::lock_guard lock(mu_);
    ++stats_.reconcileErrors;
    auto [it, inserted] = lastError_.try_emplace(key, error.message);
    if (!inserted && it->second == error.message) return;  // already reported
    it->second = error.message;
  }
  if (options_.log) options_.log("reconcile " + key + ": " + error.message);
  auto objectKey = parseKey(key);
  if (!objectKey || error.code == ErrorCode::kConflict || error.code == ErrorCode::kNotFound) {
    return;  // a lost race is not news; the retry reads the new version
  }
  store::Event e;
  e.time = clock_.now();
  e.object = *objectKey;
  e.type = store::EventType::kWarning;
  e.reason = "ReconcileError";
  e.message = error.message;
  e.actor = options_.actor;
  (void)store_.appendEvent(e);
}

Result<Controller::RouterSet*> Controller::routersFor(const std::string& rolloutKey,
                                                      const spec::Rollout& rollout) {
  const spec::TrafficRouting* configured = spec::routersOf(rollout.spec);
  if (configured == nullptr || configured->plugins.empty()) {
    std::lock_guard lock(mu_);
    routers_.erase(rolloutKey);
    return nullptr;
  }
  const auto& routing = *configured;
  const int32_t maxWeight = routing.maxTrafficWeight.value_or(spec::kDefaultMaxTrafficWeight);
  std::string configKey = std::to_string(maxWeight);
  for (const auto& [name, config] : routing.plugins) configKey += "|" + name + "=" + config.text;
  {
    std::lock_guard lock(mu_);
    auto it = routers_.find(rolloutKey);
    if (it != routers_.end() && it->second->configKey == configKey) return it->second.get();
  }
  auto set = std::make_shared<RouterSet>();
  set->configKey = configKey;
  set->maxWeight = maxWeight;
  set->queueKey = std::string(kRollout) + "/" + rolloutKey;
  for (const auto& [name, config] : routing.plugins) {
    auto registered = Registry::routerNameFor(name);
    if (!registered) return std::unexpected(registered.error());
    RouterContext rc{rolloutKey, config.text.empty() ? "{}" : config.text, maxWeight};
    auto router = registry_.makeRouter(*registered, rc, context_);
    if (!router) {
      // The path once: a router's own configuration errors already start with it.
      const std::string path = "trafficRouting.plugins[\"" + name + "\"]";
      const std::string& message = router.error().message;
      return makeError(router.error().code,
                       message.starts_with(path) ? message : path + ": " + message);
    }
    set->watchable = set->watchable || (*router)->watchable();
    set->routers.push_back(std::move(*router));
  }
  std::lock_guard lock(mu_);
  auto& slot = routers_[rolloutKey];
  slot = std::move(set);
  return slot.get();
}

void Controller::scheduleRouterWatch() {
  if (options_.routerWatch <= Duration(0)) return;
  {
    std::lock_guard lock(mu_);
    if (routerWatchScheduled_) return;
    routerWatchScheduled_ = true;
  }
  queue_.addAfter(kRouterWatchKey, options_.routerWatch);
}

ReconcileOutcome Controller::watchRouters() {
  std::vector<std::shared_ptr<RouterSet>> sets;
  {
    std::lock_guard lock(mu_);
    sets.reserve(routers_.size());
    for (const auto& [rolloutKey, set] : routers_) {
      if (set->watchable) sets.push_back(set);
    }
    if (sets.empty()) {
      routerWatchScheduled_ = false;  // the next applied weight schedules it again
      return ReconcileOutcome{};
    }
  }
  for (const auto& set : sets) {
    std::unique_lock lock(set->mu, std::try_to_lock);
    if (!lock.owns_lock() || !set->appliedWeight) continue;  // its reconcile is at it
    const auto probe = verifyRouters(set->routers, *set->appliedWeight);
    if (routerWatchRequeues(probe, set->statusVerified)) queue_.add(set->queueKey);
  }
  return ReconcileOutcome{options_.routerWatch};
}

std::vector<rollout::Event> switchEvents(const std::vector<rollout::ServiceSwitch>& switches,
                                         const std::vector<std::string>& routerTypes,
                                         const std::string& platform, bool servicesRoute) {
  std::string through;
  for (const auto& t : routerTypes) through += (through.empty() ? "" : ", ") + t;
  std::vector<rollout::Event> out;
  for (const auto& sw : switches) {
    std::map<std::string, std::string> evidence = {
        {"service", sw.service}, {"from", sw.from}, {"to", sw.to}};
    if (!through.empty()) {
      evidence["routers"] = through;
      out.push_back({"Normal", "SwitchService",
                     "Switched service '" + sw.service + "' from '" + sw.from + "' to '" + sw.to +
                         "' through " + through,
                     std::move(evidence)});
    } else if (servicesRoute) {
      // The platform's Service carries the traffic (Argo's own event and wording).
      evidence["platform"] = platform;
      out.push_back({"Normal", "SwitchService",
                     "Switched selector for service '" + sw.service + "' from '" + sw.from +
                         "' to '" + sw.to + "'",
                     std::move(evidence)});
    } else {
      evidence["platform"] = platform;
      out.push_back({"Warning", "ServiceNotRouted",
                     "Service '" + sw.service + "' now selects '" + sw.to + "' (was '" + sw.from +
                         "'), but no traffic was switched: no router serves this rollout on " +
                         platform + " (set spec.strategy.blueGreen.trafficRouting.plugins)",
                     std::move(evidence)});
    }
  }
  return out;
}

void Controller::recordSwitches(const ObjectKey& key,
                                const std::vector<rollout::ServiceSwitch>& switches,
                                const RouterSet* routerSet) {
  std::vector<std::string> types;
  if (routerSet) {
    for (const auto& router : routerSet->routers) types.push_back(router->type());
  }
  const Time now = clock_.now();
  for (const auto& e :
       switchEvents(switches, types, driver_.type(), driver_.servicesRouteTraffic())) {
    if (auto appended = store_.appendEvent(toStoreEvent(e, key, now, options_.actor)); !appended) {
      if (options_.log) {
        options_.log("recording event " + e.reason + ": " + appended.error().message);
      }
      continue;
    }
    std::lock_guard lock(mu_);
    ++stats_.eventsWritten;
    ++eventCounts_[{e.reason, e.type}];
  }
}

Status Controller::removeRoutes(const std::string& rolloutKey) {
  std::shared_ptr<RouterSet> set;
  {
    std::lock_guard lock(mu_);
    auto it = routers_.find(rolloutKey);
    if (it == routers_.end()) return {};
    set = it->second;
  }
  {
    std::lock_guard lock(set->mu);
    for (auto& router : set->routers) {
      if (auto s = router->removeAll(); !s) {
        return makeError(s.error().code, "removing the routes of deleted rollout " + rolloutKey +
                                             ": " + s.error().message);
      }
    }
  }
  std::lock_guard lock(mu_);
  routers_.erase(rolloutKey);
  return {};
}

std::string Controller::runProblems(const std::string& rolloutKey, const spec::Rollout& rollout) {
  std::vector<spec::Diagnostic> problems = registry_.checkRollout(rollout, driver_.type());
  std::vector<std::string> displaced;
  for (auto& d : claims_.update(rolloutKey, registry_.claimsOf(rolloutKey, rollout), displaced)) {
    problems.push_back(std::move(d));
  }
  for (const std::string& other : displaced) queue_.add(rolloutQueueKey(other));
  std::erase_if(problems,
                [](const spec::Diagnostic& d) { return d.severity != spec::Severity::kError; });
  std::string text = diagnosticsText(problems);
  std::lock_guard lock(mu_);
  if (auto it = refused_.find(rolloutKey); it != refused_.end()) {
    if (rollout.spec.template_ &&
        rollout::podTemplateHash(*rollout.spec.template_, rollout.status.collisionCount) ==
            it->second.first) {
      text += (text.empty() ? "" : "; ") + driver_.type() +
              " refused the template: " + it->second.second;
    } else {
      refused_.erase(it);  // a new template: try it
    }
  }
  return text;
}

Result<ReconcileOutcome> Controller::cleanupDeleted(const ObjectKey& key) {
  // Argo's owner references garbage-collect the ReplicaSets and AnalysisRuns of a deleted
  // Rollout; here the controller does it. The routers go first, so no request is sent to a
  // replica that is stopping; a router that fails does not hold up the rest (retried below).
  const std::string rolloutKey = rolloutKeyOf(key);
  for (const std::string& heir : claims_.erase(rolloutKey)) queue_.add(rolloutQueueKey(heir));
  if (rolloutCache_.erase(key.toString())) releaseFreeMemory();
  {
    std::lock_guard lock(mu_);
    imageChecks_.erase(rolloutKey);
  }
  const Status routes = removeRoutes(rolloutKey);
  auto workload = driver_.observe(rolloutKey);
  if (!workload) return std::unexpected(workload.error());
  for (const auto& r : workload->revisions) {
    if (r.desiredReplicas != 0) {
      if (auto s = driver_.scale(rolloutKey, r.podTemplateHash, 0, -1); !s) {
        return std::unexpected(s.error());
      }
    }
  }
  if (inMotion(*workload)) return ReconcileOutcome{options_.progressPoll};
  for (const auto& r : workload->revisions) {
    if (r.currentReplicas > 0) return ReconcileOutcome{options_.progressPoll};
    if (auto s = driver_.retire(rolloutKey, r.podTemplateHash); !s) {
      return std::unexpected(s.error());
    }
  }
  for (const auto& name : ownedRuns(rolloutKey)) {
    ObjectKey runKey{kAnalysisRun, key.namespace_, name};
    auto run = store_.get(runKey);
    if (run) (void)store_.remove(runKey, run->version);
    noteOwner(runKey, key.name, true);
  }
  if (!routes) return std::unexpected(routes.error());
  return ReconcileOutcome{};
}

Result<ReconcileOutcome> Controller::reconcileRolloutKey(const ObjectKey& key) {
  std::unique_ptr<RolloutIntent> intent;
  auto prepared = prepareRollout(key, intent);
  if (!prepared || !intent) return prepared;
  RolloutIntent* one = intent.get();
  commitIntents(std::span<RolloutIntent* const>(&one, 1));
  return actRollout(*intent);
}

Result<ReconcileOutcome> Controller::prepareRollout(const ObjectKey& key,
                                                    std::unique_ptr<RolloutIntent>& intent) {
  intent.reset();
  auto stored = store_.get(key);
  if (!stored) {
    if (stored.error().code == ErrorCode::kNotFound) return cleanupDeleted(key);
    return std::unexpected(stored.error());
  }
  auto next = std::make_unique<RolloutIntent>();
  next->key = key;
  next->cacheKey = key.toString();
  next->rolloutKey = rolloutKeyOf(key);
  next->storedVersion = stored->version;
  if (!decodeRollout(*stored, *next)) return ReconcileOutcome{};  // reported; not retried
  const spec::Rollout& rollout = next->cached->rollout;
  const std::string& rolloutKey = next->rolloutKey;

  // 0. A Rollout this daemon cannot run (its platform or routers refuse it, another Rollout owns
  // its backend) is InvalidSpec, and nothing is observed or touched (Argo halts the same way).
  if (std::string problems = runProblems(rolloutKey, rollout); !problems.empty()) {
    {
      std::lock_guard lock(mu_);
      routers_.erase(rolloutKey);
    }
    const Time now = clock_.now();
    next->plan = rollout::rejectSpec(rollout, problems, now);
    next->writes = rolloutWrites(storedOf(*next), next->plan, now, options_.actor);
    intent = std::move(next);
    return ReconcileOutcome{};
  }

  // 1. Observe.
  if (auto s = observeRollout(*next); !s) return std::unexpected(s.error());

  // The object spec.workloadRef names (Argo's templateref.go): a platform that cannot read it,
  // or one that is missing or unreadable, makes the Rollout InvalidSpec (Argo's
  // InvalidWorkloadRef), looked at again when the platform says the object changed
  // (watchWorkloadRefs), else after workloadRefPoll (it may appear).
  if (rollout.spec.workloadRef) {
    auto workload = driver_.resolveWorkloadRef(rolloutKey, *rollout.spec.workloadRef);
    if (!workload) {
      const ErrorCode code = workload.error().code;
      if (code == ErrorCode::kUnavailable || code == ErrorCode::kDeadlineExceeded) {
        return std::unexpected(workload.error());
      }
      const Time now = clock_.now();
      next->plan = rollout::rejectSpec(rollout, workload.error().message, now);
      if (!workloadRefsPushed_) next->plan.requeueAfter = options_.workloadRefPoll;
      next->writes = rolloutWrites(storedOf(*next), next->plan, now, options_.actor);
      intent = std::move(next);
      return ReconcileOutcome{};
    }
    next->observed.referencedWorkload = std::move(*workload);
  }

  if (options_.imageVerifier != nullptr) checkImages(*next);

  // 2. Decide.
  const Time now = clock_.now();
  const auto* hashes = next->cached->hashes ? &*next->cached->hashes : nullptr;
  next->plan = rollout::reconcileRollout(rollout, next->observed, now, hashes);

  // 2b. A new revision is created now, before the intent is persisted, as Argo creates the
  // ReplicaSet first: with 0 replicas it runs and serves nothing, ensureRevision is idempotent,
  // and the rollouts of one batch get theirs without waiting for each other's store writes (on
  // Kubernetes, each is several rate-limited requests). A failure is left to step 4, which makes
  // the call again and reports it.
  createNewRevisions(*next);

  // 3. The intent to persist: status, AnalysisRun writes and events, in one transaction.
  next->writes = rolloutWrites(storedOf(*next), next->plan, now, options_.actor);
  intent = std::move(next);
  return ReconcileOutcome{};
}

void Controller::createNewRevisions(RolloutIntent& intent) {
  const auto& revisions = intent.observed.workload.revisions;
  for (const auto& action : intent.plan.actions) {
    const auto* e = std::get_if<rollout::EnsureRevision>(&action);
    if (e == nullptr || std::any_of(revisions.begin(), revisions.end(),
                                    [&](const auto& r) { return r.podTemplateHash == e->hash; })) {
      continue;
    }
    if (driver_.ensureRevision(
            intent.rolloutKey,
            rollout::revisionSpec(intent.cached->rollout, intent.plan.status.stableRS, *e))) {
      intent.created.insert(e->hash);
    }
  }
}

bool Controller::decodeRollout(const store::StoredObject& stored, RolloutIntent& intent) {
  intent.cached = rolloutCache_.find(intent.cacheKey, stored.version);
  if (intent.cached) return true;
  auto decoded = spec::rolloutFromJson(stored.json, intent.cacheKey);
  if (!decoded.value) {
    // The API validates before storing, so this is a damaged record: report, do not retry.
    recordError(intent.cacheKey,
                Error{ErrorCode::kInvalidArgument,
                      "stored Rollout cannot be read: " + diagnosticsText(decoded.diagnostics)});
    return false;
  }
  auto entry = std::make_shared<RolloutCache::Entry>();
  entry->version = stored.version;
  entry->rollout = std::move(*decoded.value);
  entry->jsonHead = spec::rolloutJsonHead(entry->rollout);
  intent.fresh = entry;  // decoded by this reconcile, not cached yet
  intent.cached = std::move(entry);
  return true;
}

Status Controller::observeRollout(RolloutIntent& intent) {
  const ObjectKey& key = intent.key;
  const spec::Rollout& rollout = intent.cached->rollout;
  rollout::Observed& observed = intent.observed;
  auto workload = driver_.observe(intent.rolloutKey);
  if (!workload) return std::unexpected(workload.error());
  observed.workload = std::move(*workload);
  {
    std::lock_guard lock(mu_);
    if (auto it = collided_.find(intent.rolloutKey); it != collided_.end()) {
      observed.collidedHash = std::move(it->second);  // the core raises collisionCount once
      collided_.erase(it);
    }
  }

  for (const auto& name : ownedRuns(intent.rolloutKey)) {
    auto run = store_.get(ObjectKey{kAnalysisRun, key.namespace_, name});
    if (!run) {
      if (run.error().code == ErrorCode::kNotFound) continue;
      return std::unexpected(run.error());
    }
    auto decodedRun = spec::analysisRunFromJson(run->json, run->key.toString());
    if (!decodedRun.value) continue;
    intent.runVersions[name] = run->version;
    observed.analysisRuns.push_back(std::move(*decodedRun.value));
  }

  std::deque<spec::AnalysisTemplateRef> pending;
  for (auto& ref : templateRefs(rollout)) pending.push_back(std::move(ref));
  std::set<std::pair<bool, std::string>> fetched;
  while (!pending.empty()) {
    const spec::AnalysisTemplateRef ref = pending.front();
    pending.pop_front();
    if (!fetched.insert({ref.clusterScope, ref.templateName}).second) continue;
    ObjectKey tk = ref.clusterScope
                       ? ObjectKey{kClusterAnalysisTemplate, "", ref.templateName}
                       : ObjectKey{kAnalysisTemplate, key.namespace_, ref.templateName};
    auto t = store_.get(tk);
    if (!t) {
      if (t.error().code == ErrorCode::kNotFound) continue;  // the core reports it
      return std::unexpected(t.error());
    }
    auto decodedTemplate = spec::analysisTemplateFromJson(t->json, tk.toString());
    if (!decodedTemplate.value) continue;
    for (const auto& nested : decodedTemplate.value->spec.templates) pending.push_back(nested);
    observed.templates.push_back(std::move(*decodedTemplate.value));
  }

  auto routers = routersFor(intent.rolloutKey, rollout);
  if (!routers) return std::unexpected(routers.error());
  intent.routerSet = *routers;
  if (intent.routerSet != nullptr) {
    // Whatever the phase: a proxy that lost or changed the weight shows in the status. Before
    // any weight was recorded nothing is verified yet.
    std::lock_guard routerLock(intent.routerSet->mu);
    observed.weightVerification =
        rollout.status.canary.weights
            ? verifyRouters(intent.routerSet->routers, rollout.status.canary.weights->canary.weight)
            : rollout::WeightVerification::kNotYet;
  }
  return {};
}

void Controller::checkImages(RolloutIntent& intent) {
  const spec::Rollout& rollout = intent.cached->rollout;
  const auto* hashes = intent.cached->hashes ? &*intent.cached->hashes : nullptr;
  auto target = rollout::revisionToCreate(rollout, intent.observed, hashes);
  if (!target) return;
  const int64_t generation = rollout.metadata.generation;
  {
    std::lock_guard lock(mu_);
    auto it = imageChecks_.find(intent.rolloutKey);
    if (it != imageChecks_.end() && it->second.check.podTemplateHash == target->hash &&
        (it->second.allowed || (it->second.generation == generation &&
                                !rollout::imageRecheckRequested(rollout.status)))) {
      intent.observed.imageCheck = it->second.check;
      return;
    }
  }
  // Outside the lock: the registry may take a while (the verifier's request timeouts).
  CachedImageCheck fresh{generation, true, {target->hash, {}}};
  for (const std::string& image : rollout::templateImages(*target->template_)) {
    fresh.check.verdicts.push_back(options_.imageVerifier->verify(image));
    fresh.allowed = fresh.allowed && fresh.check.verdicts.back().allowed;
  }
  intent.observed.imageCheck = fresh.check;
  for (const auto& verdict : fresh.check.verdicts) {
    if (!verdict.allowed && options_.log) {
      options_.log("signature gate: " + intent.rolloutKey + ": " + verdict.reason);
    }
  }
  std::lock_guard lock(mu_);
  imageChecks_[intent.rolloutKey] = std::move(fresh);
}

StoredRollout Controller::storedOf(const RolloutIntent& intent) {
  return StoredRollout{intent.key,           &intent.cached->rollout,       intent.cached->jsonHead,
                       intent.storedVersion, &intent.observed.analysisRuns, &intent.runVersions};
}

void Controller::commitIntents(std::span<RolloutIntent* const> intents) {
  std::vector<RolloutIntent*> writing;
  for (RolloutIntent* intent : intents) {
    intent->committed = {};
    if (!intent->writes.ops.empty() || !intent->writes.events.empty()) writing.push_back(intent);
  }
  // Records what a successful write of `intent` (its ops at versions[opBase…]) changed.
  const auto landed = [&](RolloutIntent& intent, const std::vector<int64_t>& versions,
                          size_t opBase) {
    if (intent.writes.statusChanged)
      intent.versionAfter = versions[opBase + intent.writes.statusOp];
    std::lock_guard lock(mu_);
    stats_.eventsWritten += static_cast<int64_t>(intent.writes.events.size());
    for (const auto& e : intent.plan.events) ++eventCounts_[{e.reason, e.type}];
    if (options_.externalPoll > Duration(0)) {
      for (size_t i = 0; i < intent.writes.ops.size(); ++i) {
        if (intent.writes.ops[i].key == intent.key) selfRevisions_.insert(versions[opBase + i]);
      }
    }
  };
  if (writing.size() > 1 && store_.transactional()) {
    // One transaction for every intent. The ops and events move into it and back out, so a
    // failed batch (one rollout's compare-and-swap lost a race) can be retried one by one.
    std::vector<store::WriteOp> ops;
    std::vector<store::Event> events;
    std::vector<size_t> opBase;
    for (RolloutIntent* intent : writing) {
      opBase.push_back(ops.size());
      std::move(intent->writes.ops.begin(), intent->writes.ops.end(), std::back_inserter(ops));
      std::move(intent->writes.events.begin(), intent->writes.events.end(),
                std::back_inserter(events));
    }
    auto written = store_.writeWithEvents(ops, events);
    size_t op = 0;
    size_t event = 0;
    for (RolloutIntent* intent : writing) {
      for (auto& o : intent->writes.ops) o = std::move(ops[op++]);
      for (auto& e : intent->writes.events) e = std::move(events[event++]);
    }
    if (written) {
      for (size_t i = 0; i < writing.size(); ++i) landed(*writing[i], written->versions, opBase[i]);
      std::lock_guard lock(mu_);
      ++stats_.storeWrites;
      return;
    }
  }
  for (RolloutIntent* intent : writing) {
    auto written = store_.writeWithEvents(intent->writes.ops, intent->writes.events);
    if (!written) {
      intent->committed = std::unexpected(written.error());
      continue;
    }
    landed(*intent, written->versions, 0);
    std::lock_guard lock(mu_);
    ++stats_.storeWrites;
  }
}

Result<ReconcileOutcome> Controller::actRollout(RolloutIntent& intent) {
  if (!intent.committed) return std::unexpected(intent.committed.error());
  const ObjectKey& key = intent.key;
  const std::string& cacheKey = intent.cacheKey;
  const std::string& rolloutKey = intent.rolloutKey;
  const spec::Rollout& rollout = intent.cached->rollout;
  const rollout::Plan& plan = intent.plan;
  rollout::Observed& observed = intent.observed;
  RouterSet* routerSet = intent.routerSet;
  for (const auto& name : intent.writes.createdRuns) {
    noteOwner(ObjectKey{kAnalysisRun, key.namespace_, name}, key.name, false);
  }
  // The cache now describes the version this reconcile left in the store (a hit that wrote
  // nothing is there already). `cached` keeps the entry `rollout` refers to alive.
  if (intent.writes.statusChanged) {
    auto next = std::make_shared<RolloutCache::Entry>();
    next->version = intent.versionAfter;
    next->rollout = rollout;
    next->rollout.status = plan.status;
    next->jsonHead = intent.cached->jsonHead;
    next->hashes = plan.hashes;
    rolloutCache_.put(cacheKey, std::move(next));
  } else if (intent.fresh) {
    intent.fresh->hashes = plan.hashes;
    rolloutCache_.put(cacheKey, std::move(intent.fresh));
  }

  // 4. Act, in order. The router watch stays off this rollout's routers meanwhile.
  std::unique_lock<std::mutex> routerLock;
  if (routerSet) {
    routerLock = std::unique_lock(routerSet->mu);
    // Blue-green records no weights (Argo's status has none): the watch requeues on a probe
    // that fails, and the reconcile converges the routers again.
    routerSet->statusVerified = plan.status.canary.weights ? plan.status.canary.weights->verified
                                : rollout.spec.strategy.blueGreen ? std::nullopt
                                                                  : std::optional<bool>(false);
  }
  // Every router of the rollout, in order, until one fails (none: nothing to do).
  const auto eachRouter = [routerSet](const std::function<Status(traffic::TrafficRouter&)>& call) {
    if (routerSet == nullptr) return Status{};
    for (auto& router : routerSet->routers) {
      if (auto status = call(*router); !status) return status;
    }
    return Status{};
  };
  // Sets the canary weight on every router and remembers it for the router watch.
  const auto applyWeight = [&](int32_t weight) {
    Status status = eachRouter([&](traffic::TrafficRouter& r) { return r.setWeight(weight, {}); });
    if (status) {
      routerSet->appliedWeight = weight;
      if (routerSet->watchable) scheduleRouterWatch();
    }
    return status;
  };
  bool workloadChanged = false;
  bool nothingReady = false;
  const auto readyCount = [](const traffic::RevisionEndpoints& r) {
    return static_cast<int>(std::count_if(r.endpoints.begin(), r.endpoints.end(),
                                          [](const traffic::Endpoint& e) { return e.ready; }));
  };
  for (const auto& action : plan.actions) {
    Status status;
    if (const auto* e = std::get_if<rollout::EnsureRevision>(&action)) {
      if (!intent.created.contains(e->hash)) {  // else created in step 2b
        status = driver_.ensureRevision(rolloutKey,
                                        rollout::revisionSpec(rollout, plan.status.stableRS, *e));
      }
      workloadChanged = true;
    } else if (const auto* s = std::get_if<rollout::ScaleRevision>(&action)) {
      status = driver_.scale(rolloutKey, s->hash, s->replicas, rollout.spec.replicas.value_or(1));
      workloadChanged = true;
    } else if (const auto* d = std::get_if<rollout::SetScaleDownDeadline>(&action)) {
      status = driver_.setScaleDownDeadline(rolloutKey, d->hash, d->deadline);
    } else if (const auto* r = std::get_if<rollout::RetireRevision>(&action)) {
      status = driver_.retire(rolloutKey, r->hash);
    } else if (const auto* sw = std::get_if<rollout::ScaleWorkloadRef>(&action)) {
      status = driver_.scaleWorkloadRef(rolloutKey, *rollout.spec.workloadRef, sw->replicas);
    } else if (const auto* rr = std::get_if<rollout::RestartReplica>(&action)) {
      status = driver_.restartReplica(rolloutKey, rr->hash, rr->before);
      workloadChanged = true;
    } else if (const auto* sync = std::get_if<rollout::SyncEndpoints>(&action)) {
      if (workloadChanged) {
        auto fresh = driver_.observe(rolloutKey);
        if (!fresh) return std::unexpected(fresh.error());
        observed.workload = std::move(*fresh);
        workloadChanged = false;
      }
      // The platform labels replicas by role (file_sd on the process platform).
      const bool blueGreen = rollout.spec.strategy.blueGreen.has_value();
      std::map<std::string, std::string> roles;
      if (!sync->canaryHash.empty()) roles[sync->canaryHash] = blueGreen ? "preview" : "canary";
      if (!sync->stableHash.empty()) roles[sync->stableHash] = blueGreen ? "active" : "stable";
      status = driver_.setRoles(rolloutKey, roles, rollout::roleMetadata(rollout));
      // Services that select a revision (platform.kubernetes): Argo's selector switch.
      if (status) {
        status = driver_.selectServices(rolloutKey,
                                        rollout::serviceSelections(rollout, plan.status, *sync));
      }
      const auto stable = endpointsOf(observed.workload, sync->stableHash);
      const auto canary = endpointsOf(observed.workload, sync->canaryHash);
      std::vector<traffic::RevisionEndpoints> draining;
      for (const auto& hash : sync->drainingHashes) {
        draining.push_back(endpointsOf(observed.workload, hash));
      }
      // With no ready replica in either revision (a first deploy still starting) there is
      // nothing to route to: routers refuse such a change, and that must not keep this
      // reconcile from scaling the replicas up. A later reconcile syncs them once ready.
      nothingReady = readyCount(stable) == 0 && readyCount(canary) == 0;
      if (status && !nothingReady) {
        status = eachRouter(
            [&](traffic::TrafficRouter& r) { return r.syncEndpoints(stable, canary, draining); });
      }
      // A basic canary's Service holds both revisions alike: the split follows ready replicas.
      if (status && !nothingReady && routerSet && sync->byReplicas) {
        const bool sameRevision = sync->canaryHash == sync->stableHash;
        status = applyWeight(rollout::replicaShareWeight(
            readyCount(stable), sameRevision ? 0 : readyCount(canary), routerSet->maxWeight));
      }
      // The Services moved only when the routers moved them (or there is none to move).
      if (!routerSet) {
        if (status) recordSwitches(key, sync->switches, nullptr);
      } else {
        auto& pending = routerSet->pendingSwitches;
        pending.insert(pending.end(), sync->switches.begin(), sync->switches.end());
        if (status && !nothingReady && !pending.empty()) {
          recordSwitches(key, pending, routerSet);
          pending.clear();
        }
      }
    } else if (const auto* w = std::get_if<rollout::SetWeight>(&action)) {
      if (routerSet && !nothingReady) status = applyWeight(w->canaryWeight);
    } else if (const auto* h = std::get_if<rollout::SetHeaderRoute>(&action)) {
      const traffic::HeaderRoute route = toHeaderRoute(h->route);
      status = eachRouter([&](traffic::TrafficRouter& r) { return r.setHeaderRoute(route); });
    } else if (const auto* m = std::get_if<rollout::SetMirrorRoute>(&action)) {
      const traffic::MirrorRoute route = toMirrorRoute(m->route);
      status = eachRouter([&](traffic::TrafficRouter& r) { return r.setMirrorRoute(route); });
    } else if (std::holds_alternative<rollout::RemoveManagedRoutes>(action)) {
      status = eachRouter([](traffic::TrafficRouter& r) { return r.removeManagedRoutes(); });
    }
    // Store actions (create/terminate/delete AnalysisRun) were persisted above.
    if (!status && status.error().code == ErrorCode::kInvalidArgument &&
        std::holds_alternative<rollout::EnsureRevision>(action)) {
      // The platform cannot run this template at all: the retry reports InvalidSpec rather than
      // trying (and announcing scaling) again and again.
      std::lock_guard lock(mu_);
      refused_[rolloutKey] = {std::get<rollout::EnsureRevision>(action).hash,
                              status.error().message};
    }
    if (!status && status.error().code == ErrorCode::kAlreadyExists &&
        std::holds_alternative<rollout::EnsureRevision>(action)) {
      // Argo's hash collision: the revision's name is another object's. The next reconcile,
      // right away, tells the core, which raises status.collisionCount and so the hash.
      if (options_.log) {
        options_.log("found a hash collision: " + rolloutKey + ": " + status.error().message +
                     "; raising status.collisionCount");
      }
      std::lock_guard lock(mu_);
      collided_[rolloutKey] = std::get<rollout::EnsureRevision>(action).hash;
      return ReconcileOutcome{Duration(0)};
    }
    if (!status) {
      return makeError(status.error().code,
                       rollout::describe(action) + " failed: " + status.error().message);
    }
  }

  std::optional<Duration> requeue = plan.requeueAfter;
  if (plan.status.phase == spec::RolloutPhase::kProgressing || inMotion(observed.workload) ||
      workloadChanged) {
    requeue = earlier(requeue, options_.progressPoll);
  }
  if (rollout.spec.workloadRef && !workloadRefsPushed_) {
    requeue = earlier(requeue, options_.workloadRefPoll);
  }
  // A settled rollout waits for a change, which a fresh decode serves as well: only busy ones
  // (coming back soon) keep their entry.
  if (!requeue && rolloutCache_.erase(cacheKey)) releaseFreeMemory();
  return ReconcileOutcome{requeue};
}

Result<ReconcileOutcome> Controller::reconcileRunKey(const ObjectKey& key) {
  auto stored = store_.get(key);
  if (!stored) {
    if (stored.error().code == ErrorCode::kNotFound) return ReconcileOutcome{};
    return std::unexpected(stored.error());
  }
  auto decoded = spec::analysisRunFromJson(stored->json, key.toString());
  if (!decoded.value) {
    recordError(key.toString(),
                Error{ErrorCode::kInvalidArgument, "stored AnalysisRun cannot be read: " +
                                                       diagnosticsText(decoded.diagnostics)});
    return ReconcileOutcome{};
  }
  spec::AnalysisRun run = std::move(*decoded.value);
  if (analysis::phaseCompleted(run.status.phase)) return ReconcileOutcome{};
  const spec::AnalysisRun before = run;

  std::mutex providersMu;
  std::vector<analysis::MetricProviderPtr> providers;
  analysis::ReconcileEnv env;
  env.clock = &clock_;
  env.secrets = secrets_.get();
  env.resolve = [&](const spec::Metric& metric) -> Result<analysis::MetricProvider*> {
    auto provider = registry_.makeProvider(metric.provider, context_);
    if (!provider) return std::unexpected(provider.error());
    std::lock_guard lock(providersMu);
    providers.push_back(std::move(*provider));
    return providers.back().get();
  };
  analysis::RunPassOutcome outcome = analysis::reconcileAnalysisRun(run, env);

  const Time now = clock_.now();
  const std::vector<store::Event> events = runEvents(outcome, key, now, options_.actor);
  if (run != before || !events.empty()) {
    std::vector<store::WriteOp> ops;
    if (run != before) {
      ops.push_back({store::WriteOp::Type::kPut, key, spec::toJson(run), stored->version});
    }
    auto written = store_.writeWithEvents(ops, events);
    if (!written) return std::unexpected(written.error());
    std::lock_guard lock(mu_);
    ++stats_.storeWrites;
    stats_.eventsWritten += static_cast<int64_t>(events.size());
    for (const auto& e : events) {
      ++eventCounts_[{e.reason, e.type == store::EventType::kWarning ? "Warning" : "Normal"}];
    }
  }
  if (outcome.completed || !outcome.nextDue) return ReconcileOutcome{};
  return ReconcileOutcome{std::max(Duration(0), *outcome.nextDue - now)};
}

ControllerStats Controller::stats() const {
  ControllerStats s;
  {
    std::lock_guard lock(mu_);
    s = stats_;
  }
  s.cachedRollouts = static_cast<int64_t>(rolloutCache_.size());
  return s;
}

void Controller::appendMetrics(MetricsPage& page) const {
  std::lock_guard lock(mu_);
  page.family("rollout_reconcile", MetricType::kHistogram,
              "Rollout and AnalysisRun reconciliation performance.")
      .addHistogram({}, kBuckets, histogram_, durationSum_);
  page.family("rollout_reconcile_error_total", MetricType::kCounter,
              "Reconciliations that failed (retried with backoff).")
      .add({}, stats_.reconcileErrors);
  // rollout_events_total belongs to the API (every event about a Rollout, by namespace and
  // name); these are the events this controller wrote, about Rollouts and AnalysisRuns.
  auto& events =
      page.family("controller_events_total", MetricType::kCounter,
                  "Events recorded by the controller, by reason and type.", {"reason", "type"});
  for (const auto& [k, n] : eventCounts_) events.add({k.first, k.second}, n);
  page.family("controller_workqueue_depth", MetricType::kGauge, "Keys queued and ready.")
      .add({}, static_cast<int64_t>(queue_.len()));
}

}  // namespace ramp::controller
