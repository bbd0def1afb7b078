#pragma once

// KubernetesStateStore (store.kubernetes): a StateStore whose objects are Argo Rollouts' custom
// resources in a Kubernetes API server (argoproj.io/v1alpha1 Rollout, AnalysisTemplate,
// ClusterAnalysisTemplate, AnalysisRun), so ramp reads the Rollouts users apply with kubectl and
// writes their status where `kubectl get rollout` and Argo's tools look. Events are
// events.k8s.io/v1 Events with Argo's reasons; leases are coordination.k8s.io/v1 Leases.
//
// Reads are served from memory: one informer (list, then watch) per kind and one for the
// store's own Events keep an ObjectMirror/EventMirror current (object_mirror.h); the EventMirror
// is a window of the newest events, and a list reaching back further is one LIST of the Events
// from the API server, which keeps them (listEvents). Events are
// listed as soon as they are appended and written to the API server in the background
// (event_sender.h), as client-go's recorder writes Argo's; one the server never took is given up
// after a few tries and reported to options.log. Other writes go to the
// API server through the kube Client, one object per request, each a compare-and-swap on the
// object's resourceVersion (a stale one is 409: kConflict); the reply goes into the mirror before
// the write returns, so a reader sees its own writes. A Rollout's status goes through its /status
// subresource (custom_resources.h, planWrite). Batches are written one op at a time
// (store/common/sequential_writes.h): the contract of state_store.h, write(), without the
// all-or-nothing part (transactional() is false). Leases follow store_rules.h's decideAcquire/
// Renew/Release over the Lease object, retried on a conflicting write. The audit log is
// KubernetesAuditLog's ConfigMaps.
//
// open() needs the CRDs installed (deploy/crds) and waits until every informer has listed.
//
// Threading: every method may be called from any thread. One mutex guards the mirrors; no lock
// is held during a request. Listeners run as state_store.h says, on the writing thread for the
// store's own writes and on an informer's thread for other clients' changes.

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kube/client.h"
#include "kube/informer.h"
#include "ramp/clock.h"
#include "ramp/registry.h"
#include "ramp/store/state_store.h"
#include "store/common/store_rules.h"
#include "store/kubernetes/audit_log.h"
#include "store/kubernetes/event_sender.h"
#include "store/kubernetes/object_mirror.h"

namespace ramp::store::kubernetes {

// store.kubernetes keeps a shorter change log than the other stores (kDefaultChangeLogRetention):
// the API server holds the record, the log only lets a watcher of ramp's API resume after a
// short break (one further behind lists again, as a Kubernetes client does after 410 Gone), and
// here every entry is an object's text in memory.
inline constexpr int64_t kKubernetesChangeLogRetention = 1'000;

// The events store.kubernetes keeps in memory: enough for a watcher of ramp's API to follow
// (WatchHub reads the newest) and for each rollout's newest to be folded into; older ones are
// read from the API server when asked for.
inline constexpr int64_t kKubernetesEventWindow = 1'000;

struct KubernetesStoreOptions {
  int64_t changeLogRetention = kKubernetesChangeLogRetention;  // must be > 0
  // How many of the newest events the store keeps in memory (EventMirror's window, must be > 0);
  // the API server keeps them all for its --event-ttl, and a list that reaches back further is
  // answered from it.
  int64_t eventWindow = kKubernetesEventWindow;
  // The one namespace whose objects the store keeps (Argo's --namespaced; ramp serve
  // --namespace); "" = every namespace. ClusterAnalysisTemplates are kept either way.
  std::string namespace_;
  std::string leaseNamespace;  // where Leases live; "" = namespace_, else the client's context's
  std::string reportingInstance = "ramp";  // events.k8s.io reportingInstance (host name, pod)
  // Argo's --instance-id: the store keeps only the custom resources labelled
  // argo-rollouts.argoproj.io/controller-instance-id=ID (and labels what it writes so), or with
  // "" only those without the label (custom_resources.h, instanceSelector/labelForInstance). Its
  // Events are filtered and labelled the same way.
  std::string instanceId;
  Duration syncTimeout = Duration(60'000);  // open(): how long the first lists may take
  // Where the store reports what it could not do in the background (an Event the API server
  // never took); may be empty.
  std::function<void(const std::string&)> log;
  EventSenderOptions eventSender;
};

class KubernetesStateStore final : public StateStore {
 public:
  // Checks the argoproj.io/v1alpha1 kinds are served, starts the informers and waits for their
  // first lists. `client` and `clock` must outlive the store. Errors: kFailedPrecondition when a
  // CRD of Argo Rollouts' is missing (naming it and deploy/crds); kDeadlineExceeded when the
  // lists take longer than syncTimeout (with the last failed list's error, e.g. a 403 naming the
  // resource); the API's errors. Argo CD's CRDs (Application, AppProject) are optional: without
  // one, that kind lists empty, reads as kNotFound, and every write of it is
  // kFailedPrecondition naming the CRD (missingCustomResources() says which).
  static Result<std::unique_ptr<KubernetesStateStore>> open(kube::Client& client, Clock& clock,
                                                            KubernetesStoreOptions options = {});
  ~KubernetesStateStore() override;

  Result<StoredObject> get(const ObjectKey& key) override;
  Result<int64_t> put(const ObjectKey& key, std::string_view json,
                      int64_t expectedVersion) override;
  Result<int64_t> remove(const ObjectKey& key, int64_t expectedVersion) override;
  Result<std::vector<int64_t>> write(std::span<const WriteOp> ops) override;
  Result<WriteResult> writeWithEvents(std::span<const WriteOp> ops,
                                      std::span<const Event> events) override;
  bool transactional() const override { return false; }
  Result<ObjectList> list(const std::string& kind, const std::string& namespace_) override;
  Result<int64_t> currentRevision() override;
  Result<std::vector<Change>> changesSince(int64_t revision, int64_t limit) override;
  int64_t subscribe(ChangeListener listener) override;
  void unsubscribe(int64_t id) override;
  Result<int64_t> appendEvent(const Event& event) override;
  // From the window of events in memory when it holds every event the query could match; else
  // one LIST of the API server's Events (one object's by field selector), merged with the
  // events held (mergeEvents), and the request's error when it fails.
  Result<std::vector<Event>> listEvents(const EventQuery& query) override;
  Result<Lease> acquireLease(const std::string& name, const std::string& holder, Duration ttl,
                             Time now) override;
  Result<Lease> renewLease(const std::string& name, const std::string& holder, Duration ttl,
                           Time now) override;
  Status releaseLease(const std::string& name, const std::string& holder, Time now) override;
  // The audit log, in ConfigMaps of the lease namespace (audit_log.h). A decision's records are
  // appended before the decision itself (no transactions here); a record's eventId is that of
  // the Event written with it while this store knows it (the Event names its record in the
  // annotation store.ramp.dev/audit-index), else 0.
  Result<std::vector<AuditRecord>> listAuditRecords(const AuditQuery& query) override;
  Result<int64_t> auditSize() override;
  // The records alone, in one ConfigMap update when they fit one chunk (KubernetesAuditLog).
  Status appendAuditRecords(std::span<const Event> events) override;
  Status appendAuditCheckpoint(const AuditCheckpoint& checkpoint) override;
  Result<std::vector<AuditCheckpoint>> listAuditCheckpoints() override;
  // The mirrors of the custom resources (with the change log) and of the Events, and the audit
  // records' links to their events.
  void repackMemory() override;

  // The optional CRDs ("applications.argoproj.io") the server did not serve at open().
  std::vector<std::string> missingCustomResources() const;
  // Waits until the Events appended before the call are written to the API server (or given
  // up), at most `timeout`. false when some are still under way.
  bool flushEvents(Duration timeout);

 private:
  KubernetesStateStore(kube::Client& client, Clock& clock, KubernetesStoreOptions options);

  struct KindState {
    kube::ResourceType type;
    bool statusSubresource = false;
    std::unique_ptr<kube::Informer> informer;
  };

  Status start();
  KindState* kindState(const std::string& kind);
  // The metadata.uid of the object `key` as mirrored ("" when unknown).
  std::string uidOf(const ObjectKey& key);
  // Validates `op` and makes its compare-and-swap decision against the mirror: the kind and the
  // mirror's entry (nullopt = absent) when the op may go to the API server.
  struct Checked {
    KindState* kind;
    std::optional<MirrorEntry> current;
  };
  Result<Checked> check(const WriteOp& op);
  // checkKey() plus: a namespaced key outside options_.namespace_ is kInvalidArgument.
  Status checkScope(const ObjectKey& key) const;
  // Puts the server's reply for `key` into the mirror and delivers the change. Returns the
  // version of that state.
  Result<int64_t> observeReply(const ObjectKey& key, std::string_view reply, bool deleted,
                               int64_t fallbackResourceVersion);
  void onObjectChange(const std::string& kind, const kube::ObjectChange& change);
  void onEventChange(const kube::ObjectChange& change);
  // appendEvent() without validation or audit record: the event's record, if any
  // (auditLeafHash set), is in the log already, and the Event names its index. Lists the event
  // and queues its write. Returns its id.
  int64_t writeEvent(const Event& event);
  // The sender's report of one write (EventSender::Written).
  void onEventWritten(const EventWrite& write, const Result<std::string>& reply);
  Result<Lease> updateLease(
      const std::string& name,
      const std::function<Result<Lease>(const std::optional<Lease>&)>& decide);

  kube::Client& client_;
  Clock& clock_;
  const KubernetesStoreOptions options_;
  std::string leaseNamespace_;
  std::string eventSelector_;  // the label selector of the store's Events (set by start())
  ChangeNotifier notifier_;
  std::mutex mu_;  // guards the mirrors
  ObjectMirror objects_;
  EventMirror events_;
  std::vector<std::unique_ptr<KindState>> kinds_;  // filled by start(), then read-only
  std::vector<std::string> missing_;               // likewise
  std::unique_ptr<kube::Informer> eventInformer_;
  std::unique_ptr<KubernetesAuditLog> audit_;
  uint64_t lastEventName_ = 0;   // under mu_: eventName()'s last `unique` (writeEvent)
  int64_t droppedEvents_ = 0;    // under mu_: Events the sender refused (its queue was full)
  int64_t nextDropReport_ = 1;   // under mu_: the count at which a drop is logged next
  int64_t cancelledEvents_ = 0;  // under mu_: Events the sender gave up as the store stopped
  // Made by start(); the destructor ends it first, while its reports still find the mirrors.
  std::unique_ptr<EventSender> sender_;
  // (record index, event id), under mu_, sorted by index (records are mostly linked in order:
  // 16 bytes a link where a map took 64): the newest kDefaultEventRetention links (an older
  // record's eventId reads 0).
  std::deque<std::pair<int64_t, int64_t>> auditEventIds_;
  void linkAuditRecord(int64_t index, int64_t eventId);     // needs mu_
  std::optional<int64_t> linkedEvent(int64_t index) const;  // needs mu_
};

// store.kubernetes's registry factory: a store on context.kubeClient (the daemon's one client)
// in context.kubeNamespace ("" = every namespace) for context.kubeInstanceId, its
// reportingInstance the host name.
// kFailedPrecondition when the daemon has no client; open()'s errors.
Result<std::unique_ptr<StateStore>> makeKubernetesStore(const ExtensionContext& context);

}  // namespace ramp::store::kubernetes
