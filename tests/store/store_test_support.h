#pragma once

// Helpers for the store tests: a temporary directory and the factories of every StateStore
// implementation that the conformance suite runs against.

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "ramp/store/state_store.h"

namespace ramp::store::testing {

// A fresh directory under the system temp dir, removed (with its contents) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct StoreConfig {
  int64_t changeLogRetention = kDefaultChangeLogRetention;
  int64_t eventRetention = kDefaultEventRetention;
};

struct StoreFactory {
  std::string name;
  // Makes a store whose files (if any) live in `dir`.
  std::function<std::unique_ptr<StateStore>(const std::filesystem::path& dir, StoreConfig)> make;
  // False for a store that keeps only the kinds of spec/kinds.h (Kubernetes): the suite leaves
  // out what it writes under other kinds.
  bool anyKind = true;
  // Non-empty when the store cannot run here (the reason the tests are skipped).
  std::function<std::string()> skipReason;
  // False for a store whose events outlive eventRetention (Kubernetes: the API server keeps
  // them for its --event-ttl and the store lists old ones from it): it keeps at least the newest
  // eventRetention, as every store, but the suite does not expect the older ones gone.
  bool dropsOldEvents = true;
};

StoreFactory memoryFactory();
StoreFactory sqliteFactory();
// `inner` behind SequentialStateStore (tests/fakes/sequential_state_store.h): batches written one
// object at a time, as by a store without transactions. Named "<inner>_sequential".
StoreFactory sequentialFactory(StoreFactory inner);
// store.kubernetes on the shared test cluster (harness/kube_cluster.h), emptied before each store
// is made; its objects are custom resources, so the suite's payloads go through
// CustomResourcePayloads (kubernetes_store_support.cc). Linked into ramp_store_kube_test only.
StoreFactory kubernetesFactory();

}  // namespace ramp::store::testing
namespace ramp::kube {
class Client;
}
namespace ramp::store::testing {

// The shared test cluster's client (qps 1000), with the namespaces the suite writes in; nullptr
// with `*skipReason` set when the cluster's programs are not built (or it failed to start).
kube::Client* kubeTestClient(std::string* skipReason);
// Deletes every object of the store's kinds and the store's Events and Leases.
void emptyKubeStore(kube::Client& client);
// The shared test cluster's kubeconfig ("" before kubeTestClient() succeeded).
std::string kubeTestKubeconfig();

}  // namespace ramp::store::testing
