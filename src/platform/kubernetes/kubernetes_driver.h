#pragma once

// KubernetesDriver (platform.kubernetes): runs each revision of a rollout as a Kubernetes
// ReplicaSet in the rollout's namespace, as Argo Rollouts does (replica_sets.h has the objects
// and every decision), and points the rollout's Services at revisions by the selector
// rollouts-pod-template-hash. The cluster's own controllers do the rest: the ReplicaSet
// controller creates and deletes Pods, the scheduler binds them, the kubelet (kwok in the tests)
// runs them and reports readiness.
//
// Reads come from memory: three informers (kube/informer.h) watch ReplicaSets and Pods labelled
// rollouts-pod-template-hash (Argo's filter), and Services, of the namespace (or of every
// namespace), and observe() reads only memory. The driver keeps ReplicaSets as deflated text
// and of each Pod only the fields it reads (podFacts), and its informers keep no copy of their
// own, not even the keys (a relist asks the driver for them), so a Rollout's objects cost a
// fraction of their text once. Writes go to the API server
// (create, merge patch, strategic-merge patch of Services, delete) and are recorded in the same
// memory at once, with their resourceVersion, so the next observe() sees what this driver wrote
// even before the watch delivers it (Argo's read-your-own-writes guard); an event older than a
// write is ignored.
//
// No durable state of its own: the cluster is the state, so a restarted daemon finds its
// ReplicaSets again by label (ramp.local/rollout) or by their controller ownerReference to the
// Rollout object.
//
// Threading: every public method may be called from any thread; one mutex guards the memory
// and is never held during a request. Requests are bounded by the client's timeout.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/compact_text.h"
#include "kube/client.h"
#include "kube/informer.h"
#include "platform/kubernetes/replica_sets.h"
#include "ramp/clock.h"
#include "ramp/error.h"
#include "ramp/platform/workload_driver.h"
#include "ramp/registry.h"

namespace ramp::platform::kubernetes {

struct KubernetesDriverOptions {
  std::string namespace_;                  // "" = every namespace (ramp serve --namespace)
  Duration syncTimeout = Duration(30000);  // how long create() waits for the first lists
};

class KubernetesDriver final : public WorkloadDriver {
 public:
  // Starts the informers and waits until each has listed once. kUnavailable (naming the
  // server) when that takes longer than options.syncTimeout. `client` and `clock` must outlive
  // the driver.
  static Result<std::unique_ptr<KubernetesDriver>> create(kube::Client& client, Clock& clock,
                                                          KubernetesDriverOptions options);
  ~KubernetesDriver() override;  // stops the informers

  // Rollouts outside options.namespace_ are refused with kFailedPrecondition by every method.
  Result<ObservedWorkload> observe(const std::string& rolloutKey) override;
  // Finds the revision's ReplicaSet by hash (label, or the adoption annotation), else adopts
  // one of the rollout's ReplicaSets with the same template, else creates it (0 replicas,
  // owned by the Rollout object when the cluster has one). kAlreadyExists when the name is
  // taken by a ReplicaSet that is not the rollout's.
  Status ensureRevision(const std::string& rolloutKey, const RevisionSpec& wanted) override;
  Status scale(const std::string& rolloutKey, const std::string& hash, int32_t replicas,
               int32_t rolloutReplicas) override;
  Status setScaleDownDeadline(const std::string& rolloutKey, const std::string& hash,
                              std::optional<Time> deadline) override;
  // Moves the rollout's ephemeral metadata (canaryMetadata, stableMetadata, …) to the revisions
  // that play each role now: a merge patch of each ReplicaSet whose pod template lacks its
  // role's metadata or keeps another role's, then of each of its Pods (a Pod gone meanwhile is
  // skipped). No request for a rollout whose ReplicaSets are as they should be; nothing at all
  // for one that configures no ephemeral metadata (as Argo, which then leaves what it injected).
  Status setRoles(const std::string& rolloutKey, const std::map<std::string, std::string>& roles,
                  const RoleMetadata& metadata) override;
  // Deletes the ReplicaSet (its Pods go with it). kFailedPrecondition while it wants replicas
  // or still has Pods.
  Status retire(const std::string& rolloutKey, const std::string& hash) override;
  // Deletes the oldest Pod created before `startedBefore`; the ReplicaSet controller replaces it.
  Status restartReplica(const std::string& rolloutKey, const std::string& hash,
                        Time startedBefore) override;
  // Strategic-merge patches of each Service's selector (planServiceSwitch). kNotFound naming the
  // Service or the revision when either does not exist.
  Status selectServices(const std::string& rolloutKey,
                        const std::vector<ServiceSelection>& selections) override;
  Result<std::vector<ObservedReplica>> observeReplicas(const std::string& rolloutKey) override;
  // kUnsupported: Pod logs are not read yet (the message says to use kubectl logs).
  Result<LogChunk> readLog(const std::string& rolloutKey, const std::string& replicaName,
                           int64_t offset, int64_t maxBytes) override;
  // Reads the Deployment, ReplicaSet or PodTemplate from an informer of its kind, started on the
  // first workloadRef that names the kind (Argo's on-demand informers, rollout/templateref.go).
  // kFailedPrecondition for a Deployment while the cluster holds no Rollout object of that name:
  // ramp's ReplicaSets would then have no owner, and the Deployment, whose selector matches
  // their labels, would adopt them.
  Result<ReferencedWorkload> resolveWorkloadRef(const std::string& rolloutKey,
                                                const spec::WorkloadRef& ref) override;
  // The informer of each workloadRef kind calls the listener for the rollouts whose last
  // resolveWorkloadRef() named the object that changed.
  bool watchWorkloadRefs(std::function<void(const std::string& rolloutKey)> listener) override;
  // Merge patch of the Deployment's spec.replicas (nothing when it already has them).
  Status scaleWorkloadRef(const std::string& rolloutKey, const spec::WorkloadRef& ref,
                          int32_t replicas) override;
  bool servicesRouteTraffic() const override { return true; }
  // Its ReplicaSets and Pods (memory_.replicaSets, memory_.pods) made again in a row.
  void repackMemory() override;
  std::string type() const override { return "platform.kubernetes"; }

 private:
  KubernetesDriver(kube::Client& client, Clock& clock, KubernetesDriverOptions options);

  // A ReplicaSet as the driver keeps it: its JSON text, deflated (a parsed nlohmann::json is
  // ten times the text, the deflated text a fifth), parsed again when read.
  struct StoredReplicaSet {
    std::string resourceVersion;
    CompactText text;
    // Its entries in Memory::otherReplicaSets (rolloutKeysOf()); empty when it is named after
    // the one Rollout it may belong to.
    std::vector<std::string> rollouts;
  };
  // What the informers and this driver's writes say: the one copy of each object (the
  // informers keep none). A Rollout's ReplicaSets and a ReplicaSet's Pods are found by name
  // (namedAfter: ns/ROLLOUT-HASH, ns/REPLICASET-RANDOM, next to each other in key order) and
  // checked by content; only the few named otherwise are indexed (an index of every object
  // cost a third of what the objects themselves take).
  struct Memory {
    std::map<std::string, StoredReplicaSet> replicaSets;  // key "ns/name"
    // ReplicaSets not named after the Rollout they may belong to, by those Rollouts ("ns/name").
    std::map<std::string, std::set<std::string>> otherReplicaSets;
    std::map<std::string, std::string> deletedVersions;  // ReplicaSets this driver deleted
    // Pod key -> podFacts() of the Pod (its controller's uid among them), as deflated JSON text
    std::map<std::string, CompactText> pods;
    // Pods not named after their controller (adopted by a ReplicaSet), by its uid.
    std::map<std::string, std::set<std::string>> otherPods;
  };
  // A ReplicaSet whose ephemeral metadata setRoles() changed: when, from what to what, and the
  // Pods patched since. Kept kRelabelingFor, so that a Pod created just before the change and
  // not yet seen then is patched when it is (only rollouts with ephemeral metadata have any).
  struct Relabeling {
    Time at;
    std::optional<spec::PodTemplateMetadata> injected;
    std::optional<spec::PodTemplateMetadata> desired;
    std::set<std::string> patched;
  };
  static constexpr Duration kRelabelingFor = std::chrono::seconds(30);

  // Stores / removes a ReplicaSet or a Pod in memory_ with its index entries. Callers hold mu_.
  void putReplicaSet(const std::string& key, json rs);
  void eraseReplicaSet(const std::string& key);
  void erasePod(const std::string& key);
  // The keys of `objects` (a map of memory_), for an informer's relist; takes mu_.
  template <typename Objects>
  std::vector<std::string> heldKeys(const Objects& objects) const {
    std::lock_guard lock(mu_);
    std::vector<std::string> keys;
    keys.reserve(objects.size());
    for (const auto& entry : objects) keys.push_back(entry.first);
    return keys;
  }
  void onReplicaSet(const kube::ObjectChange& change);
  void onPod(const kube::ObjectChange& change);
  // Records a ReplicaSet this driver just wrote (the server's answer).
  void remember(const std::string& rsJson);

  Result<RolloutRef> rolloutOf(const std::string& rolloutKey) const;
  std::vector<json> replicaSetsOf(const RolloutRef& rollout) const;
  std::vector<json> podsOf(const json& rs) const;
  // The rollout's ReplicaSet for `hash`; kNotFound naming the revision.
  Result<json> replicaSetFor(const RolloutRef& rollout, const std::string& hash) const;
  // Merge patch of a ReplicaSet, remembered.
  Status patchReplicaSet(const json& rs, const json& patch);
  // The Rollout object's uid in the cluster ("" when there is none).
  Result<std::string> rolloutUid(const RolloutRef& rollout);
  // The informer of the kind `ref` names, started (and listed) on first use. kInvalidArgument
  // for a kind or apiVersion workloadRef cannot name; kUnavailable when the first list fails.
  Result<kube::Informer*> workloadInformer(const spec::WorkloadRef& ref);

  kube::Client& client_;
  Clock& clock_;
  const KubernetesDriverOptions options_;
  mutable std::mutex mu_;
  Memory memory_;
  std::map<std::string, Relabeling> relabeling_;  // by ReplicaSet key; guarded by mu_
  std::unique_ptr<kube::Informer> replicaSets_;
  std::unique_ptr<kube::Informer> pods_;
  std::unique_ptr<kube::Informer> services_;
  // Calls the listener for the rollouts that reference the object of `kind` that changed.
  void onWorkloadRefObject(const std::string& kind, const kube::ObjectChange& change);

  std::mutex workloadMu_;  // guards the two below; held while a first list runs
  std::map<std::string, std::unique_ptr<kube::Informer>> workloadInformers_;  // by kind
  std::set<std::string> rolloutsInCluster_;  // rollout keys whose Rollout object was seen
  // Guards the three below. Its own mutex: an informer's callback takes it while workloadMu_
  // is held for that informer's first list.
  std::mutex referencesMu_;
  std::function<void(const std::string&)> workloadRefListener_;  // watchWorkloadRefs()'s
  // Which rollouts' last resolveWorkloadRef() named which object ("Kind/ns/name"), both ways.
  std::map<std::string, std::set<std::string>> referencedBy_;  // object -> rollout keys
  std::map<std::string, std::string> references_;              // rollout key -> object
};

// The registry's factory: needs context.kubeClient (ramp serve --kubeconfig, or running in a
// cluster); works in context.kubeNamespace.
Result<std::unique_ptr<WorkloadDriver>> makeKubernetesDriver(const ExtensionContext& context);

// platform.kubernetes' checks of a Rollout: each container of the pod template names an image.
std::vector<spec::Diagnostic> rolloutProblems(const spec::Rollout& rollout);

}  // namespace ramp::platform::kubernetes
