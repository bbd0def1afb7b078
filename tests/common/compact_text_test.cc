#include "common/compact_text.h"

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace ramp {
namespace {

// A Rollout as the API server returns it (what store.kubernetes keeps one of per Rollout).
const std::string kRollout =
    R"({"apiVersion":"argoproj.io/v1alpha1","kind":"Rollout","metadata":{"name":"web-0042",)"
    R"("namespace":"bench-ramp","uid":"5f0c8b1e-8d7a-4c59-9f4e-2b7d3c1a9e11",)"
    R"("resourceVersion":"184467","generation":2,"creationTimestamp":"2026-12-07T02:11:09Z",)"
    R"("labels":{"app":"web-0042","argo-rollouts.argoproj.io/controller-instance-id":)"
    R"("bench-ramp"}},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"web-0042"}},)"
    R"("template":{"metadata":{"labels":{"app":"web-0042"}},"spec":{"containers":[{"name":)"
    R"("web","image":"registry.example/web:v2","ports":[{"containerPort":8080}]}]}},)"
    R"("strategy":{"canary":{"steps":[{"setWeight":50},{"pause":{"duration":"10s"}}]}}},)"
    R"("status":{"phase":"Healthy","message":"","observedGeneration":"2","replicas":1,)"
    R"("updatedReplicas":1,"readyReplicas":1,"availableReplicas":1,"currentPodHash":)"
    R"("6c9d8f7b5","stableRS":"6c9d8f7b5","currentStepIndex":2,"currentStepHash":)"
    R"("7d4b9c8f6","selector":"app=web-0042","conditions":[{"type":"Progressing","status":)"
    R"("True","reason":"NewReplicaSetAvailable","message":"Rollout \"web-0042\" has )"
    R"(successfully progressed.","lastTransitionTime":"2026-12-07T02:12:01Z",)"
    R"("lastUpdateTime":"2026-12-07T02:12:01Z"},{"type":"Available","status":"True",)"
    R"("reason":"AvailableReason","message":"Rollout has minimum availability",)"
    R"("lastTransitionTime":"2026-12-07T02:11:40Z","lastUpdateTime":"2026-12-07T02:11:40Z"},)"
    R"({"type":"Healthy","status":"True","reason":"RolloutHealthy","message":"Rollout is )"
    R"(healthy","lastTransitionTime":"2026-12-07T02:12:01Z","lastUpdateTime":)"
    R"("2026-12-07T02:12:01Z"}],"canary":{}}})";

TEST(CompactText, GivesBackTheTextByteForByte) {
  std::mt19937 random(7);
  std::string noise(3000, '\0');
  for (char& c : noise) c = static_cast<char>(random());
  for (const std::string& text :
       {std::string(), std::string("x"), kRollout, noise, std::string(200'000, 'a') + kRollout}) {
    const CompactText compact(text);
    EXPECT_EQ(compact.text(), text);
    EXPECT_EQ(compact.size(), text.size());
    EXPECT_LE(compact.compactSize(), text.size()) << "a text that does not shrink stays as is";
  }
}

// A copy owns its bytes: it reads the same after the original is gone or reassigned.
TEST(CompactText, ACopyKeepsItsOwnBytes) {
  auto original = std::make_unique<CompactText>(kRollout);
  const CompactText copy(*original);
  CompactText assigned(std::string("x"));
  assigned = *original;
  *original = CompactText(std::string("other"));
  EXPECT_EQ(original->text(), "other");
  original.reset();
  EXPECT_EQ(copy.text(), kRollout);
  EXPECT_EQ(assigned.text(), kRollout);
  EXPECT_EQ(assigned.compactSize(), copy.compactSize());
  const CompactText empty;
  CompactText fromEmpty(empty);
  EXPECT_TRUE(fromEmpty.empty());
  EXPECT_EQ(fromEmpty.text(), "");
}

// What a cache moving its texts to new memory does: the bytes kept and the size give the same
// text back, deflated or not, without deflating it again; a pair no CompactText has is refused.
TEST(CompactText, IsMadeAgainFromTheBytesItKeeps) {
  for (const std::string& text : {std::string(), std::string("x"), kRollout}) {
    const CompactText original(text);
    const CompactText again = CompactText::fromStored(original.stored(), original.size());
    EXPECT_EQ(again.text(), text);
    EXPECT_EQ(again.compactSize(), original.compactSize());
    if (!text.empty()) EXPECT_NE(again.stored().data(), original.stored().data()) << "its own";
  }
  EXPECT_LT(CompactText(kRollout).compactSize(), kRollout.size()) << "the Rollout is deflated";
  EXPECT_THROW(CompactText::fromStored("abc", 2), std::invalid_argument);
  EXPECT_THROW(CompactText::fromStored("", 5), std::invalid_argument);
}

// What it is for: a cached Rollout in about a fifth of its text.
TEST(CompactText, AnObjectTakesAFractionOfItsText) {
  const CompactText compact(kRollout);
  EXPECT_LT(compact.compactSize() * 4, kRollout.size())
      << compact.compactSize() << " of " << kRollout.size();
}

// An event as the Kubernetes store keeps it (object_mirror.cc's eventBody): a few hundred
// bytes, too short for deflate alone to gain much; the dictionary's event vocabulary makes it
// about a third.
TEST(CompactText, AnEventTakesAFractionOfItsText) {
  const std::string event =
      R"({"a":"controller","c":1,"e":{"podTemplateHash":"95749c6c8","previousStable":"",)"
      R"("reason":"Initial deploy","revision":"1"},"f":1733562767420,"m":"Rollout completed )"
      R"(update to revision 1 (95749c6c8): Initial deploy","n":"web-0042-2wsvs","p":0,)"
      R"("r":"RolloutCompleted","y":0})";
  const CompactText compact(event);
  EXPECT_LT(compact.compactSize() * 3, event.size())
      << compact.compactSize() << " of " << event.size();
  EXPECT_EQ(compact.text(), event);
}

// The streams are borrowed from a pool, one per use: texts made and read on several threads at
// once round-trip.
TEST(CompactText, ThreadsMakeAndReadAtOnce) {
  std::vector<std::thread> threads;
  threads.reserve(4);
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &failures] {
      for (int i = 0; i < 200; ++i) {
        const std::string text = kRollout + std::to_string(t * 1000 + i);
        if (CompactText(text).text() != text) ++failures[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
}

}  // namespace
}  // namespace ramp
