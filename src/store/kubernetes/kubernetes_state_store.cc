#include "store/kubernetes/kubernetes_state_store.h"

#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "kube/wire.h"
#include "spec/kinds.h"
#include "store/common/sequential_writes.h"
#include "store/kubernetes/custom_resources.h"

namespace ramp::store::kubernetes {
namespace {

// Argo CD installs these CRDs, not Argo Rollouts (deploy/crds); a cluster without Argo CD has
// none, and the store still serves rollouts there.
bool installedByArgoCd(spec::Kind kind) {
  return kind == spec::Kind::kApplication || kind == spec::Kind::kAppProject;
}

// The served resource names of argoproj.io/v1alpha1 ("rollouts", "rollouts/status", …).
Result<std::set<std::string>> servedResources(kube::Client& client) {
  const std::string path = "/apis/argoproj.io/v1alpha1";
  auto body = client.getPath(path);
  if (!body) {
    if (body.error().code == ErrorCode::kNotFound) {
      return makeError(ErrorCode::kFailedPrecondition,
                       "store.kubernetes: the API server (" + client.config().server +
                           ") does not serve argoproj.io/v1alpha1: install the CRDs "
                           "(kubectl apply -f deploy/crds)");
    }
    return std::unexpected(body.error());
  }
  auto j = nlohmann::json::parse(*body, nullptr, false);
  std::set<std::string> names;
  if (j.is_object() && j.contains("resources") && j["resources"].is_array()) {
    for (const auto& r : j["resources"]) {
      if (r.is_object() && r.contains("name") && r["name"].is_string()) {
        names.insert(r["name"].get<std::string>());
      }
    }
  }
  return names;
}

// The API server's current revision: the resourceVersion of a one-item list.
Result<int64_t> clusterRevision(kube::Client& client) {
  const kube::ResourceType type = *resourceFor("Rollout");
  auto body = client.getPath(kube::collectionPath(type, "") + "?limit=1");
  if (!body) return std::unexpected(body.error());
  auto page = kube::decodeListPage(*body, kube::describe(type, "", ""));
  if (!page) return std::unexpected(page.error());
  int64_t rv = 0;
  try {
    rv = std::stoll(page->resourceVersion);
  } catch (...) {
    return makeError(ErrorCode::kParse, "store.kubernetes: the list's resourceVersion \"" +
                                            page->resourceVersion.substr(0, 40) +
                                            "\" is not a number");
  }
  return rv;
}

// The store key of an object an informer of `kind` reports ("ns/name" or "name").
ObjectKey keyOf(const std::string& kind, const ApiObject& object) {
  return ObjectKey{kind, object.namespace_, object.name};
}

}  // namespace

KubernetesStateStore::KubernetesStateStore(kube::Client& client, Clock& clock,
                                           KubernetesStoreOptions options)
    : client_(client),
      clock_(clock),
      options_(std::move(options)),
      objects_(options_.changeLogRetention),
      events_(options_.eventWindow) {
  leaseNamespace_ = !options_.leaseNamespace.empty() ? options_.leaseNamespace
                    : !options_.namespace_.empty()   ? options_.namespace_
                                                     : client.config().namespace_;
  if (leaseNamespace_.empty()) leaseNamespace_ = "default";
  audit_ = std::make_unique<KubernetesAuditLog>(client_, leaseNamespace_);
}

Result<std::unique_ptr<KubernetesStateStore>> KubernetesStateStore::open(
    kube::Client& client, Clock& clock, KubernetesStoreOptions options) {
  if (options.changeLogRetention <= 0 || options.eventWindow <= 0) {
    return makeError(ErrorCode::kInvalidArgument,
                     "store.kubernetes: changeLogRetention and eventWindow must be > 0");
  }
  std::unique_ptr<KubernetesStateStore> store(
      new KubernetesStateStore(client, clock, std::move(options)));
  if (auto s = store->start(); !s) return std::unexpected(s.error());
  return store;
}

KubernetesStateStore::~KubernetesStateStore() {
  sender_.reset();  // the queued Events are written first (EventSender's drain)
  if (cancelledEvents_ > 0 && options_.log) {
    options_.log("store.kubernetes: " + std::to_string(cancelledEvents_) +
                 " Events were not written before the store stopped");
  }
  // Every informer is asked first, so they all end within the same second.
  for (auto& k : kinds_) k->informer->requestStop();
  if (eventInformer_) eventInformer_->requestStop();
  for (auto& k : kinds_) k->informer->stop();
  if (eventInformer_) eventInformer_->stop();
}

Status KubernetesStateStore::start() {
  auto selector = instanceSelector(options_.instanceId);
  if (!selector) return std::unexpected(selector.error());
  auto served = servedResources(client_);
  if (!served) return std::unexpected(served.error());
  for (const spec::KindInfo& info : spec::kKinds) {
    auto state = std::make_unique<KindState>();
    state->type = *resourceFor(info.name);
    if (!served->contains(state->type.plural)) {
      if (installedByArgoCd(info.kind)) {
        missing_.push_back(state->type.plural + ".argoproj.io");
        continue;
      }
      return makeError(ErrorCode::kFailedPrecondition,
                       "store.kubernetes: the CRD " + state->type.plural +
                           ".argoproj.io is not installed on " + client_.config().server +
                           " (kubectl apply -f deploy/crds)");
    }
    state->statusSubresource = served->contains(state->type.plural + "/status");
    const std::string kind = info.name;
    kube::InformerOptions informerOptions;
    informerOptions.ns = options_.namespace_;   // ignored for the cluster-scoped kind
    informerOptions.labelSelector = *selector;  // Argo's instance-id filter, on every kind
    informerOptions.keepObjects = false;        // objects_ is the copy
    informerOptions.keepKeys = false;           // with the keys; a relist's deletes are by them,
    informerOptions.heldKeys = [this, kind] {   // as of the list (observeDelete's rule)
      std::lock_guard lock(mu_);
      return objects_.informerKeys(kind);
    };
    state->informer = std::make_unique<kube::Informer>(
        client_, clock_, state->type, informerOptions,
        [this, kind](const kube::ObjectChange& c) { onObjectChange(kind, c); });
    kinds_.push_back(std::move(state));
  }
  kube::InformerOptions eventOptions;
  eventSelector_ = std::string(kManagedByLabel) + "=" + kManagedBy + "," + *selector;
  eventOptions.labelSelector = eventSelector_;
  eventOptions.ns = options_.namespace_;
  eventOptions.keepObjects = false;  // events_ is the copy
  eventOptions.keepKeys = false;     // and tells repeats apart (EventMirror::observe)
  eventInformer_ =
      std::make_unique<kube::Informer>(client_, clock_, kube::events(), eventOptions,
                                       [this](const kube::ObjectChange& c) { onEventChange(c); });
  for (auto& k : kinds_) k->informer->start();
  eventInformer_->start();
  const Time deadline = clock_.now() + options_.syncTimeout;
  std::vector<kube::Informer*> informers;
  for (auto& k : kinds_) informers.push_back(k->informer.get());
  informers.push_back(eventInformer_.get());
  for (kube::Informer* informer : informers) {
    const Duration left = std::max(Duration(0), deadline - clock_.now());
    if (!informer->waitForSync(left)) {
      // Name why, when a list failed (e.g. a 403: RBAC without list or watch on the kind).
      std::optional<Error> why = informer->lastListError();
      return makeError(ErrorCode::kDeadlineExceeded,
                       "store.kubernetes: the first lists from " + client_.config().server +
                           " did not finish within " +
                           std::to_string(options_.syncTimeout.count() / 1000) + " s" +
                           (why ? ": " + why->message : std::string()));
    }
  }
  auto base = clusterRevision(client_);
  if (!base) return std::unexpected(base.error());
  sender_ = std::make_unique<EventSender>(
      client_, clock_,
      [this](const EventWrite& write, const Result<std::string>& reply) {
        onEventWritten(write, reply);
      },
      options_.eventSender);
  std::lock_guard lock(mu_);
  objects_.start(*base);
  events_.start(objects_.revision());
  return {};
}

std::vector<std::string> KubernetesStateStore::missingCustomResources() const { return missing_; }

KubernetesStateStore::KindState* KubernetesStateStore::kindState(const std::string& kind) {
  for (auto& k : kinds_) {
    if (k->type.kind == kind) return k.get();
  }
  return nullptr;
}

void KubernetesStateStore::onObjectChange(const std::string& kind,
                                          const kube::ObjectChange& change) {
  if (change.type == kube::ObjectChange::Type::kDeleted) {
    // By key and resourceVersion: a delete a relist found carries no object (the informers
    // keep none; the mirror is the copy).
    auto rv = parseResourceVersion(change.resourceVersion);
    if (!rv) return;
    const size_t slash = change.key.find('/');
    const ObjectKey key = slash == std::string::npos ? ObjectKey{kind, "", change.key}
                                                     : ObjectKey{kind, change.key.substr(0, slash),
                                                                 change.key.substr(slash + 1)};
    std::lock_guard lock(mu_);
    auto observed = objects_.observeDelete(key, *rv);
    if (observed.change) notifier_.enqueue({std::move(*observed.change)});
  } else {
    auto object = decodeApiObject(change.json, kind + " " + change.key);
    if (!object) return;  // not an object the server could have stored; nothing to mirror
    const ObjectKey key = keyOf(kind, *object);
    std::lock_guard lock(mu_);
    auto observed = objects_.observePut(key, std::move(object->json), object->resourceVersion);
    if (observed.change) notifier_.enqueue({std::move(*observed.change)});
  }
  notifier_.deliver();
}

void KubernetesStateStore::onEventChange(const kube::ObjectChange& change) {
  if (change.type == kube::ObjectChange::Type::kDeleted) {  // expired (--event-ttl)
    std::lock_guard lock(mu_);
    events_.forget(change.key);
    return;
  }
  auto object = decodeApiObject(change.json, "Event " + change.key);
  auto event = eventFromApi(change.json);
  if (!object || !event) return;
  const EventStamps stamps = eventStampsOf(change.json);
  std::lock_guard lock(mu_);
  const bool recordedHere = stamps.id && events_.base() != 0 && stamps.idBase == events_.base();
  const int64_t id = events_.observe(object->namespace_ + "/" + object->name, std::move(*event),
                                     object->resourceVersion, recordedHere);
  // Another writer's (a previous leader's) Event names its record; this store's own are linked
  // when written.
  if (id != 0 && stamps.auditIndex && !linkedEvent(*stamps.auditIndex)) {
    linkAuditRecord(*stamps.auditIndex, id);
  }
}

namespace {

using AuditLinks = std::deque<std::pair<int64_t, int64_t>>;

AuditLinks::const_iterator linkOf(const AuditLinks& links, int64_t index) {
  return std::lower_bound(
      links.begin(), links.end(), index,
      [](const std::pair<int64_t, int64_t>& l, int64_t i) { return l.first < i; });
}

}  // namespace

void KubernetesStateStore::linkAuditRecord(int64_t index, int64_t eventId) {
  auto at = linkOf(auditEventIds_, index);
  if (at != auditEventIds_.end() && at->first == index) {
    auditEventIds_[static_cast<size_t>(at - auditEventIds_.begin())].second = eventId;
  } else {
    auditEventIds_.insert(at, {index, eventId});
  }
  while (static_cast<int64_t>(auditEventIds_.size()) > kDefaultEventRetention) {
    auditEventIds_.pop_front();
  }
}

std::optional<int64_t> KubernetesStateStore::linkedEvent(int64_t index) const {
  auto at = linkOf(auditEventIds_, index);
  if (at == auditEventIds_.end() || at->first != index) return std::nullopt;
  return at->second;
}

Result<int64_t> KubernetesStateStore::observeReply(const ObjectKey& key, std::string_view reply,
                                                   bool deleted, int64_t fallbackResourceVersion) {
  auto object = decodeApiObject(reply, key.toString());
  if (!object && !deleted) return std::unexpected(object.error());
  int64_t version = 0;
  {
    std::lock_guard lock(mu_);
    ObjectMirror::Observed observed;
    // An object the server still holds (a delete that left finalizers to run) is a put.
    if (deleted && !(object && object->deleting)) {
      observed =
          objects_.observeDelete(key, object ? object->resourceVersion : fallbackResourceVersion);
    } else {
      observed = objects_.observePut(key, std::move(object->json), object->resourceVersion);
    }
    if (observed.change) notifier_.enqueue({std::move(*observed.change)});
    version = observed.version;
  }
  notifier_.deliver();
  if (version == 0) {
    return makeError(ErrorCode::kConflict, key.toString() +
                                               " was written, but a newer change to it reached "
                                               "the store first: read it again");
  }
  return version;
}

Result<StoredObject> KubernetesStateStore::get(const ObjectKey& key) {
  if (auto s = validateKey(key); !s) return std::unexpected(s.error());
  if (auto s = checkScope(key); !s) return std::unexpected(s.error());
  std::lock_guard lock(mu_);
  const MirrorEntry* e = objects_.find(key);
  if (e == nullptr) return makeError(ErrorCode::kNotFound, key.toString() + " not found");
  return StoredObject{key, e->json(), e->version};
}

Status KubernetesStateStore::checkScope(const ObjectKey& key) const {
  if (auto s = checkKey(key); !s) return s;
  if (!options_.namespace_.empty() && !key.namespace_.empty() &&
      key.namespace_ != options_.namespace_) {
    return makeError(ErrorCode::kInvalidArgument, key.toString() +
                                                      ": outside the store's namespace " +
                                                      options_.namespace_ + " (--namespace)");
  }
  return {};
}

Result<KubernetesStateStore::Checked> KubernetesStateStore::check(const WriteOp& op) {
  if (auto s = validateOp(op); !s) return std::unexpected(s.error());
  if (auto s = checkScope(op.key); !s) return std::unexpected(s.error());
  Checked out{kindState(op.key.kind), std::nullopt};
  if (out.kind == nullptr) {
    auto type = resourceFor(op.key.kind);
    return makeError(ErrorCode::kFailedPrecondition,
                     "store.kubernetes: " + op.key.toString() + " cannot be stored: the CRD " +
                         (type ? type->plural : op.key.kind) + ".argoproj.io is not installed on " +
                         client_.config().server + " (it comes with Argo CD)");
  }
  {
    std::lock_guard lock(mu_);
    if (const MirrorEntry* e = objects_.find(op.key)) out.current = *e;
  }
  if (auto s = checkVersion(op, out.current ? std::optional(out.current->version) : std::nullopt);
      !s) {
    return std::unexpected(s.error());
  }
  return out;
}

Result<int64_t> KubernetesStateStore::put(const ObjectKey& key, std::string_view given,
                                          int64_t expectedVersion) {
  auto checked = check(WriteOp{WriteOp::Type::kPut, key, std::string(given), expectedVersion});
  if (!checked) return std::unexpected(checked.error());
  // Labelled before anything compares it, so an unchanged object is not written again.
  auto labelled = labelForInstance(key, given, options_.instanceId);
  if (!labelled) return std::unexpected(labelled.error());
  const std::string_view json = *labelled;
  KindState* kind = checked->kind;
  const std::optional<MirrorEntry>& current = checked->current;
  const std::string& ns = key.namespace_;
  auto writeStatus = [&](const std::string& resourceVersion) -> Result<int64_t> {
    auto body = customResourceBody(key, json, resourceVersion, current ? current->json() : "");
    if (!body) return std::unexpected(body.error());
    auto written = client_.updateStatus(kind->type, ns, key.name, *body);
    if (!written) {
      Error e = written.error();
      if (e.code == ErrorCode::kNotFound) e.code = ErrorCode::kConflict;
      return std::unexpected(std::move(e));
    }
    return observeReply(key, *written, false, 0);
  };

  if (!current) {  // create
    auto body = customResourceBody(key, json, "");
    if (!body) return std::unexpected(body.error());
    auto created = client_.create(kind->type, ns, *body);
    if (!created) return std::unexpected(created.error());
    auto version = observeReply(key, *created, false, 0);
    // The server drops the status of a create when the kind has a status subresource.
    if (!version || !kind->statusSubresource || !planWrite(*created, json).status) return version;
    auto object = decodeApiObject(*created, key.toString());
    auto status = writeStatus(std::to_string(object->resourceVersion));
    if (!status) {
      return makeError(
          status.error().code,
          key.toString() + ": created, but its status was not written: " + status.error().message);
    }
    return status;
  }

  const WritePlan plan =
      kind->statusSubresource ? planWrite(current->json(), json) : WritePlan{true, false};
  std::string resourceVersion = std::to_string(current->resourceVersion);
  if (plan.main || !plan.status) {
    // Also when nothing changes: the PUT still checks the resourceVersion (a no-op write keeps
    // it), so a stale expectedVersion is kConflict however the mirror lags.
    auto body = customResourceBody(key, json, resourceVersion, current->json());
    if (!body) return std::unexpected(body.error());
    auto updated = client_.update(kind->type, ns, key.name, *body);
    if (!updated) {
      Error e = updated.error();
      if (e.code == ErrorCode::kNotFound) e.code = ErrorCode::kConflict;  // deleted meanwhile
      return std::unexpected(std::move(e));
    }
    auto version = observeReply(key, *updated, false, 0);
    if (!version || !plan.status) return version;
    resourceVersion = std::to_string(decodeApiObject(*updated, key.toString())->resourceVersion);
  }
  return writeStatus(resourceVersion);
}

Result<int64_t> KubernetesStateStore::remove(const ObjectKey& key, int64_t expectedVersion) {
  auto checked = check(WriteOp{WriteOp::Type::kDelete, key, {}, expectedVersion});
  if (!checked) return std::unexpected(checked.error());
  const int64_t resourceVersion = checked->current->resourceVersion;
  auto reply = client_.removeAt(checked->kind->type, key.namespace_, key.name,
                                std::to_string(resourceVersion));
  if (!reply) return std::unexpected(reply.error());
  return observeReply(key, *reply, true, resourceVersion);
}

Result<std::vector<int64_t>> KubernetesStateStore::write(std::span<const WriteOp> ops) {
  auto r = writeSequentially(*this, ops, {});
  if (!r) return std::unexpected(r.error());
  return std::move(r->versions);
}

Result<WriteResult> KubernetesStateStore::writeWithEvents(std::span<const WriteOp> ops,
                                                          std::span<const Event> events) {
  for (size_t i = 0; i < ops.size(); ++i) {
    if (auto s = validateOp(ops[i]); !s) return std::unexpected(opError(i, s.error()));
  }
  if (auto s = validateEvents(events); !s) return std::unexpected(s.error());
  // The records first: no decision without its record (audit_log.h).
  if (auto s = audit_->append(events); !s) return std::unexpected(s.error());
  auto result = writeSequentially(*this, ops, {});
  if (!result) return result;
  for (const Event& event : events) result->eventIds.push_back(writeEvent(event));
  return result;
}

Result<std::vector<AuditRecord>> KubernetesStateStore::listAuditRecords(const AuditQuery& query) {
  auto records = audit_->list(query);
  if (!records) return records;
  std::lock_guard lock(mu_);
  for (AuditRecord& r : *records) {
    if (auto eventId = linkedEvent(r.index)) r.eventId = *eventId;
  }
  return records;
}

Result<int64_t> KubernetesStateStore::auditSize() { return audit_->size(); }

Status KubernetesStateStore::appendAuditRecords(std::span<const Event> events) {
  if (auto s = validateEvents(events); !s) return s;
  return audit_->append(events);
}

Status KubernetesStateStore::appendAuditCheckpoint(const AuditCheckpoint& checkpoint) {
  return audit_->appendCheckpoint(checkpoint);
}

void KubernetesStateStore::repackMemory() {
  std::lock_guard lock(mu_);
  objects_.repack();
  events_.repack();
  // The links' blocks, in a row too (a vector's one large block holds them meanwhile).
  const std::vector<std::pair<int64_t, int64_t>> links(auditEventIds_.begin(),
                                                       auditEventIds_.end());
  std::deque<std::pair<int64_t, int64_t>>().swap(auditEventIds_);
  auditEventIds_.assign(links.begin(), links.end());
}

Result<std::vector<AuditCheckpoint>> KubernetesStateStore::listAuditCheckpoints() {
  return audit_->checkpoints();
}

Result<ObjectList> KubernetesStateStore::list(const std::string& kind,
                                              const std::string& namespace_) {
  if (kind.empty()) return makeError(ErrorCode::kInvalidArgument, "list: empty kind");
  if (!resourceFor(kind)) {
    return makeError(ErrorCode::kInvalidArgument, "list: kind " + kind +
                                                      " is not kept in Kubernetes (its kinds: " +
                                                      spec::kindChoices(", ", false, false) + ")");
  }
  std::lock_guard lock(mu_);
  return objects_.list(kind, namespace_);
}

Result<int64_t> KubernetesStateStore::currentRevision() {
  std::lock_guard lock(mu_);
  return objects_.revision();
}

Result<std::vector<Change>> KubernetesStateStore::changesSince(int64_t revision, int64_t limit) {
  if (auto s = validateChangesSince(revision, limit); !s) return std::unexpected(s.error());
  std::lock_guard lock(mu_);
  return objects_.changesSince(revision, limit);
}

int64_t KubernetesStateStore::subscribe(ChangeListener listener) {
  return notifier_.subscribe(std::move(listener));
}

void KubernetesStateStore::unsubscribe(int64_t id) { notifier_.unsubscribe(id); }

Result<int64_t> KubernetesStateStore::appendEvent(const Event& event) {
  if (auto s = validateEvent(event); !s) return std::unexpected(s.error());
  if (auto s = audit_->append(std::span(&event, 1)); !s) return std::unexpected(s.error());
  return writeEvent(event);
}

int64_t KubernetesStateStore::writeEvent(const Event& event) {
  const std::string regardingUid = uidOf(event.object);
  EventWrite write;
  write.namespace_ = eventNamespace(event);
  write.about = event.object.toString() + " " + event.reason;
  std::lock_guard lock(mu_);
  // A repeat of the newest event about the object is folded into its Event (series.count), as
  // Kubernetes counts events; anything else is a new Event.
  std::string newestName;
  const std::optional<Event> newest = events_.newestAbout(event.object, &newestName);
  Event stored = eventToStore(newest ? &*newest : nullptr, event);
  const bool fold = stored.replaces != 0;
  if (fold) {
    write.name = newestName.substr(newestName.find('/') + 1);
  } else {
    // Named by the time in microseconds, as client-go names by UnixNano, counted on within a
    // millisecond: unique in this store, and in order.
    const auto micros = static_cast<uint64_t>(clock_.now().time_since_epoch().count()) * 1000;
    lastEventName_ = std::max(lastEventName_ + 1, micros);
    write.name = eventName(event, lastEventName_);
  }
  write.count = stored.count;
  const std::string key = write.namespace_ + "/" + write.name;
  Event listed = stored;
  listed.auditEntry.clear();  // events do not echo their records (state_store.h)
  listed.auditLeafHash.clear();
  const int64_t id = events_.record(key, std::move(listed));
  // The Event carries its id, so a list from the API server (listEvents) numbers it as the
  // window did.
  stored.id = id;
  if (fold) write.patch = eventSeriesPatch(stored, events_.base());
  write.body = eventBody(stored, write.name, options_.reportingInstance, options_.instanceId,
                         regardingUid, events_.base());
  if (!event.auditLeafHash.empty()) linkAuditRecord(event.auditIndex, id);
  // Queued under mu_, so the writes reach the server in the order their states were recorded.
  if (!sender_->send(std::move(write))) {
    events_.forget(key);  // dropped: not listed as if the server would have it
    // Said at the 1st, 10th, 100th, … drop: the log says that it happens, not each time.
    if (++droppedEvents_ == nextDropReport_ && options_.log) {
      nextDropReport_ *= 10;
      options_.log("store.kubernetes: Events dropped: " + std::to_string(droppedEvents_) +
                   " so far (the latest about " + event.object.toString() + " " + event.reason +
                   "): " + std::to_string(options_.eventSender.maxQueued) +
                   " were waiting to be written (the API server is slow or unreachable)");
    }
  }
  return id;
}

void KubernetesStateStore::onEventWritten(const EventWrite& write,
                                          const Result<std::string>& reply) {
  const std::string key = write.namespace_ + "/" + write.name;
  if (reply) {
    auto object = decodeApiObject(*reply, "Event " + key);
    if (object) {
      std::lock_guard lock(mu_);
      events_.confirm(key, write.count, object->resourceVersion);
      return;
    }
  }
  {
    std::lock_guard lock(mu_);
    events_.forget(key);  // not listed as if the server had it
    // Given up at shutdown: counted, and said once by the destructor.
    if (!reply && reply.error().code == ErrorCode::kCancelled) {
      ++cancelledEvents_;
      return;
    }
  }
  if (options_.log) {
    options_.log(
        "store.kubernetes: the Event about " + write.about + " (" + key +
        ") was not written: " + (reply ? "the reply is not an Event" : reply.error().message));
  }
}

bool KubernetesStateStore::flushEvents(Duration timeout) {
  return sender_ == nullptr || sender_->flush(timeout);
}

std::string KubernetesStateStore::uidOf(const ObjectKey& key) {
  std::string json;
  {
    std::lock_guard lock(mu_);
    const MirrorEntry* e = objects_.find(key);
    if (e == nullptr) return "";
    json = e->json();
  }
  auto object = nlohmann::json::parse(json, nullptr, false);
  const auto uid = object.is_object() ? object.value("/metadata/uid"_json_pointer, nlohmann::json())
                                      : nlohmann::json();
  return uid.is_string() ? uid.get<std::string>() : "";
}

Result<std::vector<Event>> KubernetesStateStore::listEvents(const EventQuery& query) {
  if (auto s = validateEventQuery(query); !s) return std::unexpected(s.error());
  std::vector<std::pair<std::string, Event>> held;
  int64_t base = 0;
  {
    std::lock_guard lock(mu_);
    if (auto window = events_.list(query)) return std::move(*window);
    held = events_.held(query.object);
    base = events_.base();
  }
  // The window let go of some it could match: the API server has them all (for its
  // --event-ttl). About one object, its Events by field selector in its namespace.
  kube::ListOptions list;
  list.labelSelector = eventSelector_;
  std::string ns = options_.namespace_;
  if (query.object) {
    Event about;
    about.object = *query.object;
    ns = eventNamespace(about);
    // Kinds and object names hold none of the characters a field selector escapes.
    list.fieldSelector =
        "regarding.kind=" + query.object->kind + ",regarding.name=" + query.object->name;
  }
  auto page = client_.list(kube::events(), ns, list);
  if (!page) return std::unexpected(page.error());
  return mergeEvents(query, page->items, std::move(held), base);
}

Result<Lease> KubernetesStateStore::updateLease(
    const std::string& name,
    const std::function<Result<Lease>(const std::optional<Lease>&)>& decide) {
  // The arguments are checked before any request (an empty name would address the collection).
  if (auto pre = decide(std::nullopt); !pre && pre.error().code == ErrorCode::kInvalidArgument) {
    return pre;
  }
  const kube::ResourceType& type = kube::leases();
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto got = client_.get(type, leaseNamespace_, name);
    if (!got && got.error().code != ErrorCode::kNotFound) return std::unexpected(got.error());
    std::optional<Lease> current;
    std::string resourceVersion;
    if (got) {
      auto lease = leaseFromApi(*got);
      if (!lease) return std::unexpected(lease.error());
      current = *lease;
      resourceVersion = kube::objectResourceVersion(*got);
    }
    auto decided = decide(current);
    if (!decided || (current && *decided == *current)) return decided;
    const std::string body = leaseBody(*decided, leaseNamespace_, resourceVersion);
    auto written = got ? client_.update(type, leaseNamespace_, name, body)
                       : client_.create(type, leaseNamespace_, body);
    if (written) return decided;
    const ErrorCode code = written.error().code;
    if (code != ErrorCode::kConflict && code != ErrorCode::kAlreadyExists) {
      return std::unexpected(written.error());
    }
    // Another client wrote the Lease between our read and write: read it and decide again.
  }
  return makeError(ErrorCode::kConflict,
                   "lease " + name + ": other clients kept changing it; try again");
}

Result<Lease> KubernetesStateStore::acquireLease(const std::string& name, const std::string& holder,
                                                 Duration ttl, Time now) {
  return updateLease(name, [&](const std::optional<Lease>& current) {
    return decideAcquire(current, name, holder, ttl, now);
  });
}

Result<Lease> KubernetesStateStore::renewLease(const std::string& name, const std::string& holder,
                                               Duration ttl, Time now) {
  return updateLease(name, [&](const std::optional<Lease>& current) {
    return decideRenew(current, name, holder, ttl, now);
  });
}

Status KubernetesStateStore::releaseLease(const std::string& name, const std::string& holder,
                                          Time now) {
  auto r = updateLease(name, [&](const std::optional<Lease>& current) {
    return decideRelease(current, name, holder, now);
  });
  if (!r) return std::unexpected(r.error());
  return {};
}

Result<std::unique_ptr<StateStore>> makeKubernetesStore(const ExtensionContext& context) {
  if (context.kubeClient == nullptr || context.clock == nullptr) {
    return makeError(ErrorCode::kFailedPrecondition,
                     "store.kubernetes needs a cluster: pass --kubeconfig, or run in a cluster "
                     "(its service account)");
  }
  KubernetesStoreOptions options;
  options.namespace_ = context.kubeNamespace;
  options.instanceId = context.kubeInstanceId;
  options.log = context.log;
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0 && host[0] != '\0') {
    options.reportingInstance = host;
  }
  auto store = KubernetesStateStore::open(*context.kubeClient, *context.clock, options);
  if (!store) return std::unexpected(store.error());
  return std::unique_ptr<StateStore>(std::move(*store));
}

}  // namespace ramp::store::kubernetes
