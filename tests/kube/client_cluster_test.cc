// The Kubernetes client and informer against a real API server: the test cluster of
// scripts/kube-cluster.sh (etcd, kube-apiserver, controller-manager, scheduler, kwok) started on
// loopback for this test and stopped at its end. Skipped, with the reason, while the cluster's
// programs are not built (`make kube-build`), like the cluster's own test.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <vector>

#include "harness/harness.h"
#include "harness/kube_cluster.h"
#include "kube/client.h"
#include "kube/informer.h"
#include "kube/kubeconfig.h"

namespace ramp::kube {
namespace {

using nlohmann::json;

std::string lease(const std::string& name, const std::string& holder) {
  return json{{"apiVersion", "coordination.k8s.io/v1"},
              {"kind", "Lease"},
              {"metadata", {{"name", name}, {"namespace", "default"}}},
              {"spec", {{"holderIdentity", holder}, {"leaseDurationSeconds", 15}}}}
      .dump();
}

InformerOptions informerOptions() {
  InformerOptions o;
  o.ns = "default";
  return o;
}

TEST(KubeClientOnACluster, CrudConflictsListAndInformer) {
  testing::TempDir dir("ramp-kube-client");
  std::string skip;
  testing::KubeCluster* cluster = testing::KubeCluster::shared(&skip);
  if (cluster == nullptr) {
    if (!skip.empty()) GTEST_SKIP() << skip;
    return;  // a cluster that did not start already failed the test
  }
  auto config = loadKubeconfig(cluster->kubeconfig(), "");
  ASSERT_TRUE(config) << config.error().message;
  auto client = Client::create(*config, realClock());
  ASSERT_TRUE(client) << client.error().message;
  Client& c = **client;

  // An informer on Leases sees what the client does.
  std::mutex mu;
  std::vector<ObjectChange> seen;
  Informer informer(c, realClock(), leases(), informerOptions(), [&](const ObjectChange& ch) {
    std::lock_guard lock(mu);
    seen.push_back(ch);
  });
  informer.start();
  ASSERT_TRUE(informer.waitForSync(Duration(30000)));

  auto created = c.create(leases(), "default", lease("ramp-test", "a"));
  ASSERT_TRUE(created) << created.error().message;
  auto again = c.create(leases(), "default", lease("ramp-test", "a"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists) << again.error().message;

  auto got = c.get(leases(), "default", "ramp-test");
  ASSERT_TRUE(got) << got.error().message;
  json j = json::parse(*got);
  const std::string rv = j["metadata"]["resourceVersion"];
  j["spec"]["holderIdentity"] = "b";
  auto updated = c.update(leases(), "default", "ramp-test", j.dump());
  ASSERT_TRUE(updated) << updated.error().message;
  // The same (now stale) resourceVersion again: a conflict, never a blind overwrite.
  j["spec"]["holderIdentity"] = "c";
  auto stale = c.update(leases(), "default", "ramp-test", j.dump());
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, ErrorCode::kConflict);
  EXPECT_NE(
      stale.error().message.find("update leases.coordination.k8s.io default/ramp-test: HTTP 409"),
      std::string::npos)
      << stale.error().message;
  EXPECT_EQ(json::parse(*c.get(leases(), "default", "ramp-test"))["spec"]["holderIdentity"], "b");

  auto patched = c.patch(leases(), "default", "ramp-test", PatchType::kMerge,
                         R"({"spec":{"holderIdentity":"d"}})");
  ASSERT_TRUE(patched) << patched.error().message;
  EXPECT_EQ(json::parse(*patched)["spec"]["holderIdentity"], "d");

  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.create(leases(), "default", lease("page-" + std::to_string(i), "x")));
  }
  ListOptions small;
  small.limit = 2;  // several pages
  auto listed = c.list(leases(), "default", small);
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_EQ(listed->items.size(), 4u);
  EXPECT_FALSE(listed->resourceVersion.empty());

  ASSERT_TRUE(c.remove(leases(), "default", "ramp-test"));
  auto gone = c.get(leases(), "default", "ramp-test");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, ErrorCode::kNotFound);

  // The informer saw the create, the changes and the delete, in order.
  bool deleted = false;
  for (int i = 0; i < 300 && !deleted; ++i) {
    {
      std::lock_guard lock(mu);
      for (const ObjectChange& ch : seen) {
        deleted =
            deleted || (ch.key == "default/ramp-test" && ch.type == ObjectChange::Type::kDeleted);
      }
    }
    if (!deleted) realClock().sleepFor(Duration(100));
  }
  EXPECT_TRUE(deleted);
  {
    std::lock_guard lock(mu);
    ASSERT_FALSE(seen.empty());
    EXPECT_EQ(seen.front().type, ObjectChange::Type::kAdded);
  }
  EXPECT_EQ(informer.list().size(), 3u);
  informer.stop();
  EXPECT_GT(c.requests(), 8);
}

}  // namespace
}  // namespace ramp::kube
