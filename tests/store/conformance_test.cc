// The StateStore conformance suite: every implementation must pass every StoreConformanceTest
// (the contract of include/ramp/store/state_store.h, which a store without multi-object
// transactions can meet); the memory and SQLite stores also pass TransactionalStoreTest.

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ramp/store/state_store.h"
#include "store/store_test_support.h"

namespace ramp::store::testing {
namespace {

using std::chrono::milliseconds;

const ObjectKey kA{"Rollout", "default", "a"};
const ObjectKey kB{"Rollout", "default", "b"};

Time at(int64_t ms) { return Time(Duration(1'767'225'600'000 + ms)); }

class StoreConformanceTest : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override {
    if (GetParam().skipReason) {
      if (std::string reason = GetParam().skipReason(); !reason.empty()) GTEST_SKIP() << reason;
    }
    open(StoreConfig{});
  }

  // Whether the store keeps an audit log (every store does now; one that answers auditSize with
  // kUnsupported would have the audit rows of the suite skipped, said so).
  bool keepsAuditLog() {
    auto size = s().auditSize();
    return size || size.error().code != ErrorCode::kUnsupported;
  }

  void open(StoreConfig config) {
    store_.reset();
    store_ = GetParam().make(dir_.path(), config);
    ASSERT_NE(store_, nullptr);
    base_ = *store_->currentRevision();
  }

  StateStore& s() { return *store_; }

  int64_t create(const ObjectKey& k, const std::string& json) {
    auto v = s().put(k, json, 0);
    EXPECT_TRUE(v.has_value()) << (v ? "" : v.error().message);
    return v.value_or(-1);
  }

  TempDir dir_;
  std::unique_ptr<StateStore> store_;
  // The revision a fresh store starts at: 0, except on Kubernetes (the API server's revision).
  int64_t base_ = 0;
};

// --- CRUD and compare-and-swap ---

TEST_P(StoreConformanceTest, GetOfMissingObjectIsNotFound) {
  auto r = s().get(kA);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_NE(r.error().message.find("Rollout/default/a"), std::string::npos);
}

TEST_P(StoreConformanceTest, CreateThenGetReturnsExactTextAndVersion) {
  const std::string json = R"({"note":"ünïcode","spec":{"replicas":3}})";
  int64_t v = create(kA, json);
  EXPECT_GT(v, 0);
  auto r = s().get(kA);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->json, json);
  EXPECT_EQ(r->version, v);
  EXPECT_EQ(r->key, kA);
}

TEST_P(StoreConformanceTest, CreateOfExistingObjectIsAlreadyExists) {
  create(kA, "{}");
  auto r = s().put(kA, R"({"x":1})", 0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(s().get(kA)->json, "{}");
}

TEST_P(StoreConformanceTest, UpdateNeedsTheCurrentVersion) {
  int64_t v1 = create(kA, R"({"n":1})");
  auto v2 = s().put(kA, R"({"n":2})", v1);
  ASSERT_TRUE(v2) << v2.error().message;
  EXPECT_GT(*v2, v1);
  // A writer that read v1 loses.
  auto stale = s().put(kA, R"({"n":3})", v1);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, ErrorCode::kConflict);
  EXPECT_EQ(s().get(kA)->json, R"({"n":2})");
  EXPECT_EQ(s().get(kA)->version, *v2);
}

TEST_P(StoreConformanceTest, UpdateOfMissingObjectIsConflict) {
  auto r = s().put(kA, "{}", 7);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kConflict);
  EXPECT_FALSE(s().get(kA));
}

TEST_P(StoreConformanceTest, RemoveIsCompareAndSwap) {
  int64_t v = create(kA, R"({"n":1})");
  auto wrong = s().remove(kA, v + 100);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, ErrorCode::kConflict);
  ASSERT_TRUE(s().get(kA));
  auto removed = s().remove(kA, v);
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_GT(*removed, v);
  EXPECT_EQ(s().get(kA).error().code, ErrorCode::kNotFound);
  auto again = s().remove(kA, v);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kNotFound);
  // Re-create after delete starts again from "must not exist".
  EXPECT_GT(create(kA, "{}"), *removed);
}

TEST_P(StoreConformanceTest, RejectsInvalidArguments) {
  EXPECT_EQ(s().put({"", "ns", "n"}, "{}", 0).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(s().put({"Rollout", "ns", ""}, "{}", 0).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(s().put(kA, "", 0).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(s().put(kA, "{}", -1).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(s().remove(kA, 0).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(s().get({"", "", ""}).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(s().list("", "").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(*s().currentRevision(), base_);  // nothing was written
}

TEST_P(StoreConformanceTest, VersionsAreConsecutiveStoreWideRevisions) {
  EXPECT_EQ(*s().currentRevision(), base_);
  int64_t a = create(kA, "{}");
  int64_t b = create(kB, "{}");
  int64_t a2 = *s().put(kA, R"({"x":1})", a);
  int64_t d = *s().remove(kB, b);
  EXPECT_EQ(b, a + 1);
  EXPECT_EQ(a2, b + 1);
  EXPECT_EQ(d, a2 + 1);
  EXPECT_EQ(*s().currentRevision(), d);
}

TEST_P(StoreConformanceTest, ClusterScopedObjectsHaveAnEmptyNamespace) {
  ObjectKey k{"ClusterAnalysisTemplate", "", "success-rate"};
  create(k, "{}");
  EXPECT_TRUE(s().get(k));
  EXPECT_FALSE(s().get(ObjectKey{"ClusterAnalysisTemplate", "default", "success-rate"}));
}

// --- list ---

TEST_P(StoreConformanceTest, ListsByNamespaceOrAllSortedWithRevision) {
  create({"Rollout", "prod", "z"}, R"({"i":1})");
  create({"Rollout", "dev", "b"}, R"({"i":2})");
  create({"Rollout", "prod", "a"}, R"({"i":3})");
  create({"Rollout", "dev", "a"}, R"({"i":4})");
  create({"AnalysisRun", "prod", "a"}, R"({"i":5})");
  if (GetParam().anyKind) create({"Rollouts", "prod", "a"}, R"({"i":6})");  // a shared prefix

  auto all = s().list("Rollout", "");
  ASSERT_TRUE(all) << all.error().message;
  std::vector<std::string> names;
  for (const auto& o : all->items) names.push_back(o.key.namespace_ + "/" + o.key.name);
  EXPECT_EQ(names, (std::vector<std::string>{"dev/a", "dev/b", "prod/a", "prod/z"}));
  EXPECT_EQ(all->revision, *s().currentRevision());
  EXPECT_EQ(all->items[0].json, R"({"i":4})");
  EXPECT_EQ(all->items[0].key.kind, "Rollout");

  auto prod = s().list("Rollout", "prod");
  ASSERT_TRUE(prod);
  ASSERT_EQ(prod->items.size(), 2u);
  EXPECT_EQ(prod->items[0].key.name, "a");
  EXPECT_EQ(prod->items[1].key.name, "z");

  if (GetParam().anyKind) {
    auto none = s().list("Experiment", "");
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->items.empty());
  }
  EXPECT_TRUE(s().list("Rollout", "staging")->items.empty());
}

// --- batched writes ---

TEST_P(StoreConformanceTest, BatchStopsAtTheFirstFailingOp) {
  int64_t a = create(kA, R"({"n":1})");
  const int64_t before = *s().currentRevision();
  const ObjectKey kC{"Rollout", "default", "c"};
  const ObjectKey kD{"Rollout", "default", "d"};
  Event e;
  e.time = Time(Duration(1000));
  e.object = kA;
  e.reason = "RolloutStepCompleted";
  std::vector<WriteOp> ops = {
      {WriteOp::Type::kPut, kB, R"({"n":1})", 0},
      {WriteOp::Type::kPut, kC, "{}", 0},
      {WriteOp::Type::kPut, kA, R"({"n":2})", a + 50},  // stale
      {WriteOp::Type::kPut, kD, "{}", 0},
  };
  auto r = s().writeWithEvents(ops, std::vector<Event>{e});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kConflict);
  EXPECT_EQ(r.error().message.rfind("op 2: ", 0), 0u) << r.error().message;
  // The failing op and every later one are not applied, and no event is stored.
  EXPECT_EQ(s().get(kA)->json, R"({"n":1})");
  EXPECT_FALSE(s().get(kD));
  EXPECT_TRUE(s().listEvents({})->empty());
  // The ops before it may have been applied (not on a transactional store), but only in order:
  // a prefix of the batch, each at a revision after the batch began.
  auto b = s().get(kB);
  auto c = s().get(kC);
  if (c) {
    EXPECT_TRUE(b);
  }
  if (b) {
    EXPECT_GT(b->version, before);
  }
  if (b && c) {
    EXPECT_GT(c->version, b->version);
  }
  auto changes = s().changesSince(before, 10);
  ASSERT_TRUE(changes);
  EXPECT_EQ(changes->size(), (b ? 1u : 0u) + (c ? 1u : 0u));
}

TEST_P(StoreConformanceTest, BatchReturnsIncreasingVersionsInOpOrder) {
  int64_t a = create(kA, R"({"n":1})");
  std::vector<WriteOp> ops = {
      {WriteOp::Type::kPut, kB, R"({"n":1})", 0},
      {WriteOp::Type::kPut, {"Rollout", "default", "c"}, "{}", 0},
      {WriteOp::Type::kPut, kA, R"({"n":2})", a},
  };
  auto ok = s().write(ops);
  ASSERT_TRUE(ok) << ok.error().message;
  ASSERT_EQ(ok->size(), 3u);
  EXPECT_GT((*ok)[0], a);
  EXPECT_GT((*ok)[1], (*ok)[0]);
  EXPECT_GT((*ok)[2], (*ok)[1]);
  EXPECT_EQ(s().get(kA)->json, R"({"n":2})");
  EXPECT_EQ(s().get(kA)->version, (*ok)[2]);
  EXPECT_EQ(s().get(kB)->version, (*ok)[0]);
}

TEST_P(StoreConformanceTest, BatchOpsSeeEarlierOpsOfTheSameBatch) {
  const int64_t r0 = *s().currentRevision();
  std::vector<WriteOp> ops = {
      {WriteOp::Type::kPut, kA, R"({"n":1})", 0},
      {WriteOp::Type::kPut, kA, R"({"n":2})", r0 + 1},
      {WriteOp::Type::kDelete, kA, "", r0 + 2},
      {WriteOp::Type::kPut, kA, R"({"n":3})", 0},
  };
  auto r = s().write(ops);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(s().get(kA)->json, R"({"n":3})");
  EXPECT_EQ(s().get(kA)->version, r0 + 4);
  auto changes = s().changesSince(r0, 100);
  ASSERT_TRUE(changes);
  ASSERT_EQ(changes->size(), 4u);
  EXPECT_EQ((*changes)[2].type, ChangeType::kDelete);
  EXPECT_EQ((*changes)[2].json, R"({"n":2})");
}

TEST_P(StoreConformanceTest, BatchValidationErrorNamesTheOp) {
  std::vector<WriteOp> ops = {{WriteOp::Type::kPut, kA, "{}", 0},
                              {WriteOp::Type::kPut, {"", "x", "y"}, "{}", 0}};
  auto r = s().write(ops);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().message.rfind("op 1: ", 0), 0u) << r.error().message;
  EXPECT_FALSE(s().get(kA));
  EXPECT_TRUE(s().write(std::vector<WriteOp>{})->empty());
}

TEST_P(StoreConformanceTest, WriteWithEventsStoresEventsOnlyWithTheirOps) {
  int64_t a = create(kA, R"({"n":1})");
  Event e;
  e.time = Time(Duration(1000));
  e.object = kA;
  e.reason = "RolloutStepCompleted";
  e.evidence = R"({"step":1})";
  std::vector<Event> events = {e, e};
  events[1].reason = "RolloutPaused";

  std::vector<WriteOp> stale = {{WriteOp::Type::kPut, kA, R"({"n":2})", a + 9}};
  auto lost = s().writeWithEvents(stale, events);
  ASSERT_FALSE(lost);
  EXPECT_EQ(lost.error().code, ErrorCode::kConflict);
  EXPECT_TRUE(s().listEvents({})->empty());  // the events went with the failed write

  std::vector<Event> bad = {e, e};
  bad[1].reason.clear();
  std::vector<WriteOp> ok = {{WriteOp::Type::kPut, kA, R"({"n":2})", a}};
  auto invalid = s().writeWithEvents(ok, bad);
  ASSERT_FALSE(invalid);
  EXPECT_EQ(invalid.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(invalid.error().message.rfind("event 1: ", 0), 0u) << invalid.error().message;
  EXPECT_EQ(s().get(kA)->version, a);  // the write went with the invalid event

  auto done = s().writeWithEvents(ok, events);
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(done->versions, (std::vector<int64_t>{a + 1}));
  ASSERT_EQ(done->eventIds.size(), 2u);
  EXPECT_GT(done->eventIds[1], done->eventIds[0]);
  auto listed = s().listEvents({.object = kA, .sinceId = 0, .limit = 10});
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].id, done->eventIds[0]);
  EXPECT_EQ((*listed)[1].reason, "RolloutPaused");
  EXPECT_EQ((*listed)[0].evidence, R"({"step":1})");
  EXPECT_EQ(s().get(kA)->json, R"({"n":2})");

  // Events alone are fine too, and move no revision.
  auto only = s().writeWithEvents({}, events);
  ASSERT_TRUE(only) << only.error().message;
  EXPECT_EQ(only->eventIds.size(), 2u);
  EXPECT_EQ(*s().currentRevision(), a + 1);
}

// --- change log / watch ---

TEST_P(StoreConformanceTest, ChangesSinceReturnsOrderedChangesUpToLimit) {
  int64_t a = create(kA, R"({"n":1})");
  create(kB, R"({"b":1})");
  s().put(kA, R"({"n":2})", a);
  int64_t del = *s().remove(kA, a + 2);

  auto all = s().changesSince(base_, 100);
  ASSERT_TRUE(all) << all.error().message;
  ASSERT_EQ(all->size(), 4u);
  for (size_t i = 0; i < all->size(); ++i) EXPECT_EQ((*all)[i].revision, a + int64_t(i));
  EXPECT_EQ((*all)[0].type, ChangeType::kPut);
  EXPECT_EQ((*all)[1].key, kB);
  EXPECT_EQ((*all)[2].json, R"({"n":2})");
  EXPECT_EQ((*all)[3].type, ChangeType::kDelete);
  EXPECT_EQ((*all)[3].json, R"({"n":2})");  // a delete carries the last stored text
  EXPECT_EQ((*all)[3].revision, del);

  auto page = s().changesSince(a, 2);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ(page->front().revision, a + 1);
  EXPECT_TRUE(s().changesSince(del, 10)->empty());
}

TEST_P(StoreConformanceTest, ChangesSinceRejectsBadArgumentsAndFutureRevisions) {
  create(kA, "{}");
  EXPECT_EQ(s().changesSince(-1, 10).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(s().changesSince(0, 0).error().code, ErrorCode::kInvalidArgument);
  auto ahead = s().changesSince(base_ + 5, 10);
  ASSERT_FALSE(ahead);
  EXPECT_EQ(ahead.error().code, ErrorCode::kFailedPrecondition);
}

TEST_P(StoreConformanceTest, ListThenWatchMissesNothingAndRepeatsNothing) {
  create(kA, "{}");
  auto listed = s().list("Rollout", "");
  ASSERT_TRUE(listed);
  int64_t b = create(kB, "{}");
  s().put(kB, R"({"x":1})", b);
  auto changes = s().changesSince(listed->revision, 100);
  ASSERT_TRUE(changes);
  ASSERT_EQ(changes->size(), 2u);
  EXPECT_EQ((*changes)[0].revision, b);
  EXPECT_EQ((*changes)[1].json, R"({"x":1})");
}

TEST_P(StoreConformanceTest, CompactedRevisionsAreTooOld) {
  open(StoreConfig{.changeLogRetention = 8, .eventRetention = kDefaultEventRetention});
  int64_t v = create(kA, R"({"n":0})");
  for (int i = 1; i < 100; ++i) v = *s().put(kA, R"({"n":)" + std::to_string(i) + "}", v);
  ASSERT_EQ(v, base_ + 100);

  auto old = s().changesSince(0, 10);
  ASSERT_FALSE(old);
  EXPECT_EQ(old.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(old.error().message.find("too old"), std::string::npos) << old.error().message;
  EXPECT_FALSE(s().changesSince(base_ + 50, 10));

  // The last `retention` revisions stay resumable.
  auto recent = s().changesSince(base_ + 100 - 8, 100);
  ASSERT_TRUE(recent) << recent.error().message;
  ASSERT_EQ(recent->size(), 8u);
  EXPECT_EQ(recent->front().revision, base_ + 93);
  EXPECT_EQ(recent->back().json, R"({"n":99})");
}

TEST_P(StoreConformanceTest, SubscribersSeeEveryCommittedChangeInOrder) {
  std::mutex mu;
  std::vector<int64_t> seen;
  std::vector<bool> visible;
  StateStore* store = store_.get();
  int64_t id = s().subscribe([&](const Change& c) {
    // Called after commit and outside the write lock: reading the store works and sees it.
    auto r = store->get(c.key);
    std::lock_guard lock(mu);
    seen.push_back(c.revision);
    visible.push_back(c.type == ChangeType::kPut ? (r && r->version == c.revision) : !r);
  });
  int64_t a = create(kA, "{}");
  std::vector<WriteOp> ops = {{WriteOp::Type::kPut, kB, "{}", 0},
                              {WriteOp::Type::kDelete, kA, "", a}};
  ASSERT_TRUE(s().write(ops));
  EXPECT_EQ(seen, (std::vector<int64_t>{a, a + 1, a + 2}));
  EXPECT_EQ(visible, (std::vector<bool>{true, true, true}));

  s().unsubscribe(id);
  create(kA, "{}");
  EXPECT_EQ(seen.size(), 3u);
  s().unsubscribe(id);  // unknown id: ignored
}

TEST_P(StoreConformanceTest, SubscribersSeeConcurrentWritesInRevisionOrder) {
  std::mutex mu;
  std::vector<int64_t> seen;
  s().subscribe([&](const Change& c) {
    std::lock_guard lock(mu);
    seen.push_back(c.revision);
  });
  constexpr int kThreads = 4, kPerThread = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        ObjectKey k{"Rollout", "t" + std::to_string(t), "o" + std::to_string(i)};
        ASSERT_TRUE(s().put(k, "{}", 0));
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(seen.size(), size_t(kThreads * kPerThread));
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], base_ + int64_t(i + 1));
}

// --- concurrency ---

TEST_P(StoreConformanceTest, ConcurrentCasWritersNeverLoseAnUpdate) {
  create(kA, "0");
  constexpr int kThreads = 4, kIncrements = 100;
  std::atomic<int> conflicts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrements; ++i) {
        for (;;) {
          auto cur = s().get(kA);
          ASSERT_TRUE(cur);
          auto r = s().put(kA, std::to_string(std::stoi(cur->json) + 1), cur->version);
          if (r) break;
          ASSERT_EQ(r.error().code, ErrorCode::kConflict) << r.error().message;
          ++conflicts;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(s().get(kA)->json, std::to_string(kThreads * kIncrements));
  // One revision per successful write; the failed CAS attempts wrote nothing.
  EXPECT_EQ(*s().currentRevision(), base_ + 1 + int64_t{kThreads} * kIncrements);
}

// --- events ---

Event makeEvent(const ObjectKey& k, std::string reason, int64_t ms) {
  Event e;
  e.time = at(ms);
  e.object = k;
  e.type = EventType::kNormal;
  e.reason = std::move(reason);
  e.message = "message for " + e.reason;
  e.actor = "controller";
  return e;
}

TEST_P(StoreConformanceTest, EventsRoundTripWithIncreasingIds) {
  Event e = makeEvent(kA, "RolloutStepCompleted", 5);
  e.type = EventType::kWarning;
  e.evidence = R"({"weight":20,"analysis":"ok"})";
  e.actor = "alice";
  e.id = 999;  // ignored
  auto id1 = s().appendEvent(e);
  ASSERT_TRUE(id1) << id1.error().message;
  auto id2 = s().appendEvent(makeEvent(kB, "Other", 6));
  ASSERT_TRUE(id2);
  EXPECT_GT(*id2, *id1);

  auto all = s().listEvents({});
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  const Event& got = (*all)[0];
  EXPECT_EQ(got.id, *id1);
  EXPECT_EQ(got.time, at(5));
  EXPECT_EQ(got.object, kA);
  EXPECT_EQ(got.type, EventType::kWarning);
  EXPECT_EQ(got.reason, "RolloutStepCompleted");
  EXPECT_EQ(got.message, "message for RolloutStepCompleted");
  EXPECT_EQ(got.evidence, e.evidence);
  EXPECT_EQ(got.actor, "alice");
  EXPECT_EQ((*all)[1].type, EventType::kNormal);
  // Events do not move the object revision.
  EXPECT_EQ(*s().currentRevision(), base_);
}

TEST_P(StoreConformanceTest, EventsFilterByObjectSinceIdAndLimit) {
  std::vector<int64_t> aIds;
  for (int i = 0; i < 10; ++i) {
    auto id = s().appendEvent(makeEvent(i % 2 ? kB : kA, "R" + std::to_string(i), i));
    ASSERT_TRUE(id);
    if (i % 2 == 0) aIds.push_back(*id);
  }
  auto forA = s().listEvents({.object = kA, .sinceId = 0, .limit = 100});
  ASSERT_TRUE(forA);
  std::vector<int64_t> got;
  for (const auto& e : *forA) got.push_back(e.id);
  EXPECT_EQ(got, aIds);

  auto since = s().listEvents({.object = kA, .sinceId = aIds[2], .limit = 1});
  ASSERT_TRUE(since);
  ASSERT_EQ(since->size(), 1u);
  EXPECT_EQ(since->front().id, aIds[3]);

  auto page = s().listEvents({.object = std::nullopt, .sinceId = 0, .limit = 3});
  ASSERT_EQ(page->size(), 3u);
  EXPECT_EQ(page->back().reason, "R2");
}

// A repeat of the newest event about the same object is counted, not stored again (as Kubernetes
// counts events): a new id, count + 1, the first time kept, the old row gone.
TEST_P(StoreConformanceTest, RepeatedEventsAreCounted) {
  Event e = makeEvent(kA, "ScalingReplicaSet", 5);
  e.evidence = R"({"replicas":3})";
  const int64_t first = *s().appendEvent(e);
  auto fresh = s().listEvents({});
  ASSERT_EQ(fresh->size(), 1u);
  EXPECT_EQ(fresh->front().count, 1);
  EXPECT_EQ(fresh->front().firstTime, at(5));
  EXPECT_EQ(fresh->front().replaces, 0);

  e.time = at(9);
  const int64_t second = *s().appendEvent(e);
  EXPECT_GT(second, first);
  e.time = at(12);
  auto batch = s().writeWithEvents({}, std::vector<Event>{e});
  ASSERT_TRUE(batch) << batch.error().message;
  const int64_t third = batch->eventIds.at(0);
  EXPECT_GT(third, second);
  auto all = s().listEvents({});
  ASSERT_EQ(all->size(), 1u);
  const Event& got = all->front();
  EXPECT_EQ(got.id, third);
  EXPECT_EQ(got.count, 3);
  EXPECT_EQ(got.time, at(12));
  EXPECT_EQ(got.firstTime, at(5));
  EXPECT_EQ(got.replaces, second);
  EXPECT_EQ(got.evidence, e.evidence);
  // A watcher past the old id sees the counted event again.
  EXPECT_EQ(s().listEvents({.object = kA, .sinceId = first, .limit = 10})->size(), 1u);

  // Not a repeat: another object's event in between does not matter, but a different message,
  // evidence, actor, type or reason does; and a repeat of an older event is a new event.
  ASSERT_TRUE(s().appendEvent(makeEvent(kB, "Other", 13)));
  e.time = at(14);
  ASSERT_TRUE(s().appendEvent(e));
  EXPECT_EQ(s().listEvents({.object = kA, .sinceId = 0, .limit = 10})->front().count, 4);
  for (auto change : std::vector<std::function<void(Event&)>>{
           [](Event& x) { x.message += "!"; }, [](Event& x) { x.evidence = "{}"; },
           [](Event& x) { x.actor = "bob"; }, [](Event& x) { x.type = EventType::kWarning; },
           [](Event& x) { x.reason = "Other"; }}) {
    Event other = e;
    change(other);
    ASSERT_TRUE(s().appendEvent(other));
  }
  ASSERT_TRUE(s().appendEvent(e));
  auto forA = s().listEvents({.object = kA, .sinceId = 0, .limit = 10});
  ASSERT_EQ(forA->size(), 7u);
  for (size_t i = 1; i < forA->size(); ++i) EXPECT_EQ((*forA)[i].count, 1) << i;
}

TEST_P(StoreConformanceTest, EventsRejectInvalidInput) {
  EXPECT_EQ(s().appendEvent(makeEvent(kA, "", 0)).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(s().appendEvent(makeEvent({"", "", "x"}, "R", 0)).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(s().listEvents({.object = std::nullopt, .sinceId = 0, .limit = 0}).error().code,
            ErrorCode::kInvalidArgument);
}

TEST_P(StoreConformanceTest, EventLogKeepsAtLeastTheRetainedMostRecentEvents) {
  open(StoreConfig{.changeLogRetention = kDefaultChangeLogRetention, .eventRetention = 16});
  int64_t last = 0;
  for (int i = 0; i < 200; ++i) {
    last = *s().appendEvent(makeEvent(kA, "R" + std::to_string(i), i));
  }
  auto all = s().listEvents({.object = std::nullopt, .sinceId = 0, .limit = 1000});
  ASSERT_TRUE(all);
  EXPECT_GE(all->size(), 16u);
  if (GetParam().dropsOldEvents) {
    EXPECT_LT(all->size(), 40u);  // old events are dropped
  } else {
    EXPECT_EQ(all->size(), 200u);  // still listed (from the API server), in order
    for (size_t i = 1; i < all->size(); ++i) EXPECT_LT((*all)[i - 1].id, (*all)[i].id);
    EXPECT_EQ(all->front().reason, "R0");
    auto about = s().listEvents({.object = kA, .sinceId = (*all)[9].id, .limit = 5});
    ASSERT_TRUE(about) << about.error().message;
    ASSERT_EQ(about->size(), 5u);  // past the window, from the API server: the same ids
    for (size_t i = 0; i < 5; ++i) EXPECT_EQ((*about)[i].id, (*all)[10 + i].id);
  }
  EXPECT_EQ(all->back().id, last);
  // The newest 16 are all there, consecutive.
  for (size_t i = all->size() - 16; i < all->size(); ++i) {
    EXPECT_EQ((*all)[i].id, last - int64_t(all->size() - 1 - i));
  }
}

// --- leases ---

TEST_P(StoreConformanceTest, LeaseAcquireRenewAndExpiry) {
  const Duration ttl = milliseconds(15'000);
  auto l = s().acquireLease("leader", "p1", ttl, at(0));
  ASSERT_TRUE(l) << l.error().message;
  EXPECT_EQ(l->holder, "p1");
  EXPECT_EQ(l->expiresAt, at(15'000));
  EXPECT_EQ(l->transitions, 0);

  // Another holder cannot take a valid lease.
  auto other = s().acquireLease("leader", "p2", ttl, at(14'999));
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, ErrorCode::kConflict);
  EXPECT_NE(other.error().message.find("p1"), std::string::npos);
  EXPECT_EQ(s().renewLease("leader", "p2", ttl, at(1)).error().code, ErrorCode::kConflict);

  // The holder renews (explicitly, or by acquiring again).
  auto r = s().renewLease("leader", "p1", ttl, at(10'000));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->expiresAt, at(25'000));
  EXPECT_EQ(r->acquiredAt, at(0));
  EXPECT_EQ(r->renewedAt, at(10'000));
  auto again = s().acquireLease("leader", "p1", ttl, at(20'000));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->expiresAt, at(35'000));
  EXPECT_EQ(again->acquiredAt, at(0));
  EXPECT_FALSE(s().acquireLease("leader", "p2", ttl, at(34'999)));

  // After expiry the holder may not renew; it must acquire again.
  auto late = s().renewLease("leader", "p1", ttl, at(35'000));
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, ErrorCode::kFailedPrecondition);
}

TEST_P(StoreConformanceTest, ExpiredLeaseCanBeStolen) {
  const Duration ttl = milliseconds(1000);
  ASSERT_TRUE(s().acquireLease("leader", "p1", ttl, at(0)));
  auto stolen = s().acquireLease("leader", "p2", ttl, at(1000));
  ASSERT_TRUE(stolen) << stolen.error().message;
  EXPECT_EQ(stolen->holder, "p2");
  EXPECT_EQ(stolen->acquiredAt, at(1000));
  EXPECT_EQ(stolen->transitions, 1);
  // The old holder has lost it.
  EXPECT_EQ(s().renewLease("leader", "p1", ttl, at(1001)).error().code, ErrorCode::kConflict);
  EXPECT_EQ(s().releaseLease("leader", "p1", at(1001)).error().code, ErrorCode::kConflict);
  EXPECT_TRUE(s().renewLease("leader", "p2", ttl, at(1500)));
}

TEST_P(StoreConformanceTest, ReleasedLeaseIsFreeAtOnce) {
  const Duration ttl = milliseconds(1000);
  ASSERT_TRUE(s().acquireLease("leader", "p1", ttl, at(0)));
  ASSERT_TRUE(s().releaseLease("leader", "p1", at(10)));
  EXPECT_TRUE(s().releaseLease("leader", "p1", at(11)));  // idempotent
  EXPECT_EQ(s().renewLease("leader", "p1", ttl, at(12)).error().code,
            ErrorCode::kFailedPrecondition);
  auto l = s().acquireLease("leader", "p2", ttl, at(20));
  ASSERT_TRUE(l) << l.error().message;
  EXPECT_EQ(l->holder, "p2");
  EXPECT_EQ(l->transitions, 1);
}

TEST_P(StoreConformanceTest, LeasesAreIndependentAndValidated) {
  const Duration ttl = milliseconds(1000);
  ASSERT_TRUE(s().acquireLease("a", "p1", ttl, at(0)));
  ASSERT_TRUE(s().acquireLease("b", "p2", ttl, at(0)));
  EXPECT_EQ(s().renewLease("missing", "p1", ttl, at(0)).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(s().releaseLease("missing", "p1", at(0)).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(s().acquireLease("", "p1", ttl, at(0)).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(s().acquireLease("a", "", ttl, at(0)).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(s().acquireLease("c", "p1", milliseconds(0), at(0)).error().code,
            ErrorCode::kInvalidArgument);
}

// --- the audit log ---

Event audited(const ObjectKey& k, int64_t index, std::string entry) {
  Event e;
  e.time = at(index);
  e.object = k;
  e.reason = "RolloutPromoted";
  e.auditLeafHash = "hash-of-" + entry;
  e.auditEntry = std::move(entry);
  e.auditIndex = index;
  return e;
}

TEST_P(StoreConformanceTest, AuditRecordsAreWrittenWithTheirEventsInOrder) {
  if (!keepsAuditLog()) GTEST_SKIP() << "this store keeps no audit log (kUnsupported)";
  EXPECT_EQ(*s().auditSize(), 0);
  int64_t a = create(kA, R"({"n":1})");
  std::vector<WriteOp> ops = {{WriteOp::Type::kPut, kA, R"({"n":2})", a}};
  Event plain;
  plain.time = at(0);
  plain.object = kA;
  plain.reason = "NoRecord";
  auto w = s().writeWithEvents(
      ops, std::vector<Event>{audited(kA, 0, "r0"), plain, audited(kB, 1, "r1")});
  ASSERT_TRUE(w) << w.error().message;
  ASSERT_TRUE(s().appendEvent(audited(kA, 2, "r2")));
  EXPECT_EQ(*s().auditSize(), 3);
  auto all = s().listAuditRecords({});
  ASSERT_TRUE(all) << all.error().message;
  ASSERT_EQ(all->size(), 3u);
  for (int64_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*all)[i].index, i);
    EXPECT_EQ((*all)[i].entry, "r" + std::to_string(i));
    EXPECT_EQ((*all)[i].leafHash, "hash-of-r" + std::to_string(i));
    EXPECT_EQ((*all)[i].time, at(i));
  }
  EXPECT_EQ((*all)[0].eventId, w->eventIds[0]);
  EXPECT_EQ((*all)[1].eventId, w->eventIds[2]);
  EXPECT_EQ((*all)[1].object, kB);
  // Events do not echo their records.
  auto events = s().listEvents({});
  ASSERT_TRUE(events);
  for (const Event& e : *events) EXPECT_TRUE(e.auditEntry.empty());

  AuditQuery ofA;
  ofA.object = kA;
  auto onlyA = s().listAuditRecords(ofA);
  ASSERT_TRUE(onlyA);
  ASSERT_EQ(onlyA->size(), 2u);
  EXPECT_EQ((*onlyA)[1].index, 2);
  AuditQuery page;
  page.fromIndex = 1;
  page.limit = 1;
  EXPECT_EQ(s().listAuditRecords(page)->front().index, 1);
  page.limit = 0;
  EXPECT_EQ(s().listAuditRecords(page).error().code, ErrorCode::kInvalidArgument);
}

TEST_P(StoreConformanceTest, AnAuditRecordMustTakeTheIndexItNames) {
  if (!keepsAuditLog()) GTEST_SKIP() << "this store keeps no audit log (kUnsupported)";
  ASSERT_TRUE(s().appendEvent(audited(kA, 0, "r0")));
  auto stale = s().appendEvent(audited(kA, 0, "again"));
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(stale.error().message.find("audit log has 1 records"), std::string::npos)
      << stale.error().message;
  EXPECT_EQ(*s().auditSize(), 1);
  Event half = audited(kA, 1, "r1");
  half.auditLeafHash.clear();
  EXPECT_EQ(s().appendEvent(half).error().code, ErrorCode::kInvalidArgument);
}

TEST_P(StoreConformanceTest, RecordsAppendedAloneAreLinkedToTheirEventsAndNotAppendedAgain) {
  if (!keepsAuditLog()) GTEST_SKIP() << "this store keeps no audit log (kUnsupported)";
  if (auto probe = s().appendAuditRecords({}); !probe) {
    // Transactional stores append records with their decisions; the audit layer refuses a store
    // without transactions that cannot (the sequential test decorator over memory and SQLite).
    EXPECT_EQ(probe.error().code, ErrorCode::kUnsupported);
    GTEST_SKIP() << "this store does not append records alone (kUnsupported)";
  }
  // As the audit layer writes to a store without transactions: the records of two decisions in
  // one call, then each decision with its events.
  int64_t a = create(kA, R"({"n":1})");
  std::vector<Event> records = {audited(kA, 0, "r0"), audited(kB, 1, "r1")};
  ASSERT_TRUE(s().appendAuditRecords(records));
  EXPECT_EQ(*s().auditSize(), 2);
  EXPECT_EQ(s().appendAuditRecords(std::vector<Event>{audited(kA, 1, "again")}).error().code,
            ErrorCode::kFailedPrecondition);
  Event invalid = audited(kA, 2, "r2");
  invalid.reason.clear();
  EXPECT_EQ(s().appendAuditRecords(std::vector<Event>{invalid}).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(*s().auditSize(), 2);
  for (Event& e : records) e.auditAppended = true;
  ASSERT_TRUE(s().appendAuditRecords(records));  // appended already: nothing again
  EXPECT_EQ(*s().auditSize(), 2);
  std::vector<WriteOp> ops = {{WriteOp::Type::kPut, kA, R"({"n":2})", a}};
  auto w = s().writeWithEvents(ops, std::span(&records[0], 1));
  ASSERT_TRUE(w) << w.error().message;
  auto id = s().appendEvent(records[1]);
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(*s().auditSize(), 2);
  auto all = s().listAuditRecords({});
  ASSERT_TRUE(all) << all.error().message;
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].entry, "r0");
  EXPECT_EQ((*all)[1].entry, "r1");
  EXPECT_EQ((*all)[0].eventId, w->eventIds[0]);
  EXPECT_EQ((*all)[1].eventId, *id);
}

TEST_P(StoreConformanceTest, CheckpointsGrowAndNeverOutrunTheLog) {
  if (!keepsAuditLog()) {  // then checkpoints are refused too, never silently dropped
    EXPECT_EQ(s().listAuditCheckpoints().error().code, ErrorCode::kUnsupported);
    EXPECT_EQ(s().appendAuditCheckpoint({0, "root", "note", at(0)}).error().code,
              ErrorCode::kUnsupported);
    return;
  }
  ASSERT_TRUE(s().listAuditCheckpoints());
  EXPECT_TRUE(s().listAuditCheckpoints()->empty());
  ASSERT_TRUE(s().appendEvent(audited(kA, 0, "r0")));
  ASSERT_TRUE(s().appendEvent(audited(kA, 1, "r1")));
  EXPECT_EQ(s().appendAuditCheckpoint({3, "root", "note", at(0)}).error().code,
            ErrorCode::kFailedPrecondition);  // only 2 records
  EXPECT_EQ(s().appendAuditCheckpoint({1, "", "note", at(0)}).error().code,
            ErrorCode::kInvalidArgument);
  ASSERT_TRUE(s().appendAuditCheckpoint({1, "root1", "note1", at(1)}));
  EXPECT_EQ(s().appendAuditCheckpoint({1, "root1", "again", at(1)}).error().code,
            ErrorCode::kFailedPrecondition);  // does not grow
  ASSERT_TRUE(s().appendAuditCheckpoint({2, "root2", "note2", at(2)}));
  auto cps = s().listAuditCheckpoints();
  ASSERT_TRUE(cps);
  ASSERT_EQ(cps->size(), 2u);
  EXPECT_EQ((*cps)[0].size, 1);
  EXPECT_EQ((*cps)[1].rootHash, "root2");
  EXPECT_EQ((*cps)[1].note, "note2");
  EXPECT_EQ((*cps)[1].time, at(2));
}

TEST_P(StoreConformanceTest, AuditRecordsAreNeverPrunedWithEvents) {
  if (!keepsAuditLog()) GTEST_SKIP() << "this store keeps no audit log (kUnsupported)";
  open(StoreConfig{kDefaultChangeLogRetention, /*eventRetention=*/2});
  for (int64_t i = 0; i < 40; ++i) ASSERT_TRUE(s().appendEvent(audited(kA, i, "r")));
  if (GetParam().dropsOldEvents) EXPECT_LE(s().listEvents({})->size(), 4u);
  EXPECT_EQ(s().listAuditRecords({})->size(), 40u);
}

// --- transactional stores only (memory, SQLite): a batch is one transaction ---

// Stores that apply a batch atomically (store/common/batch_state_store.h). The narrower contract
// above is all a store without transactions (Kubernetes) gives; these tests are what the memory
// and SQLite stores add to it.
class TransactionalStoreTest : public StoreConformanceTest {};

TEST_P(TransactionalStoreTest, BatchIsAllOrNothing) {
  int64_t a = create(kA, R"({"n":1})");
  const int64_t before = *s().currentRevision();
  std::vector<WriteOp> ops = {
      {WriteOp::Type::kPut, kB, R"({"n":1})", 0},
      {WriteOp::Type::kPut, {"Rollout", "default", "c"}, "{}", 0},
      {WriteOp::Type::kPut, kA, R"({"n":2})", a + 50},  // stale
  };
  auto r = s().write(ops);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kConflict);
  EXPECT_EQ(r.error().message.rfind("op 2: ", 0), 0u) << r.error().message;
  EXPECT_EQ(*s().currentRevision(), before);
  EXPECT_FALSE(s().get(kB));
  EXPECT_EQ(s().get(kA)->json, R"({"n":1})");
  EXPECT_TRUE(s().changesSince(before, 10)->empty());

  ops[2].expectedVersion = a;
  auto ok = s().write(ops);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(*ok, (std::vector<int64_t>{before + 1, before + 2, before + 3}));
  EXPECT_EQ(s().get(kA)->json, R"({"n":2})");
  EXPECT_EQ(s().get(kB)->version, before + 1);
}

TEST_P(TransactionalStoreTest, WriteWithEventsIsAllOrNothing) {
  int64_t a = create(kA, R"({"n":1})");
  const int64_t before = *s().currentRevision();
  Event e;
  e.time = Time(Duration(1000));
  e.object = kA;
  e.reason = "RolloutStepCompleted";
  std::vector<WriteOp> ops = {{WriteOp::Type::kPut, kB, "{}", 0},
                              {WriteOp::Type::kPut, kA, R"({"n":2})", a + 9}};  // stale
  auto lost = s().writeWithEvents(ops, std::vector<Event>{e});
  ASSERT_FALSE(lost);
  EXPECT_EQ(lost.error().message.rfind("op 1: ", 0), 0u) << lost.error().message;
  EXPECT_FALSE(s().get(kB));
  EXPECT_EQ(*s().currentRevision(), before);
  EXPECT_TRUE(s().listEvents({})->empty());
}

TEST_P(TransactionalStoreTest, AuditRecordsLandWithTheBatchOrNotAtAll) {
  int64_t a = create(kA, R"({"n":1})");
  std::vector<WriteOp> stale = {{WriteOp::Type::kPut, kA, R"({"n":2})", a + 9}};
  EXPECT_FALSE(s().writeWithEvents(stale, std::vector<Event>{audited(kA, 0, "r0")}));
  EXPECT_EQ(*s().auditSize(), 0);
  // A record naming the wrong index stops the whole batch, ops included.
  std::vector<WriteOp> ok = {{WriteOp::Type::kPut, kA, R"({"n":2})", a}};
  auto wrong =
      s().writeWithEvents(ok, std::vector<Event>{audited(kA, 0, "r0"), audited(kA, 5, "r1")});
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(s().get(kA)->json, R"({"n":1})");
  EXPECT_EQ(*s().auditSize(), 0);
  EXPECT_TRUE(s().listEvents({})->empty());
}

#ifdef RAMP_STORE_CONFORMANCE_KUBERNETES
// ramp_store_kube_test: the suite against store.kubernetes on a real API server. It has no
// multi-object transactions, so TransactionalStoreTest does not apply to it.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(TransactionalStoreTest);
INSTANTIATE_TEST_SUITE_P(KubernetesStore, StoreConformanceTest,
                         ::testing::Values(kubernetesFactory()),
                         [](const ::testing::TestParamInfo<StoreFactory>& info) {
                           return info.param.name;
                         });
#else
INSTANTIATE_TEST_SUITE_P(TransactionalStores, TransactionalStoreTest,
                         ::testing::Values(memoryFactory(), sqliteFactory()),
                         [](const ::testing::TestParamInfo<StoreFactory>& info) {
                           return info.param.name;
                         });

// Every store, and the memory and SQLite stores written one object at a time: the contract a
// store without multi-object transactions (Kubernetes) must meet.
INSTANTIATE_TEST_SUITE_P(AllStores, StoreConformanceTest,
                         ::testing::Values(memoryFactory(), sqliteFactory(),
                                           sequentialFactory(memoryFactory()),
                                           sequentialFactory(sqliteFactory())),
                         [](const ::testing::TestParamInfo<StoreFactory>& info) {
                           return info.param.name;
                         });
#endif

}  // namespace
}  // namespace ramp::store::testing
