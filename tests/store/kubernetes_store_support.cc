// kubernetesFactory() (store_test_support.h): store.kubernetes on the shared test cluster, for
// the conformance suite. The suite's payloads are arbitrary JSON ("0", {"n":1}); the store keeps
// custom resources, so CustomResourcePayloads puts each payload P in a resource's spec
// ({"spec":{"payload":P}}) on the way in and takes it out on the way back (compact JSON, keys
// sorted). Everything else goes to the store as it is.

#include <gtest/gtest.h>

#include <mutex>
#include <nlohmann/json.hpp>

#include "fakes/forwarding_state_store.h"
#include "harness/kube_cluster.h"
#include "kube/client.h"
#include "kube/kubeconfig.h"
#include "store/kubernetes/custom_resources.h"
#include "store/kubernetes/kubernetes_state_store.h"
#include "store/store_test_support.h"

namespace ramp::store::testing {
namespace {

using nlohmann::json;

std::string wrap(const std::string& payload) {
  if (payload.empty()) return payload;  // invalid input stays invalid
  json p = json::parse(payload, nullptr, false);
  if (p.is_discarded()) return payload;
  return json{{"spec", {{"payload", p}}}}.dump();
}

std::string unwrap(const std::string& stored) {
  json j = json::parse(stored, nullptr, false);
  if (!j.is_object() || !j.contains("spec") || !j["spec"].contains("payload")) return stored;
  return j["spec"]["payload"].dump();
}

class CustomResourcePayloads final : public ForwardingStateStore {
 public:
  explicit CustomResourcePayloads(std::unique_ptr<StateStore> inner)
      : ForwardingStateStore(std::move(inner)) {}

  Result<StoredObject> get(const ObjectKey& key) override {
    auto o = inner().get(key);
    if (o) o->json = unwrap(o->json);
    return o;
  }
  Result<int64_t> put(const ObjectKey& key, std::string_view json,
                      int64_t expectedVersion) override {
    return inner().put(key, wrap(std::string(json)), expectedVersion);
  }
  Result<std::vector<int64_t>> write(std::span<const WriteOp> ops) override {
    return inner().write(in(ops));
  }
  Result<WriteResult> writeWithEvents(std::span<const WriteOp> ops,
                                      std::span<const Event> events) override {
    return inner().writeWithEvents(in(ops), events);
  }
  Result<ObjectList> list(const std::string& kind, const std::string& namespace_) override {
    auto l = inner().list(kind, namespace_);
    if (l) {
      for (auto& o : l->items) o.json = unwrap(o.json);
    }
    return l;
  }
  Result<std::vector<Change>> changesSince(int64_t revision, int64_t limit) override {
    auto changes = inner().changesSince(revision, limit);
    if (changes) {
      for (auto& c : *changes) c.json = unwrap(c.json);
    }
    return changes;
  }
  int64_t subscribe(ChangeListener listener) override {
    return inner().subscribe([listener = std::move(listener)](const Change& c) {
      Change out = c;
      out.json = unwrap(c.json);
      listener(out);
    });
  }

 private:
  static std::vector<WriteOp> in(std::span<const WriteOp> ops) {
    std::vector<WriteOp> out(ops.begin(), ops.end());
    for (auto& op : out) op.json = wrap(op.json);
    return out;
  }
};

}  // namespace

kube::Client* kubeTestClient(std::string* skipReason) {
  static std::mutex mu;
  static std::unique_ptr<kube::Client> client;
  std::lock_guard lock(mu);
  if (client) return client.get();
  ramp::testing::KubeCluster* cluster = ramp::testing::KubeCluster::shared(skipReason);
  if (cluster == nullptr) return nullptr;
  for (const char* ns : {"prod", "dev", "t0", "t1", "t2", "t3"}) {
    cluster->kubectl(std::string("create namespace ") + ns);
  }
  auto config = kube::loadKubeconfig(cluster->kubeconfig(), "");
  if (!config) {
    ADD_FAILURE() << config.error().message;
    return nullptr;
  }
  kube::ClientOptions options;
  options.qps = 1000;  // the suite writes hundreds of objects
  options.burst = 1000;
  auto c = kube::Client::create(*config, realClock(), options);
  if (!c) {
    ADD_FAILURE() << c.error().message;
    return nullptr;
  }
  client = std::move(*c);
  return client.get();
}

std::string kubeTestKubeconfig() {
  ramp::testing::KubeCluster* cluster = ramp::testing::KubeCluster::shared(nullptr);
  return cluster == nullptr ? "" : cluster->kubeconfig();
}

void emptyKubeStore(kube::Client& client) {
  auto removeAll = [&](const kube::ResourceType& type, const std::string& selector) {
    kube::ListOptions lo;
    lo.labelSelector = selector;
    auto listed = client.list(type, "", lo);
    ASSERT_TRUE(listed) << listed.error().message;
    for (const std::string& item : listed->items) {
      auto j = json::parse(item);
      const std::string ns = j["metadata"].value("namespace", "");
      auto r = client.remove(type, ns, j["metadata"]["name"].get<std::string>());
      ASSERT_TRUE(r || r.error().code == ErrorCode::kNotFound) << r.error().message;
    }
  };
  for (const char* kind :
       {"Rollout", "AnalysisTemplate", "ClusterAnalysisTemplate", "AnalysisRun"}) {
    removeAll(*kubernetes::resourceFor(kind), "");
  }
  const std::string managed =
      std::string(kubernetes::kManagedByLabel) + "=" + kubernetes::kManagedBy;
  removeAll(kube::events(), managed);
  removeAll(kube::leases(), managed);
  removeAll(kube::configMaps(), managed);  // the audit log's chunks
}

StoreFactory kubernetesFactory() {
  StoreFactory f;
  f.name = "kubernetes";
  f.anyKind = false;
  f.dropsOldEvents = false;
  f.skipReason = [] {
    std::string reason;
    kubeTestClient(&reason);
    return reason;
  };
  f.make = [](const std::filesystem::path&, StoreConfig c) -> std::unique_ptr<StateStore> {
    kube::Client* client = kubeTestClient(nullptr);
    if (client == nullptr) return nullptr;
    emptyKubeStore(*client);
    kubernetes::KubernetesStoreOptions o;
    o.changeLogRetention = c.changeLogRetention;
    o.eventWindow = c.eventRetention;
    auto store = kubernetes::KubernetesStateStore::open(*client, realClock(), o);
    if (!store) {
      ADD_FAILURE() << store.error().message;
      return nullptr;
    }
    return std::make_unique<CustomResourcePayloads>(std::move(*store));
  };
  return f;
}

}  // namespace ramp::store::testing
