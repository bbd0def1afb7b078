#include "platform/kubernetes/kubernetes_driver.h"

#include <algorithm>

#include "common/repack_buffer.h"
#include "kube/resources.h"
#include "ramp/spec/diagnostic.h"

namespace ramp::platform::kubernetes {
namespace {

std::string metaStr(const json& object, const char* key) {
  auto m = object.find("metadata");
  if (m == object.end() || !m->is_object()) return "";
  auto v = m->find(key);
  return v != m->end() && v->is_string() ? v->get<std::string>() : std::string();
}

std::string keyOf(const json& object) {
  return metaStr(object, "namespace") + "/" + metaStr(object, "name");
}

// metadata.name of the object's controller (its ownerReference with controller: true); "" when
// it has none.
std::string controllerName(const json& object) {
  auto m = object.find("metadata");
  if (m == object.end() || !m->is_object()) return "";
  auto owners = m->find("ownerReferences");
  if (owners == m->end() || !owners->is_array()) return "";
  for (const json& o : *owners) {
    if (o.is_object() && o.value("controller", false) && o.contains("name") &&
        o["name"].is_string()) {
      return o["name"].get<std::string>();
    }
  }
  return "";
}

// The keys of `objects` named after `ownerKey` (namedAfter) and those `others` files under
// `indexKey`, in key order.
template <typename Objects>
std::set<std::string> keysOf(const Objects& objects, const std::string& ownerKey,
                             const std::map<std::string, std::set<std::string>>& others,
                             const std::string& indexKey) {
  std::set<std::string> out;
  const std::string prefix = ownerKey + "-";
  for (auto it = objects.lower_bound(prefix); it != objects.end() && it->first.starts_with(prefix);
       ++it) {
    if (namedAfter(it->first, ownerKey)) out.insert(it->first);
  }
  if (auto o = others.find(indexKey); o != others.end()) {
    for (const std::string& key : o->second) {
      if (objects.contains(key)) out.insert(key);
    }
  }
  return out;
}

Status withContext(Status status, const std::string& what) {
  if (status) return status;
  return makeError(status.error().code, what + ": " + status.error().message);
}

}  // namespace

KubernetesDriver::KubernetesDriver(kube::Client& client, Clock& clock,
                                   KubernetesDriverOptions options)
    : client_(client), clock_(clock), options_(std::move(options)) {}

Result<std::unique_ptr<KubernetesDriver>> KubernetesDriver::create(
    kube::Client& client, Clock& clock, KubernetesDriverOptions options) {
  std::unique_ptr<KubernetesDriver> d(new KubernetesDriver(client, clock, std::move(options)));
  kube::InformerOptions managed;
  managed.ns = d->options_.namespace_;
  managed.labelSelector = kHashLabel;  // Argo's filter: only rollout-managed objects
  managed.keepObjects = false;         // memory_ is the copy
  managed.keepKeys = false;            // and has the keys: a relist asks for them
  kube::InformerOptions all;
  all.ns = d->options_.namespace_;
  KubernetesDriver* self = d.get();
  kube::InformerOptions replicaSets = managed;
  replicaSets.heldKeys = [self] { return self->heldKeys(self->memory_.replicaSets); };
  d->replicaSets_ = std::make_unique<kube::Informer>(
      client, clock, kube::replicaSets(), replicaSets,
      [self](const kube::ObjectChange& change) { self->onReplicaSet(change); });
  kube::InformerOptions pods = managed;
  pods.heldKeys = [self] { return self->heldKeys(self->memory_.pods); };
  d->pods_ = std::make_unique<kube::Informer>(
      client, clock, kube::pods(), pods,
      [self](const kube::ObjectChange& change) { self->onPod(change); });
  d->services_ = std::make_unique<kube::Informer>(client, clock, kube::services(), all, nullptr);
  for (kube::Informer* informer : {d->replicaSets_.get(), d->pods_.get(), d->services_.get()}) {
    informer->start();
  }
  for (kube::Informer* informer : {d->replicaSets_.get(), d->pods_.get(), d->services_.get()}) {
    if (!informer->waitForSync(d->options_.syncTimeout)) {
      return makeError(ErrorCode::kUnavailable,
                       "platform.kubernetes: could not list ReplicaSets, Pods and Services from " +
                           client.config().server + " within " +
                           std::to_string(d->options_.syncTimeout.count() / 1000) + " s");
    }
  }
  return d;
}

KubernetesDriver::~KubernetesDriver() {
  for (auto& [kind, informer] : workloadInformers_) informer->requestStop();
  for (auto* informer : {services_.get(), pods_.get(), replicaSets_.get()}) {
    if (informer) informer->requestStop();
  }
  for (auto& [kind, informer] : workloadInformers_) informer->stop();
  for (auto* informer : {services_.get(), pods_.get(), replicaSets_.get()}) {
    if (informer) informer->stop();
  }
}

void KubernetesDriver::putReplicaSet(const std::string& key, json rs) {
  // A write's reply carries server-side apply's bookkeeping, which nothing here reads.
  if (auto m = rs.find("metadata"); m != rs.end() && m->is_object()) m->erase("managedFields");
  eraseReplicaSet(key);
  std::vector<std::string> rollouts = rolloutKeysOf(rs);
  // Found by name: nothing to file, and no vector's buffer kept with it (clear() would keep it).
  if (rollouts.size() == 1 && namedAfter(key, rollouts[0])) rollouts = std::vector<std::string>();
  for (const std::string& r : rollouts) memory_.otherReplicaSets[r].insert(key);
  memory_.replicaSets[key] =
      StoredReplicaSet{metaStr(rs, "resourceVersion"), CompactText(rs.dump()), std::move(rollouts)};
}

void KubernetesDriver::repackMemory() {
  std::lock_guard lock(mu_);
  auto& replicaSets = memory_.replicaSets;
  auto& pods = memory_.pods;
  size_t bytes = 0;
  for (const auto& [key, rs] : replicaSets) {
    bytes += RepackBuffer::sizeOf(key) + RepackBuffer::sizeOf(rs.resourceVersion) +
             RepackBuffer::sizeOf(rs.text.stored()) + 2 * sizeof(uint64_t);
    for (const std::string& r : rs.rollouts) bytes += RepackBuffer::sizeOf(r);
  }
  for (const auto& [key, text] : pods) {
    bytes += RepackBuffer::sizeOf(key) + RepackBuffer::sizeOf(text.stored()) + sizeof(uint64_t);
  }
  RepackBuffer buffer(bytes);
  for (const auto& [key, rs] : replicaSets) {
    buffer.put(key);
    buffer.put(rs.resourceVersion);
    buffer.putNumber(rs.text.size());
    buffer.put(rs.text.stored());
    buffer.putNumber(rs.rollouts.size());
    for (const std::string& r : rs.rollouts) buffer.put(r);
  }
  for (const auto& [key, text] : pods) {
    buffer.put(key);
    buffer.putNumber(text.size());
    buffer.put(text.stored());
  }
  const size_t replicaSetCount = replicaSets.size();
  const size_t podCount = pods.size();
  // Everything freed before anything is made again (see RepackBuffer).
  replicaSets.clear();
  pods.clear();
  for (size_t i = 0; i < replicaSetCount; ++i) {
    std::string key(buffer.take());
    StoredReplicaSet rs;
    rs.resourceVersion = buffer.take();
    const uint64_t size = buffer.takeNumber();
    rs.text = CompactText::fromStored(buffer.take(), size);
    const uint64_t rollouts = buffer.takeNumber();
    if (rollouts > 0) rs.rollouts.reserve(rollouts);
    for (uint64_t r = 0; r < rollouts; ++r) rs.rollouts.emplace_back(buffer.take());
    replicaSets.emplace_hint(replicaSets.end(), std::move(key), std::move(rs));
  }
  for (size_t i = 0; i < podCount; ++i) {
    std::string key(buffer.take());
    const uint64_t size = buffer.takeNumber();
    pods.emplace_hint(pods.end(), std::move(key), CompactText::fromStored(buffer.take(), size));
  }
}

void KubernetesDriver::eraseReplicaSet(const std::string& key) {
  auto it = memory_.replicaSets.find(key);
  if (it == memory_.replicaSets.end()) return;
  // The keys it was filed under, kept with it (reading them from its text would inflate and
  // parse it on every update).
  for (const std::string& r : it->second.rollouts) {
    auto set = memory_.otherReplicaSets.find(r);
    if (set == memory_.otherReplicaSets.end()) continue;
    set->second.erase(key);
    if (set->second.empty()) memory_.otherReplicaSets.erase(set);
  }
  memory_.replicaSets.erase(it);
}

void KubernetesDriver::erasePod(const std::string& key) {
  auto it = memory_.pods.find(key);
  if (it == memory_.pods.end()) return;
  if (!memory_.otherPods.empty()) {  // rare: read its owner from its facts
    json facts = json::parse(it->second.text(), nullptr, false);
    auto set = memory_.otherPods.find(controllerUid(facts));
    if (set != memory_.otherPods.end()) {
      set->second.erase(key);
      if (set->second.empty()) memory_.otherPods.erase(set);
    }
  }
  memory_.pods.erase(it);
}

void KubernetesDriver::onReplicaSet(const kube::ObjectChange& change) {
  if (change.type == kube::ObjectChange::Type::kDeleted) {  // by key: a relist's has no object
    std::lock_guard lock(mu_);
    auto it = memory_.replicaSets.find(change.key);
    // A relist's delete is as of the list: a ReplicaSet this driver wrote since stays.
    if (change.json.empty() && it != memory_.replicaSets.end() &&
        compareResourceVersions(it->second.resourceVersion, change.resourceVersion) > 0) {
      return;
    }
    eraseReplicaSet(change.key);
    memory_.deletedVersions.erase(change.key);
    return;
  }
  json object = json::parse(change.json, nullptr, false);
  if (object.is_discarded()) return;
  const std::string rv = metaStr(object, "resourceVersion");
  std::lock_guard lock(mu_);
  // A write of this driver newer than the event stays (the watch has not caught up yet).
  if (auto d = memory_.deletedVersions.find(change.key); d != memory_.deletedVersions.end()) {
    if (compareResourceVersions(rv, d->second) <= 0) return;
    memory_.deletedVersions.erase(d);
  }
  auto it = memory_.replicaSets.find(change.key);
  if (it != memory_.replicaSets.end() &&
      compareResourceVersions(rv, it->second.resourceVersion) < 0) {
    return;
  }
  putReplicaSet(change.key, std::move(object));
}

void KubernetesDriver::onPod(const kube::ObjectChange& change) {
  json object;
  if (change.type != kube::ObjectChange::Type::kDeleted) {
    object = json::parse(change.json, nullptr, false);
    if (object.is_discarded()) return;
  }
  std::lock_guard lock(mu_);
  erasePod(change.key);
  if (change.type == kube::ObjectChange::Type::kDeleted) return;
  const json facts = podFacts(object);
  const std::string owner = controllerUid(facts);
  if (owner.empty()) return;
  if (!namedAfter(change.key, metaStr(facts, "namespace") + "/" + controllerName(object))) {
    memory_.otherPods[owner].insert(change.key);
  }
  memory_.pods.emplace(change.key, CompactText(facts.dump()));
}

void KubernetesDriver::remember(const std::string& rsJson) {
  json object = json::parse(rsJson, nullptr, false);
  if (object.is_discarded()) return;
  const std::string key = keyOf(object);
  std::lock_guard lock(mu_);
  auto it = memory_.replicaSets.find(key);
  if (it != memory_.replicaSets.end() &&
      compareResourceVersions(metaStr(object, "resourceVersion"), it->second.resourceVersion) < 0) {
    return;
  }
  memory_.deletedVersions.erase(key);
  putReplicaSet(key, std::move(object));
}

Result<RolloutRef> KubernetesDriver::rolloutOf(const std::string& rolloutKey) const {
  auto ref = parseRolloutKey(rolloutKey);
  if (!ref) return ref;
  if (!options_.namespace_.empty() && ref->namespace_ != options_.namespace_) {
    return makeError(ErrorCode::kFailedPrecondition, "platform.kubernetes works in namespace '" +
                                                         options_.namespace_ +
                                                         "' (--namespace); rollout " + rolloutKey +
                                                         " is in '" + ref->namespace_ + "'");
  }
  return ref;
}

std::vector<json> KubernetesDriver::replicaSetsOf(const RolloutRef& rollout) const {
  std::vector<json> out;
  const std::string rolloutKey = rollout.namespace_ + "/" + rollout.name;
  std::lock_guard lock(mu_);
  for (const std::string& key :
       keysOf(memory_.replicaSets, rolloutKey, memory_.otherReplicaSets, rolloutKey)) {
    auto it = memory_.replicaSets.find(key);
    if (it == memory_.replicaSets.end()) continue;
    json rs = json::parse(it->second.text.text(), nullptr, false);
    if (belongsTo(rs, rollout) && !revisionLabel(rs).empty()) out.push_back(std::move(rs));
  }
  return out;
}

std::vector<json> KubernetesDriver::podsOf(const json& rs) const {
  std::vector<json> out;
  const std::string uid = metaStr(rs, "uid");
  if (uid.empty()) return out;
  std::lock_guard lock(mu_);
  for (const std::string& key : keysOf(memory_.pods, keyOf(rs), memory_.otherPods, uid)) {
    json pod = json::parse(memory_.pods.at(key).text(), nullptr, false);
    if (controllerUid(pod) == uid) out.push_back(std::move(pod));
  }
  return out;
}

Result<json> KubernetesDriver::replicaSetFor(const RolloutRef& rollout,
                                             const std::string& hash) const {
  for (json& rs : replicaSetsOf(rollout)) {
    if (revisionHash(rs) == hash) return std::move(rs);
  }
  return makeError(ErrorCode::kNotFound, "platform.kubernetes: rollout " + rollout.namespace_ +
                                             "/" + rollout.name +
                                             " has no ReplicaSet for revision " + hash);
}

Status KubernetesDriver::patchReplicaSet(const json& rs, const json& patch) {
  auto patched = client_.patch(kube::replicaSets(), metaStr(rs, "namespace"), metaStr(rs, "name"),
                               kube::PatchType::kMerge, patch.dump());
  if (!patched) return std::unexpected(patched.error());
  remember(*patched);
  return {};
}

Result<std::string> KubernetesDriver::rolloutUid(const RolloutRef& rollout) {
  auto got = client_.get(kube::rollouts(), rollout.namespace_, rollout.name);
  if (!got) {
    // No Rollout object (ramp's store is not the cluster, or the CRD is not installed), or no
    // right to read one: the ReplicaSet is found by its ramp.local/rollout label instead.
    if (got.error().code == ErrorCode::kNotFound ||
        got.error().code == ErrorCode::kPermissionDenied) {
      return std::string();
    }
    return std::unexpected(got.error());
  }
  json object = json::parse(*got, nullptr, false);
  return object.is_discarded() ? std::string() : metaStr(object, "uid");
}

Result<ObservedWorkload> KubernetesDriver::observe(const std::string& rolloutKey) {
  auto rollout = rolloutOf(rolloutKey);
  if (!rollout) return std::unexpected(rollout.error());
  ObservedWorkload out;
  const Time now = clock_.now();
  for (const json& rs : replicaSetsOf(*rollout)) {
    out.revisions.push_back(observeRevision(rs, podsOf(rs), now));
  }
  return out;
}

Status KubernetesDriver::ensureRevision(const std::string& rolloutKey, const RevisionSpec& wanted) {
  const std::string& hash = wanted.hash;
  const int64_t revision = wanted.revision;
  auto rollout = rolloutOf(rolloutKey);
  if (!rollout) return std::unexpected(rollout.error());
  const std::vector<json> existing = replicaSetsOf(*rollout);
  const std::string number = std::to_string(revision);
  auto revisionOf = [](const json& rs) { return annotationOf(rs, kRevisionAnnotation); };
  for (const json& rs : existing) {
    if (revisionHash(rs) != hash) continue;
    // A revision brought back: renumbered, and its anti-affinity term (if it has one) moved to
    // the revision stable now (Argo's syncReplicaSetRevision).
    json patch = revisionOf(rs) == number ? json::object() : revisionPatch(rs, revision);
    if (auto affinity = antiAffinityPatch(rs, wanted.antiAffinity)) patch.update(*affinity);
    if (patch.empty()) return {};
    return withContext(patchReplicaSet(rs, patch),
                       "platform.kubernetes: renumbering ReplicaSet " + keyOf(rs));
  }
  const json desired = templateJson(wanted.template_);
  for (const json& rs : existing) {
    if (sameTemplate(templateWithoutInjected(rs), desired)) {
      return withContext(patchReplicaSet(rs, adoptPatch(hash, revision)),
                         "platform.kubernetes: adopting ReplicaSet " + keyOf(rs));
    }
  }
  // Its owner: the Rollout object its other ReplicaSets name, else the one a GET finds.
  rollout->uid = ownerRolloutUid(existing, *rollout);
  if (rollout->uid.empty()) {
    auto uid = rolloutUid(*rollout);
    if (!uid) return std::unexpected(uid.error());
    rollout->uid = *uid;
  }
  const json manifest = replicaSetManifest(*rollout, wanted);
  auto created = client_.create(kube::replicaSets(), rollout->namespace_, manifest.dump());
  if (created) {
    remember(*created);
    return {};
  }
  if (created.error().code != ErrorCode::kAlreadyExists) {
    if (created.error().code == ErrorCode::kInvalidArgument) {
      return makeError(
          ErrorCode::kInvalidArgument,
          "spec.template: the API server refused the ReplicaSet: " + created.error().message);
    }
    return std::unexpected(created.error());
  }
  // The name is taken by a ReplicaSet this driver has not seen yet: the rollout's own (adopt
  // it) or another's (refuse).
  const std::string name = replicaSetName(rollout->name, hash);
  auto got = client_.get(kube::replicaSets(), rollout->namespace_, name);
  if (!got) return std::unexpected(got.error());
  json live = json::parse(*got, nullptr, false);
  if (live.is_discarded() || !belongsTo(live, *rollout) || revisionLabel(live) != hash) {
    return makeError(ErrorCode::kAlreadyExists,
                     "platform.kubernetes: ReplicaSet " + rollout->namespace_ + "/" + name +
                         " exists and is not revision " + hash + " of rollout " + rolloutKey);
  }
  remember(*got);
  if (revisionOf(live) == number) return {};
  return patchReplicaSet(live, revisionPatch(live, revision));
}

Status KubernetesDriver::scale(const std::string& rolloutKey, const std::string& hash,
                               int32_t replicas, int32_t rolloutReplicas) {
  auto rollout = rolloutOf(rolloutKey);
  if (!rollout) return std::unexpected(rollout.error());
  auto rs = replicaSetFor(*rollout, hash);
  if (!rs) return std::unexpected(rs.error());
  const auto patch = replicaSetScalePatch(*rs, replicas, rolloutReplicas);
  if (!patch) return {};
  return withContext(patchReplicaSet(*rs, *patch),
                     "platform.kubernetes: scaling ReplicaSet " + keyOf(*rs));
}

Status KubernetesDriver::setRoles(const std::string& rolloutKey,
                                  const std::map<std::string, std::string>& roles,
                                  const RoleMetadata& metadata) {
  // As Argo (hasEphemeralMetadataConfigured): a rollout that configures none is not looked at.
  if (metadata.empty()) return {};
  auto rollout = rolloutOf(rolloutKey);
  if (!rollout) return std::unexpected(rollout.error());
  const Time now = clock_.now();
  for (const json& rs : replicaSetsOf(*rollout)) {
    const std::string key = keyOf(rs);
    // A revision with no role, or a role the rollout gives no metadata, carries none.
    std::optional<spec::PodTemplateMetadata> desired;
    if (auto role = roles.find(revisionHash(rs)); role != roles.end()) {
      if (auto m = metadata.find(role->second); m != metadata.end()) desired = m->second;
    }
    // The ReplicaSet first, so that a Pod it creates from now on has the metadata; then its
    // Pods (Argo's syncEphemeralMetadata), now and on later calls for a while, as Pods created
    // just before the change reach the informer.
    if (const auto patch = ephemeralMetadataPatch(rs, desired)) {
      if (auto s = withContext(patchReplicaSet(rs, *patch),
                               "platform.kubernetes: ephemeral metadata of ReplicaSet " + key);
          !s) {
        return s;
      }
      std::lock_guard lock(mu_);
      relabeling_[key] = Relabeling{now, injectedMetadata(rs), desired, {}};
    }
    Relabeling change;
    {
      std::lock_guard lock(mu_);
      auto it = relabeling_.find(key);
      if (it == relabeling_.end()) continue;
      if (now - it->second.at > kRelabelingFor) {
        relabeling_.erase(it);
        continue;
      }
      change = it->second;
    }
    const auto podPatch = podMetadataPatch(change.injected, change.desired);
    if (!podPatch) continue;
    const std::string body = podPatch->dump();
    for (const std::string& pod : podsToRelabel(podsOf(rs), change.at, change.patched)) {
      auto patched =
          client_.patch(kube::pods(), metaStr(rs, "namespace"), pod, kube::PatchType::kMerge, body);
      if (!patched && patched.error().code != ErrorCode::kNotFound) {
        return makeError(patched.error().code, "platform.kubernetes: ephemeral metadata of Pod " +
                                                   metaStr(rs, "namespace") + "/" + pod + ": " +
                                                   patched.error().message);
      }
      std::lock_guard lock(mu_);
      if (auto it = relabeling_.find(key); it != relabeling_.end()) it->second.patched.insert(pod);
    }
  }
  return {};
}

Status KubernetesDriver::setScaleDownDeadline(const std::string& rolloutKey,
                                              const std::string& hash,
                                              std::optional<Time> deadline) {
  auto rollout = rolloutOf(rolloutKey);
  if (!rollout) return std::unexpected(rollout.error());
  auto rs = replicaSetFor(*rollout, hash);
  if (!rs) return std::unexpected(rs.error());
  if (observeRevision(*rs, {}, clock_.now()).scaleDownDeadline == deadline) return {};
  return withContext(patchReplicaSet(*rs, scaleDownDeadlinePatch(deadline)),
                     "platform.kubernetes: annotating ReplicaSet " + keyOf(*rs));
}

Status KubernetesDriver::retire(const std::string& rolloutKey, const std::string& hash) {
  auto rollout = rolloutOf(rolloutKey);
  if (!rollout) return std::unexpected(rollout.error());
  auto rs = replicaSetFor(*rollout, hash);
  if (!rs)
    return rs.error().code == ErrorCode::kNotFound ? Status{} : Status(std::unexpected(rs.error()));
  const ObservedRevision r = observeRevision(*rs, podsOf(*rs), clock_.now());
  if (r.desiredReplicas > 0 || r.currentReplicas > 0) {
    return makeError(ErrorCode::kFailedPrecondition,
                     "platform.kubernetes: ReplicaSet " + keyOf(*rs) + " still has " +
                         std::to_string(std::max(r.desiredReplicas, r.currentReplicas)) +
                         " replicas");
  }
  auto removed =
      client_.remove(kube::replicaSets(), metaStr(*rs, "namespace"), metaStr(*rs, "name"));
  if (!removed && removed.error().code != ErrorCode::kNotFound) return removed;
  std::lock_guard lock(mu_);
  eraseReplicaSet(keyOf(*rs));
  memory_.deletedVersions[keyOf(*rs)] = metaStr(*rs, "resourceVersion");
  return {};
}

Status KubernetesDriver::restartReplica(const std::string& rolloutKey, const std::string& hash,
                                        Time startedBefore) {
  auto rollout = rolloutOf(rolloutKey);
  if (!rollout) return std::unexpected(rollout.error());
  auto rs = replicaSetFor(*rollout, hash);
  if (!rs) return std::unexpected(rs.error());
  auto pod = podToRestart(podsOf(*rs), startedBefore);
  if (!pod) return {};
  auto removed = client_.remove(kube::pods(), rollout->namespace_, *pod);
  if (!removed && removed.error().code != ErrorCode::kNotFound) return removed;
  return {};
}

Status KubernetesDriver::selectServices(const std::string& rolloutKey,
                                        const std::vector<ServiceSelection>& selections) {
  if (selections.empty()) return {};
  auto rollout = rolloutOf(rolloutKey);
  if (!rollout) return std::unexpected(rollout.error());
  for (const ServiceSelection& s : selections) {
    auto rs = replicaSetFor(*rollout, s.podTemplateHash);
    if (!rs) return std::unexpected(rs.error());
    const std::string key = rollout->namespace_ + "/" + s.service;
    auto text = services_->get(key);
    if (!text) {
      std::string message = "platform.kubernetes: Service " + key;
      message += " not found (rollout " + rolloutKey + ")";
      return makeError(ErrorCode::kNotFound, message);
    }
    json service = json::parse(*text, nullptr, false);
    if (service.is_discarded()) {
      return makeError(ErrorCode::kUnavailable, "platform.kubernetes: Service " + key +
                                                    " is not JSON in the informer's cache");
    }
    const int32_t available = observeRevision(*rs, podsOf(*rs), clock_.now()).availableReplicas;
    ServiceSwitch plan =
        planServiceSwitch(service, rollout->name, *rs, available, s.requireAvailable);
    if (!plan.patch) continue;
    auto patched = client_.patch(kube::services(), rollout->namespace_, s.service,
                                 kube::PatchType::kStrategicMerge, plan.patch->dump());
    if (!patched) {
      return makeError(patched.error().code, "platform.kubernetes: switching Service " + key +
                                                 " to " + revisionLabel(*rs) + ": " +
                                                 patched.error().message);
    }
  }
  return {};
}

Result<std::vector<ObservedReplica>> KubernetesDriver::observeReplicas(
    const std::string& rolloutKey) {
  auto rollout = rolloutOf(rolloutKey);
  if (!rollout) return std::unexpected(rollout.error());
  std::vector<ObservedReplica> out;
  for (const json& rs : replicaSetsOf(*rollout)) {
    auto replicas = kubernetes::observeReplicas(rs, podsOf(rs));
    out.insert(out.end(), replicas.begin(), replicas.end());
  }
  std::stable_sort(out.begin(), out.end(), [](const ObservedReplica& a, const ObservedReplica& b) {
    return a.podTemplateHash < b.podTemplateHash;
  });
  return out;
}

Result<kube::Informer*> KubernetesDriver::workloadInformer(const spec::WorkloadRef& ref) {
  const kube::ResourceType* type = ref.kind == "Deployment"    ? &kube::deployments()
                                   : ref.kind == "ReplicaSet"  ? &kube::replicaSets()
                                   : ref.kind == "PodTemplate" ? &kube::podTemplates()
                                                               : nullptr;
  if (type == nullptr) {
    return makeError(ErrorCode::kInvalidArgument,
                     "spec.workloadRef.kind: " + ref.kind +
                         " cannot hold a Rollout's pod template (Deployment, ReplicaSet or "
                         "PodTemplate)");
  }
  if (ref.apiVersion != kube::apiVersion(*type)) {
    return makeError(ErrorCode::kInvalidArgument, "spec.workloadRef.apiVersion: " + ref.kind +
                                                      " is served as " + kube::apiVersion(*type) +
                                                      ", not \"" + ref.apiVersion + "\"");
  }
  std::lock_guard lock(workloadMu_);
  auto& informer = workloadInformers_[ref.kind];
  if (!informer) {
    kube::InformerOptions all;
    all.ns = options_.namespace_;
    informer = std::make_unique<kube::Informer>(
        client_, clock_, *type, all, [this, kind = ref.kind](const kube::ObjectChange& change) {
          onWorkloadRefObject(kind, change);
        });
    informer->start();
  }
  if (!informer->waitForSync(options_.syncTimeout)) {
    return makeError(ErrorCode::kUnavailable,
                     "platform.kubernetes: could not list " + type->plural + " from " +
                         client_.config().server + " within " +
                         std::to_string(options_.syncTimeout.count() / 1000) + " s");
  }
  return informer.get();
}

bool KubernetesDriver::watchWorkloadRefs(
    std::function<void(const std::string& rolloutKey)> listener) {
  std::lock_guard lock(referencesMu_);
  workloadRefListener_ = std::move(listener);
  return true;
}

void KubernetesDriver::onWorkloadRefObject(const std::string& kind,
                                           const kube::ObjectChange& change) {
  // Not workloadMu_: workloadInformer() holds it while this informer's first list runs. The
  // listener is called under referencesMu_, so that once watchWorkloadRefs(nullptr) returns,
  // no call is running.
  std::lock_guard lock(referencesMu_);
  auto it = referencedBy_.find(kind + "/" + change.key);
  if (!workloadRefListener_ || it == referencedBy_.end()) return;
  for (const std::string& r : it->second) workloadRefListener_(r);
}

Result<ReferencedWorkload> KubernetesDriver::resolveWorkloadRef(const std::string& rolloutKey,
                                                                const spec::WorkloadRef& ref) {
  auto rollout = rolloutOf(rolloutKey);
  if (!rollout) return std::unexpected(rollout.error());
  const std::string key = rollout->namespace_ + "/" + ref.name;
  {
    // Noted before the lookup, so that an object that does not exist yet is watched for too.
    std::lock_guard lock(referencesMu_);
    const std::string object = ref.kind + "/" + key;
    auto [old, added] = references_.try_emplace(rolloutKey, object);
    if (!added && old->second != object) {
      if (auto it = referencedBy_.find(old->second); it != referencedBy_.end()) {
        it->second.erase(rolloutKey);
        if (it->second.empty()) referencedBy_.erase(it);
      }
      old->second = object;
    }
    referencedBy_[object].insert(rolloutKey);
  }
  auto informer = workloadInformer(ref);
  if (!informer) return std::unexpected(informer.error());
  auto text = (*informer)->get(key);
  if (!text) {
    return makeError(ErrorCode::kNotFound,
                     "spec.workloadRef: " + ref.kind + " " + key + " not found");
  }
  json object = json::parse(*text, nullptr, false);
  if (object.is_discarded()) {
    return makeError(ErrorCode::kUnavailable,
                     "platform.kubernetes: " + ref.kind + " " + key + " is not JSON");
  }
  if (ref.kind == "Deployment") {
    bool seen = false;
    {
      std::lock_guard lock(workloadMu_);
      seen = rolloutsInCluster_.contains(rolloutKey);
    }
    if (!seen) {
      auto uid = rolloutUid(*rollout);
      if (!uid) return std::unexpected(uid.error());
      if (uid->empty()) {
        return makeError(ErrorCode::kFailedPrecondition,
                         "spec.workloadRef: the Deployment " + key +
                             " would adopt the ReplicaSets ramp creates from its template (its "
                             "selector matches their labels) unless a Rollout object owns them: "
                             "keep the Rollout in the cluster (--store store.kubernetes)");
      }
      std::lock_guard lock(workloadMu_);
      rolloutsInCluster_.insert(rolloutKey);
    }
  }
  return referencedWorkload(object, ref);
}

Status KubernetesDriver::scaleWorkloadRef(const std::string& rolloutKey,
                                          const spec::WorkloadRef& ref, int32_t replicas) {
  auto rollout = rolloutOf(rolloutKey);
  if (!rollout) return std::unexpected(rollout.error());
  if (ref.kind != "Deployment") {
    return makeError(ErrorCode::kInvalidArgument,
                     "spec.workloadRef.scaleDown scales a Deployment, not a " + ref.kind);
  }
  auto informer = workloadInformer(ref);
  if (!informer) return std::unexpected(informer.error());
  if (auto text = (*informer)->get(rollout->namespace_ + "/" + ref.name)) {
    json object = json::parse(*text, nullptr, false);
    if (!object.is_discarded() && specReplicas(object) == replicas) return {};
  }
  auto patched = client_.patch(kube::deployments(), rollout->namespace_, ref.name,
                               kube::PatchType::kMerge, scalePatch(replicas).dump());
  if (!patched) {
    return makeError(patched.error().code, "platform.kubernetes: scaling Deployment " +
                                               rollout->namespace_ + "/" + ref.name + " to " +
                                               std::to_string(replicas) + ": " +
                                               patched.error().message);
  }
  return {};
}

Result<LogChunk> KubernetesDriver::readLog(const std::string& rolloutKey,
                                           const std::string& replicaName, int64_t, int64_t) {
  auto rollout = rolloutOf(rolloutKey);
  if (!rollout) return std::unexpected(rollout.error());
  return makeError(ErrorCode::kUnsupported,
                   "platform.kubernetes does not read Pod logs yet: use kubectl logs -n " +
                       rollout->namespace_ + " " + replicaName);
}

Result<std::unique_ptr<WorkloadDriver>> makeKubernetesDriver(const ExtensionContext& context) {
  if (context.clock == nullptr) {
    return makeError(ErrorCode::kInvalidArgument, "platform.kubernetes needs a clock");
  }
  if (context.kubeClient == nullptr) {
    return makeError(ErrorCode::kFailedPrecondition,
                     "platform.kubernetes needs a Kubernetes API server: pass --kubeconfig PATH, "
                     "or run ramp serve in a cluster (service account)");
  }
  KubernetesDriverOptions options;
  options.namespace_ = context.kubeNamespace;
  auto d = KubernetesDriver::create(*context.kubeClient, *context.clock, std::move(options));
  if (!d) return std::unexpected(d.error());
  return std::unique_ptr<WorkloadDriver>(std::move(*d));
}

std::vector<spec::Diagnostic> rolloutProblems(const spec::Rollout& rollout) {
  std::vector<spec::Diagnostic> out;
  if (!rollout.spec.template_) return out;
  const auto& containers = rollout.spec.template_->spec.containers;
  for (size_t i = 0; i < containers.size(); ++i) {
    if (containers[i].image.empty()) {
      spec::Diagnostic d;
      d.path = "spec.template.spec.containers[" + std::to_string(i) + "].image";
      d.message = "required on platform.kubernetes";
      out.push_back(d);
    }
  }
  return out;
}

}  // namespace ramp::platform::kubernetes
