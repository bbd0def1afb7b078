// The Kubernetes store's pure parts (src/store/kubernetes/object_mirror.h, custom_resources.h):
// how observations from its own writes and its watches order into revisions, and what it sends
// to and reads from the API server. The store itself runs the conformance suite against a real
// cluster (kubernetes_conformance.cc).

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "store/kubernetes/audit_log.h"
#include "store/kubernetes/custom_resources.h"
#include "store/kubernetes/object_mirror.h"

namespace ramp::store::kubernetes {
namespace {

using nlohmann::json;

const ObjectKey kA{"Rollout", "default", "a"};
const ObjectKey kB{"Rollout", "default", "b"};
// Long enough to be kept deflated.
const std::string kRolloutText =
    R"({"apiVersion":"argoproj.io/v1alpha1","kind":"Rollout","metadata":{"name":"a",)"
    R"("namespace":"default","resourceVersion":"60"},"spec":{"replicas":1,"strategy":)"
    R"({"canary":{"steps":[{"setWeight":50},{"pause":{"duration":"10s"}}]}}},"status":)"
    R"({"phase":"Healthy","message":"","observedGeneration":"2","replicas":1}})";

Time at(int64_t ms) { return Time(Duration(1'767'225'600'000 + ms)); }

// --- ObjectMirror ---

// One observation and what the mirror must make of it.
struct Step {
  const char* what;
  bool deleted;
  ObjectKey key;
  int64_t resourceVersion;
  std::optional<int64_t> change;  // the revision of the change recorded, nullopt = none
  int64_t version;                // Observed::version
};

TEST(ObjectMirrorTest, OrdersOwnWritesAndWatchEventsByResourceVersion) {
  ObjectMirror m(100);
  // Loaded before start: version = resourceVersion, no change.
  EXPECT_EQ(m.observePut(kA, R"({"n":0})", 40).version, 40);
  m.start(50);
  EXPECT_EQ(m.revision(), 50);
  const std::vector<Step> steps = {
      {"own write of a", false, kA, 60, 51, 51},
      {"its watch echo", false, kA, 60, std::nullopt, 51},
      {"an older state of a arriving late", false, kA, 55, std::nullopt, 0},
      {"another client's write of b", false, kB, 61, 52, 52},
      {"b written again", false, kB, 63, 53, 53},
      {"b's older state from the watch: its change is still in the log", false, kB, 61,
       std::nullopt, 52},
      {"own delete of a", true, kA, 64, 54, 54},
      {"its watch echo", true, kA, 64, std::nullopt, 54},
      {"the delete's reply, with a's last resourceVersion, after the echo", true, kA, 60,
       std::nullopt, 54},
      {"a's last put arriving after the delete", false, kA, 60, std::nullopt, 0},
      {"a created again", false, kA, 70, 55, 55},
      {"a relist's synthetic delete (the last known resourceVersion)", true, kA, 70, 56, 56},
  };
  for (const Step& s : steps) {
    auto o = s.deleted ? m.observeDelete(s.key, s.resourceVersion)
                       : m.observePut(s.key, "{}", s.resourceVersion);
    EXPECT_EQ(o.change ? std::optional(o.change->revision) : std::nullopt, s.change) << s.what;
    EXPECT_EQ(o.version, s.version) << s.what;
  }
  EXPECT_EQ(m.find(kA), nullptr);
  EXPECT_EQ(m.find(kB)->version, 53);
  auto changes = m.changesSince(50, 100);
  ASSERT_TRUE(changes);
  ASSERT_EQ(changes->size(), 6u);
  EXPECT_EQ((*changes)[3].type, ChangeType::kDelete);
  EXPECT_EQ(m.list("Rollout", "").items.size(), 1u);
}

// Everything the mirror answers, for comparing two mirrors.
std::string answers(const ObjectMirror& m) {
  std::string out = "revision " + std::to_string(m.revision()) + ", highest " +
                    std::to_string(m.highestResourceVersion()) + "\n";
  for (const ObjectKey& key : {kA, kB}) {
    const MirrorEntry* e = m.find(key);
    out += key.toString() + ": " +
           (e ? e->json() + " rv " + std::to_string(e->resourceVersion) + " version " +
                    std::to_string(e->version)
              : std::string("absent")) +
           "\n";
  }
  for (const std::string& k : m.informerKeys("Rollout")) out += "informer key " + k + "\n";
  for (const StoredObject& o : m.list("Rollout", "").items) {
    out += "listed " + o.key.toString() + " " + o.json + " " + std::to_string(o.version) + "\n";
  }
  for (int64_t from = m.revision() - 5; from <= m.revision(); ++from) {
    auto changes = m.changesSince(from, 100);
    out += "since " + std::to_string(from) + ":";
    if (!changes) {
      out += " too old\n";
      continue;
    }
    for (const Change& c : *changes) {
      out += " " + std::to_string(c.revision) +
             (c.type == ChangeType::kPut ? " put " : " delete ") + c.key.toString() + " " + c.json;
    }
    out += "\n";
  }
  return out;
}

// A repack (what the store does once the controller is quiet) makes the objects, the deletes
// seen and the change log again: a mirror repacked after every observation answers every
// observation and every question as one never repacked.
TEST(ObjectMirrorTest, ARepackChangesNothingItAnswers) {
  ObjectMirror plain(3);
  ObjectMirror repacked(3);
  auto both = [&](auto&& observe) {
    const auto a = observe(plain);
    const auto b = observe(repacked);
    repacked.repack();
    EXPECT_EQ(a.change ? a.change->revision : -1, b.change ? b.change->revision : -1);
    EXPECT_EQ(a.change ? a.change->json : "", b.change ? b.change->json : "");
    EXPECT_EQ(a.version, b.version);
    EXPECT_EQ(answers(plain), answers(repacked));
  };
  const std::string longName(40, 'n');  // a key whose name is not kept in place
  const ObjectKey kLong{"Rollout", "default", longName};
  both([&](ObjectMirror& m) { return m.observePut(kA, R"({"loaded":true})", 40); });
  plain.start(50);
  repacked.start(50);
  repacked.repack();
  EXPECT_EQ(answers(plain), answers(repacked));
  both([&](ObjectMirror& m) { return m.observePut(kA, kRolloutText, 60); });
  both([&](ObjectMirror& m) { return m.observePut(kA, kRolloutText, 60); });  // its echo
  both([&](ObjectMirror& m) { return m.observePut(kB, "", 61); });
  both([&](ObjectMirror& m) { return m.observePut(kLong, R"({"long":1})", 62); });
  both([&](ObjectMirror& m) { return m.observeDelete(kA, 63); });
  both([&](ObjectMirror& m) { return m.observePut(kA, R"({"late":1})", 60); });  // before delete
  both([&](ObjectMirror& m) { return m.observeDelete(kA, 60); });  // the delete's reply
  both([&](ObjectMirror& m) { return m.observePut(kB, R"({"b":2})", 64); });
  both([&](ObjectMirror& m) { return m.observePut(kB, R"({"b":1})", 61); });  // still logged?
  both([&](ObjectMirror& m) { return m.observePut(kA, R"({"again":1})", 65); });
  EXPECT_NE(repacked.find(kLong), nullptr);
  EXPECT_EQ(repacked.find(kLong)->json(), R"({"long":1})");
}

// What a relist compares its list with: the held objects of one kind, keyed as the informer
// keys them.
TEST(ObjectMirrorTest, InformerKeysOfAKind) {
  ObjectMirror m(10);
  m.observePut(ObjectKey{"Rollout", "shop", "b"}, "{}", 1);
  m.observePut(ObjectKey{"Rollout", "default", "a"}, "{}", 2);
  m.observePut(ObjectKey{"ClusterAnalysisTemplate", "", "rate"}, "{}", 3);
  m.observePut(ObjectKey{"AnalysisRun", "shop", "r"}, "{}", 4);
  EXPECT_EQ(m.informerKeys("Rollout"), (std::vector<std::string>{"default/a", "shop/b"}));
  EXPECT_EQ(m.informerKeys("ClusterAnalysisTemplate"), std::vector<std::string>{"rate"});
  m.observeDelete(ObjectKey{"AnalysisRun", "shop", "r"}, 5);
  EXPECT_TRUE(m.informerKeys("AnalysisRun").empty());
}

TEST(ObjectMirrorTest, StartsAboveEveryLoadedVersionAndRejectsOlderRevisions) {
  ObjectMirror m(2);
  m.observePut(kA, "{}", 90);  // loaded with a resourceVersion above the base asked for
  m.start(80);
  EXPECT_EQ(m.revision(), 90);
  EXPECT_EQ(m.observePut(kB, "{}", 95).version, 91);
  ASSERT_FALSE(m.changesSince(89, 10));  // before the start: too old
  EXPECT_EQ(m.changesSince(89, 10).error().code, ErrorCode::kFailedPrecondition);
  m.observePut(kB, "{}", 96);
  m.observePut(kB, "{}", 97);  // retention 2: revision 91 is compacted
  EXPECT_FALSE(m.changesSince(90, 10));
  EXPECT_EQ(m.changesSince(91, 10)->size(), 2u);
  EXPECT_FALSE(m.changesSince(94, 10));  // ahead of the store
}

// What the window answers: a list it holds whole (asserted).
std::vector<Event> listed(const EventMirror& m, const EventQuery& query = {}) {
  auto got = m.list(query);
  EXPECT_TRUE(got) << "the window should answer a list from id " << query.sinceId;
  return got ? *got : std::vector<Event>{};
}

TEST(EventMirrorTest, NumbersEventsOnceAndKeepsTheNewest) {
  EventMirror m(3);
  Event e;
  e.object = kA;
  e.reason = "Loaded";
  EXPECT_EQ(m.observe("default/a.1", e, 30), 30);
  m.start(40);
  EXPECT_EQ(m.base(), 40);
  e.reason = "New";
  EXPECT_EQ(m.observe("default/a.2", e, 45), 41);
  EXPECT_EQ(m.observe("default/a.2", e, 45), 41);  // the watch's echo of an append
  EXPECT_EQ(m.observe("default/b.1", e, 46), 42);
  EXPECT_EQ(m.observe("default/b.2", e, 47), 43);  // a window of 3: the loaded one goes
  EXPECT_FALSE(m.list(EventQuery{})) << "the window let go of 30: ask the API server";
  EXPECT_FALSE(m.list(EventQuery{.object = kB, .sinceId = 29, .limit = 10}));
  EXPECT_FALSE(m.holds("default/a.1"));
  auto all = listed(m, {.object = std::nullopt, .sinceId = 30, .limit = 1000});
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all.front().id, 41);
  EXPECT_EQ(listed(m, {.object = kA, .sinceId = 30, .limit = 10}).size(), 3u);
  EXPECT_EQ(listed(m, {.object = kB, .sinceId = 30, .limit = 10}).size(), 0u);
  EXPECT_EQ(listed(m, {.object = std::nullopt, .sinceId = 42, .limit = 10}).size(), 1u);
  EXPECT_EQ(m.held(std::nullopt).size(), 3u);
}

TEST(EventMirrorTest, ARepeatFoldedIntoAnEventTakesANewIdAndReplacesTheOld) {
  EventMirror m(10);
  m.start(100);
  Event e;
  e.object = kA;
  e.reason = "ScalingReplicaSet";
  const int64_t first = m.observe("default/a-x", e, 5);
  std::string name;
  ASSERT_TRUE(m.newestAbout(kA, &name));
  EXPECT_EQ(name, "default/a-x");
  EXPECT_EQ(m.newestAbout(kA, nullptr)->reason, "ScalingReplicaSet");
  EXPECT_FALSE(m.newestAbout(kB, nullptr));
  e.count = 2;
  const int64_t second = m.observe("default/a-x", e, 6);
  EXPECT_GT(second, first);
  EXPECT_EQ(m.observe("default/a-x", e, 6), second) << "the watch's echo of the same count";
  Event stale = e;
  stale.count = 1;
  EXPECT_EQ(m.observe("default/a-x", stale, 5), second)
      << "the watch's late echo of the older state does not undo the newer count";
  EXPECT_EQ(listed(m).front().count, e.count);
  auto all = listed(m);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].id, second);
  EXPECT_EQ(all[0].replaces, first);
  EXPECT_EQ(all[0].count, 2);
}

// The store's own writes are listed before the server has them (record), and no watch echo
// undoes them until the server's reply is known (confirm); then observe()'s rules hold again.
TEST(EventMirrorTest, RecordedEventsAreListedAtOnceAndConfirmedByTheReply) {
  EventMirror m(10);
  m.start(100);
  Event e;
  e.object = kA;
  e.reason = "ScalingReplicaSet";
  const int64_t first = m.record("default/a.1", e);
  EXPECT_EQ(first, 101);
  ASSERT_EQ(listed(m).size(), 1u);
  EXPECT_EQ(m.observe("default/a.1", e, 7), first) << "the watch's echo of the create";
  e.count = 2;
  const int64_t second = m.record("default/a.1", e);  // a repeat, folded before the create's reply
  EXPECT_EQ(listed(m).front().replaces, first);
  Event older = e;
  older.count = 1;
  EXPECT_EQ(m.observe("default/a.1", older, 7), second)
      << "an echo of the server's state before the fold does not undo it while it is pending";
  m.confirm("default/a.1", 1, 7);  // the create's reply: another state than the one held
  EXPECT_EQ(m.observe("default/a.1", older, 8), second);
  m.confirm("default/a.1", 2, 9);  // the fold's reply
  EXPECT_EQ(m.observe("default/a.1", older, 8), second) << "older than the confirmed state";
  e.count = 3;
  const int64_t third = m.observe("default/a.1", e, 10);  // another writer's newer repeat
  EXPECT_GT(third, second);
  EXPECT_EQ(listed(m).front().count, 3);
  m.forget("default/a.1");  // a write given up: no longer listed
  EXPECT_TRUE(listed(m).empty());
}

// Events are kept deflated but for their time and object: every field reads back as written,
// and the newest event about each object is known without a scan, also as old ones are trimmed.
TEST(EventMirrorTest, KeepsEveryFieldAndTheNewestPerObjectAsItTrims) {
  EventMirror m(2);
  m.start(10);
  Event e;
  e.object = kA;
  e.time = Time(Duration(1'700'000'000'123));
  e.firstTime = Time(Duration(1'700'000'000'001));
  e.type = EventType::kWarning;
  e.reason = "AnalysisRunFailed";
  e.message = "metric \"errors\" failed: 0.31 > 0.05";
  e.evidence = R"({"metric":"errors","value":"0.31"})";
  e.actor = "controller";
  e.count = 3;
  const int64_t a1 = m.observe("default/a.1", e, 1);
  auto back = listed(m);
  ASSERT_EQ(back.size(), 1u);
  Event want = e;
  want.id = a1;
  EXPECT_EQ(back[0].id, want.id);
  EXPECT_EQ(back[0].time, want.time);
  EXPECT_EQ(back[0].firstTime, want.firstTime);
  EXPECT_EQ(back[0].object, want.object);
  EXPECT_EQ(back[0].type, want.type);
  EXPECT_EQ(back[0].reason, want.reason);
  EXPECT_EQ(back[0].message, want.message);
  EXPECT_EQ(back[0].evidence, want.evidence);
  EXPECT_EQ(back[0].actor, want.actor);
  EXPECT_EQ(back[0].count, want.count);
  EXPECT_EQ(back[0].replaces, 0);

  e.type = EventType::kNormal;
  e.count = 1;
  e.object = kB;
  e.reason = "B1";
  m.observe("default/b.1", e, 2);
  e.object = kA;
  e.reason = "A2";
  const int64_t a2 = m.observe("default/a.2", e, 3);  // a window of 2: a.1 goes
  std::string name;
  ASSERT_TRUE(m.newestAbout(kA, &name));
  EXPECT_EQ(m.newestAbout(kA, nullptr)->id, a2);
  EXPECT_EQ(name, "default/a.2");
  e.object = kB;
  e.reason = "B2";
  m.observe("default/b.2", e, 4);  // b.1 goes
  EXPECT_EQ(m.newestAbout(kB, nullptr)->reason, "B2");
  e.object = ObjectKey{"Rollout", "default", "c"};
  const int64_t c1 = m.observe("default/c.1", e, 5);  // a.2 leaves the window
  ASSERT_TRUE(m.newestAbout(kA, &name)) << "an object's newest stays for a repeat to fold into";
  EXPECT_EQ(name, "default/a.2");
  EXPECT_EQ(m.size(), 3u);
  EXPECT_FALSE(m.list({.object = kA, .sinceId = 0, .limit = 10}));
  EXPECT_EQ(listed(m, {.object = std::nullopt, .sinceId = a2, .limit = 10}).size(), 2u)
      << "a kept event is not listed by the window, which let go of its id";
  auto held = m.held(kA);
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(held[0].first, "default/a.2");
  EXPECT_EQ(held[0].second.id, a2);
  e.object = kA;
  e.reason = "A3";
  m.observe("default/a.3", e, 6);  // a's newer event: a.2 is no longer kept
  EXPECT_EQ(m.newestAbout(kA, nullptr)->reason, "A3");
  EXPECT_FALSE(m.holds("default/a.2"));
  m.forget("default/c.1");  // the API server expired it
  EXPECT_FALSE(m.holds("default/c.1"));
  EXPECT_EQ(listed(m, {.object = std::nullopt, .sinceId = c1 - 1, .limit = 10}).size(), 1u);
  m.forget("default/a.3");
  EXPECT_FALSE(m.newestAbout(kA, nullptr));
  m.forget("default/unknown");
}

// Everything an EventMirror answers about objects a, b and c, for comparing two mirrors.
std::string answers(const EventMirror& m) {
  const auto describe = [](const Event& e) {
    return std::to_string(e.id) + " " + e.object.toString() + " " + e.reason + " " + e.message +
           " count " + std::to_string(e.count) + " replaces " + std::to_string(e.replaces) +
           " at " + std::to_string(e.time.time_since_epoch().count());
  };
  std::string out = "size " + std::to_string(m.size()) + "\n";
  for (const auto& [name, e] : m.held(std::nullopt))
    out += "held " + name + ": " + describe(e) + "\n";
  for (int64_t since = 0; since < 12; since += 3) {
    auto listed = m.list({.object = std::nullopt, .sinceId = since, .limit = 100});
    out += "since " + std::to_string(since) + (listed ? ":" : ": ask the server");
    if (listed) {
      for (const Event& e : *listed) out += " [" + describe(e) + "]";
    }
    out += "\n";
  }
  for (const ObjectKey& key : {kA, kB, ObjectKey{"Rollout", "default", "c"}}) {
    std::string name;
    auto newest = m.newestAbout(key, &name);
    out += "newest " + key.toString() + ": " + (newest ? name + " " + describe(*newest) : "none") +
           "\n";
  }
  return out;
}

// A repack makes the events, the objects they are about and the index of their names again: a
// mirror repacked after every step answers as one never repacked, and goes on the same way
// (folding a repeat, trimming, confirming, forgetting).
TEST(EventMirrorTest, ARepackChangesNothingItAnswers) {
  EventMirror plain(/*window=*/2, /*seriesKept=*/2);
  EventMirror repacked(/*window=*/2, /*seriesKept=*/2);
  auto both = [&](auto&& step) {
    const int64_t a = step(plain);
    const int64_t b = step(repacked);
    repacked.repack();
    EXPECT_EQ(a, b);
    EXPECT_EQ(answers(plain), answers(repacked));
  };
  Event e;
  e.type = EventType::kNormal;
  e.message = std::string(200, 'm');  // long enough to be kept deflated
  e.time = Time(Duration(1'700'000'000'000));
  auto event = [&](const ObjectKey& object, const char* reason, int64_t count) {
    Event out = e;
    out.object = object;
    out.reason = reason;
    out.count = count;
    out.time += Duration(count * 1000);
    return out;
  };
  const ObjectKey kC{"Rollout", "default", "c"};
  both([&](EventMirror& m) { return m.observe("default/a.1", event(kA, "Loaded", 1), 5); });
  plain.start(10);
  repacked.start(10);
  both([&](EventMirror& m) { return m.observe("default/b.1", event(kB, "B1", 1), 11); });
  both([&](EventMirror& m) { return m.record("default/c.1", event(kC, "C1", 1)); });
  both([&](EventMirror& m) { return m.observe("default/a.1", event(kA, "Loaded", 2), 12); });
  both([&](EventMirror& m) {
    m.confirm("default/c.1", 1, 13);
    return int64_t{0};
  });
  both([&](EventMirror& m) { return m.observe("default/b.2", event(kB, "B2", 1), 14); });
  both([&](EventMirror& m) { return m.observe("default/c.1", event(kC, "C1", 1), 13); });
  both([&](EventMirror& m) {
    m.forget("default/b.1");
    return int64_t{0};
  });
  both([&](EventMirror& m) { return m.record("default/a.2", event(kA, "A2", 1)); });
  both([&](EventMirror& m) { return m.observe("default/c.2", event(kC, "C2", 3), 15); });
  EXPECT_GT(repacked.size(), 0u);
}

// Past the window, the newest events of only so many objects stay for repeats to fold into
// (client-go's correlator remembers 4,096 series): the oldest go first, never one not written.
TEST(EventMirrorTest, KeepsTheNewestOfOnlySoManyObjects) {
  EventMirror m(/*window=*/1, /*seriesKept=*/2);
  m.start(10);
  Event e;
  e.reason = "Done";
  std::vector<ObjectKey> objects;
  for (const char* name : {"a", "b", "c", "d"}) {
    objects.push_back(ObjectKey{"Rollout", "default", name});
    e.object = objects.back();
    m.observe(std::string("default/") + name + ".1", e, 20 + static_cast<int64_t>(objects.size()));
  }
  EXPECT_FALSE(m.newestAbout(objects[0], nullptr)) << "a's series is forgotten";
  EXPECT_TRUE(m.newestAbout(objects[1], nullptr)) << "kept past the window";
  EXPECT_TRUE(m.newestAbout(objects[2], nullptr)) << "kept past the window";
  EXPECT_TRUE(m.newestAbout(objects[3], nullptr)) << "the window's";
  EXPECT_EQ(m.size(), 3u);
  e.object = objects[0];
  m.record("default/a.2", e);  // not written yet: stays whatever the limit
  e.object = objects[1];
  m.record("default/b.2", e);
  e.object = objects[2];
  m.record("default/c.2", e);
  EXPECT_TRUE(m.holds("default/a.2"));
  EXPECT_TRUE(m.holds("default/b.2"));
  EXPECT_TRUE(m.holds("default/c.2")) << "the window's";
  EXPECT_FALSE(m.newestAbout(objects[3], nullptr))
      << "d's newest, written, made room for those not written";
  EXPECT_EQ(m.size(), 3u);
}

// The store's informer of Events keeps no keys, so a relist hands on every Event again: one that
// left the window is known by its resourceVersion, not newer than what the watch delivered.
TEST(EventMirrorTest, AnEventSeenAndLetGoIsNotTakenForANewOne) {
  EventMirror m(2);
  Event e;
  e.object = kA;
  e.reason = "Loaded";
  m.observe("default/a.1", e, 10);
  m.start(20);
  e.object = kB;
  m.observe("default/b.1", e, 21);  // 21 to 23: the watch, in order
  m.observe("default/b.2", e, 22);
  m.observe("default/b.3", e, 23);  // b.1 leaves the window
  EXPECT_FALSE(m.holds("default/b.1"));
  const size_t held = m.size();
  EXPECT_EQ(m.observe("default/b.1", e, 21), 0) << "the relist's copy of an Event let go";
  EXPECT_EQ(m.size(), held);
  EXPECT_NE(m.observe("default/b.3", e, 23), 0) << "one still held keeps its id";
  EXPECT_EQ(m.observe("default/c.1", e, 30), 24) << "a new one, newer than any observed";
  m.record("default/c.2", e);  // the store's own write, confirmed, then let go of
  m.confirm("default/c.2", 1, 31);
  m.record("default/c.3", e);
  m.record("default/c.4", e);
  ASSERT_FALSE(m.holds("default/c.2"));
  EXPECT_EQ(m.observe("default/c.2", e, 31, /*recordedHere=*/true), 0)
      << "the late echo of the store's own write";
  EXPECT_FALSE(m.holds("default/c.2"));
  EXPECT_NE(m.observe("default/d.1", e, 40, /*recordedHere=*/false), 0) << "another writer's";
}

// An event the store has not written yet is never let go: the API server cannot list it yet.
// Written (confirmed), it goes as any other, unless it is its object's newest.
TEST(EventMirrorTest, EventsNotWrittenYetStayPastTheWindow) {
  EventMirror m(1);
  m.start(100);
  Event e;
  e.object = kA;
  e.reason = "First";
  m.record("default/a.1", e);
  e.reason = "Second";
  m.record("default/a.2", e);
  e.reason = "Third";
  m.record("default/a.3", e);
  EXPECT_EQ(m.size(), 3u);
  EXPECT_EQ(m.held(kA).size(), 3u);
  EXPECT_FALSE(m.list({}));
  m.confirm("default/a.1", 1, 7);
  EXPECT_FALSE(m.holds("default/a.1"));
  m.confirm("default/a.3", 1, 9);
  EXPECT_TRUE(m.holds("default/a.3")) << "the window's";
  m.confirm("default/a.2", 1, 8);
  EXPECT_FALSE(m.holds("default/a.2"));
  EXPECT_EQ(m.size(), 1u);
}

// listEvents past the window: the API server's Events numbered as this run numbered them, or by
// resourceVersion; the held events stand for their Event objects.
TEST(EventMirrorTest, AListFromTheServerKeepsTheWindowsIds) {
  Event e;
  e.object = kA;
  e.time = Time(Duration(1'700'000'000'000));
  e.reason = "Old";
  e.id = 0;
  const std::string old = [&] {
    json b = json::parse(eventBody(e, "a.1", "h"));
    b["metadata"]["resourceVersion"] = "12";
    return b.dump();
  }();
  e.reason = "Ours";
  e.id = 105;
  const std::string ours = [&] {
    json b = json::parse(eventBody(e, "a.2", "h", "", "", /*idBase=*/100));
    b["metadata"]["resourceVersion"] = "250";
    return b.dump();
  }();
  const std::string previousRun = [&] {
    json b = json::parse(eventBody(e, "a.3", "h", "", "", /*idBase=*/50));
    b["metadata"]["resourceVersion"] = "90";
    return b.dump();
  }();
  e.reason = "Held";
  e.id = 107;
  e.count = 2;
  const std::string stale = [&] {
    json b = json::parse(eventBody(e, "a.4", "h", "", "", 100));
    b["metadata"]["resourceVersion"] = "260";
    return b.dump();
  }();
  Event held = e;
  held.count = 3;
  held.id = 108;
  Event other = e;
  other.object = kB;
  std::vector<std::string> server = {stale, ours, "{\"kind\":\"Event\"}", previousRun, old};
  auto got = mergeEvents({.object = kA, .sinceId = 0, .limit = 10}, server,
                         {{"default/a.4", held}, {"default/b.1", other}}, 100);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].reason, "Old");
  EXPECT_EQ(got[0].id, 12);
  EXPECT_EQ(got[1].id, 90) << "another run's id is not this run's";
  EXPECT_EQ(got[2].id, 105);
  EXPECT_EQ(got[2].reason, "Ours");
  EXPECT_EQ(got[3].id, 108);
  EXPECT_EQ(got[3].count, 3) << "the held state, newer than the server's";
  got = mergeEvents({.object = std::nullopt, .sinceId = 90, .limit = 2}, server,
                    {{"default/a.4", held}}, 100);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].id, 105);
  EXPECT_EQ(got[1].id, 108);
  EXPECT_EQ(eventIdOf(ours, 100), 105);
  EXPECT_FALSE(eventIdOf(ours, 101));
  EXPECT_FALSE(eventIdOf(old, 100));
  json patch = json::parse(eventSeriesPatch(held, 100));
  EXPECT_EQ(patch["metadata"]["annotations"][kEventIdAnnotation], "108@100");
  Event unnumbered = held;
  unnumbered.id = 0;
  EXPECT_FALSE(json::parse(eventSeriesPatch(unnumbered)).contains("metadata"));
}

// --- custom resources ---

TEST(CustomResourcesTest, KindsComeFromTheKindTable) {
  auto r = resourceFor("Rollout");
  ASSERT_TRUE(r);
  EXPECT_EQ(kube::collectionPath(*r, "shop"),
            "/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts");
  EXPECT_FALSE(resourceFor("ClusterAnalysisTemplate")->namespaced);
  EXPECT_FALSE(resourceFor("Experiment"));
  EXPECT_TRUE(checkKey(kA));
  EXPECT_EQ(checkKey({"Experiment", "default", "x"}).error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(checkKey({"Rollout", "", "x"}));
  EXPECT_FALSE(checkKey({"ClusterAnalysisTemplate", "default", "x"}));
  EXPECT_TRUE(checkKey({"ClusterAnalysisTemplate", "", "x"}));
}

TEST(CustomResourcesTest, BodyTakesIdentityFromTheKeyAndLeavesServerMetadataOut) {
  const std::string stored = R"({"apiVersion":"argoproj.io/v1alpha1","kind":"Rollout",
    "metadata":{"name":"other","namespace":"elsewhere","uid":"u1","generation":4,
    "resourceVersion":"12","creationTimestamp":"2026-01-01T00:00:00Z","labels":{"app":"web"},
    "managedFields":[{}]},"spec":{"replicas":3},"status":{"phase":"Healthy"}})";
  auto body = customResourceBody(kA, stored, "77");
  ASSERT_TRUE(body) << body.error().message;
  json j = json::parse(*body);
  EXPECT_EQ(j["metadata"], json::parse(R"({"name":"a","namespace":"default",
    "resourceVersion":"77","labels":{"app":"web"}})"));
  EXPECT_EQ(j["spec"]["replicas"], 3);
  EXPECT_EQ(j["status"]["phase"], "Healthy");
  auto cat = customResourceBody({"ClusterAnalysisTemplate", "", "t"}, "{}", "");
  EXPECT_EQ(json::parse(*cat)["metadata"], json::parse(R"({"name":"t"})"));
  EXPECT_EQ(json::parse(*cat)["kind"], "ClusterAnalysisTemplate");
  EXPECT_EQ(customResourceBody(kA, "[1]", "").error().code, ErrorCode::kInvalidArgument);

  // An update keeps the finalizers and owners ramp's model drops (a PUT replaces everything).
  const std::string owned = R"({"metadata":{"name":"a","finalizers":["x/y"],
    "ownerReferences":[{"kind":"Application","name":"app","uid":"u"}]},"spec":{}})";
  json update = json::parse(*customResourceBody(kA, R"({"spec":{"replicas":2}})", "8", owned));
  EXPECT_EQ(update["metadata"]["finalizers"], json::parse(R"(["x/y"])"));
  EXPECT_EQ(update["metadata"]["ownerReferences"][0]["name"], "app");
  EXPECT_EQ(planWrite(owned, R"({"spec":{}})"), (WritePlan{false, false}));
}

TEST(CustomResourcesTest, PlanWriteSendsOnlyWhatChanged) {
  const std::string base =
      R"({"metadata":{"name":"a","uid":"u","resourceVersion":"5","labels":{"x":"1"}},
          "spec":{"replicas":1},"status":{"phase":"Progressing"}})";
  struct Row {
    const char* what;
    std::string desired;
    WritePlan plan;
  };
  const std::vector<Row> rows = {
      {"the same object, as ramp writes it (no server metadata)",
       R"({"metadata":{"name":"a","labels":{"x":"1"}},"spec":{"replicas":1},
           "status":{"phase":"Progressing"}})",
       {false, false}},
      {"a new status",
       R"({"metadata":{"labels":{"x":"1"}},"spec":{"replicas":1},
           "status":{"phase":"Healthy"}})",
       {false, true}},
      {"a new spec",
       R"({"metadata":{"labels":{"x":"1"}},"spec":{"replicas":2},
           "status":{"phase":"Progressing"}})",
       {true, false}},
      {"a new label and status",
       R"({"metadata":{"labels":{"x":"2"}},"spec":{"replicas":1},
           "status":{"phase":"Healthy"}})",
       {true, true}},
      {"empty labels equal absent ones",
       R"({"metadata":{"labels":{"x":"1"},"annotations":{}},
           "spec":{"replicas":1},"status":{"phase":"Progressing"}})",
       {false, false}},
      {"defaults spelled out equal absent ones (a spec decoded and encoded again)",
       R"({"metadata":{"labels":{"x":"1"}},"spec":{"replicas":1,"paused":false,"note":""},
           "status":{"phase":"Progressing","abort":false}})",
       {false, false}},
      {"not JSON", "{", {true, true}},
  };
  for (const Row& r : rows) EXPECT_EQ(planWrite(base, r.desired), r.plan) << r.what;
}

TEST(CustomResourcesTest, ApiObjectsAreCheckedAndLoseManagedFields) {
  auto o = decodeApiObject(R"({"metadata":{"name":"a","namespace":"d","resourceVersion":"42",
    "managedFields":[{"manager":"x"}]},"spec":{}})",
                           "x");
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->resourceVersion, 42);
  EXPECT_EQ(o->namespace_, "d");
  EXPECT_EQ(o->json.find("managedFields"), std::string::npos);
  EXPECT_FALSE(o->deleting);
  for (const char* bad : {"", "[]", R"({"metadata":{"name":"a"}})",
                          R"({"metadata":{"name":"a","resourceVersion":"x1"}})",
                          R"({"metadata":{"resourceVersion":"1"}})"}) {
    auto r = decodeApiObject(bad, "rollouts.argoproj.io default/a");
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kParse);
    EXPECT_NE(r.error().message.find("default/a"), std::string::npos);
  }
}

TEST(CustomResourcesTest, MicroTimeHasSixFractionalDigits) {
  EXPECT_EQ(microTime(at(5)), "2026-01-01T00:00:00.005000Z");
  EXPECT_EQ(microTime(at(61'999)), "2026-01-01T00:01:01.999000Z");
}

TEST(CustomResourcesTest, EventsRoundTripWithEvidenceActorAndLongMessages) {
  Event e;
  e.time = at(1234);
  e.object = kA;
  e.type = EventType::kWarning;
  e.reason = "RolloutAborted";
  e.message = std::string(2000, 'm');
  e.evidence = R"({"weight":20})";
  e.actor = "alice";
  json body = json::parse(eventBody(e, "a.0000000000000001", "host-1"));
  EXPECT_EQ(body["note"].get<std::string>().size(), kNoteLimit);
  EXPECT_EQ(body["metadata"]["namespace"], "default");
  EXPECT_EQ(body["metadata"]["name"], "a.0000000000000001");
  EXPECT_FALSE(body.contains("series"));
  EXPECT_EQ(body["regarding"]["kind"], "Rollout");
  EXPECT_EQ(body["reportingInstance"], "host-1");
  EXPECT_EQ(body["metadata"]["labels"][kManagedByLabel], kManagedBy);
  EXPECT_FALSE(body["metadata"]["labels"].contains(kInstanceIdLabel));
  EXPECT_FALSE(body["regarding"].contains("uid"));
  // With an instance and the object's uid: labelled for that instance's informer, and found by
  // kubectl describe (which selects on involvedObject.uid).
  json labelled = json::parse(eventBody(e, "a.0000000000000001", "host-1", "shard-a", "0a1b-uid"));
  EXPECT_EQ(labelled["metadata"]["labels"][kInstanceIdLabel], "shard-a");
  EXPECT_EQ(labelled["regarding"]["uid"], "0a1b-uid");
  body["metadata"]["name"] = "a.xyz";
  auto back = eventFromApi(body.dump());
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->time, e.time);
  EXPECT_EQ(back->object, e.object);
  EXPECT_EQ(back->type, e.type);
  EXPECT_EQ(back->reason, e.reason);
  EXPECT_EQ(back->message, e.message);  // the whole message, from the annotation
  EXPECT_EQ(back->evidence, e.evidence);
  EXPECT_EQ(back->actor, e.actor);

  // A repeat folded into the Event: its series holds the count and the last time, eventTime
  // the first.
  json folded = body;
  folded["series"] = json::parse(eventSeriesPatch([&] {
    Event r = e;
    r.count = 3;
    r.time = at(9000);
    return r;
  }()))["series"];
  auto repeat = eventFromApi(folded.dump());
  ASSERT_TRUE(repeat) << repeat.error().message;
  EXPECT_EQ(repeat->count, 3);
  EXPECT_EQ(repeat->time, at(9000));
  EXPECT_EQ(repeat->firstTime, at(1234));
  // A repeat written whole (its Event had expired) carries the same series and first time.
  Event third = e;
  third.count = 3;
  third.firstTime = at(1234);
  third.time = at(9000);
  auto whole = eventFromApi(eventBody(third, "a.1", "host-1"));
  ASSERT_TRUE(whole) << whole.error().message;
  EXPECT_EQ(whole->count, 3);
  EXPECT_EQ(whole->time, at(9000));
  EXPECT_EQ(whole->firstTime, at(1234));
  EXPECT_EQ(back->count, 1);
  EXPECT_EQ(back->firstTime, at(1234));

  Event cluster = e;
  cluster.object = {"ClusterAnalysisTemplate", "", "t"};
  EXPECT_EQ(eventNamespace(cluster), "default");
  EXPECT_FALSE(json::parse(eventBody(cluster, "t.1", "h"))["regarding"].contains("namespace"));
  EXPECT_FALSE(eventFromApi(R"({"metadata":{"name":"x"},"reason":"R"})"));
}

// Event names as client-go makes them: the object's name, a dot, 16 hex digits; a name cut to
// 200 bytes ends in a letter or digit (the API server refuses "a..1" and "a-.1").
TEST(CustomResourcesTest, EventNamesAreTheObjectsNameAndAUniqueNumber) {
  Event e;
  e.object = {"Rollout", "shop", "web"};
  EXPECT_EQ(eventName(e, 0x18f2a), "web.0000000000018f2a");
  e.object.name = std::string(199, 'a') + ".b";
  EXPECT_EQ(eventName(e, 1), std::string(199, 'a') + ".0000000000000001");
  e.object.name = std::string(198, 'a') + "-x-y";
  EXPECT_EQ(eventName(e, 1), std::string(198, 'a') + "-x.0000000000000001");
}

TEST(CustomResourcesTest, InstanceSelectorIsArgosInstanceIdRequirement) {
  EXPECT_EQ(*instanceSelector(""), "!argo-rollouts.argoproj.io/controller-instance-id");
  EXPECT_EQ(*instanceSelector("shard-a"),
            "argo-rollouts.argoproj.io/controller-instance-id=shard-a");
  auto bad = instanceSelector("not a label value");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().message.find("--instance-id"), std::string::npos) << bad.error().message;
}

TEST(CustomResourcesTest, ObjectsAreLabelledForTheStoresInstance) {
  struct Row {
    const char* what;
    const char* instance;
    const char* object;
    const char* label;  // the label after, nullptr = none; "!" = refused
  };
  const Row rows[] = {
      {"no instance, no label: unchanged", "", R"({"spec":{}})", nullptr},
      {"no instance, another's label: refused", "",
       R"({"metadata":{"labels":{"argo-rollouts.argoproj.io/controller-instance-id":"b"}}})", "!"},
      {"instance, no label: labelled", "a", R"({"metadata":{"name":"x"}})", "a"},
      {"instance, no metadata: labelled", "a", R"({"spec":{}})", "a"},
      {"instance, its own label: unchanged", "a",
       R"({"metadata":{"labels":{"argo-rollouts.argoproj.io/controller-instance-id":"a"}}})", "a"},
      {"instance, another's label: refused", "a",
       R"({"metadata":{"labels":{"argo-rollouts.argoproj.io/controller-instance-id":"b"}}})", "!"},
      {"not an object: left to customResourceBody", "a", "[1]", nullptr},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.what);
    auto out = labelForInstance(kA, row.object, row.instance);
    if (row.label != nullptr && std::string(row.label) == "!") {
      ASSERT_FALSE(out);
      EXPECT_EQ(out.error().code, ErrorCode::kInvalidArgument);
      EXPECT_NE(out.error().message.find("default/a"), std::string::npos) << out.error().message;
      continue;
    }
    ASSERT_TRUE(out) << out.error().message;
    json j = json::parse(*out);
    if (row.label == nullptr) {
      EXPECT_EQ(j, json::parse(row.object));
    } else {
      EXPECT_EQ(j["metadata"]["labels"][kInstanceIdLabel], row.label);
    }
  }
}

TEST(CustomResourcesTest, LeasesRoundTripAndClientGoLeasesAreRead) {
  Lease l{"leader", "p1", at(0), at(10'000), at(25'500), 3};
  json body = json::parse(leaseBody(l, "argo-rollouts", "9"));
  EXPECT_EQ(body["spec"]["leaseDurationSeconds"], 16);  // 15.5 s rounded up
  EXPECT_EQ(body["metadata"]["resourceVersion"], "9");
  auto back = leaseFromApi(body.dump());
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, l);

  Lease released = l;
  released.holder.clear();
  EXPECT_EQ(*leaseFromApi(leaseBody(released, "ns", "")), released);

  // Written by client-go's leader election: the expiry is renewTime + leaseDurationSeconds.
  auto argo = leaseFromApi(R"({"metadata":{"name":"argo-rollouts-controller-lock"},"spec":{
    "holderIdentity":"pod_1","leaseDurationSeconds":15,"acquireTime":"2026-01-01T00:00:00.000000Z",
    "renewTime":"2026-01-01T00:00:02.500000Z","leaseTransitions":1}})");
  ASSERT_TRUE(argo) << argo.error().message;
  EXPECT_EQ(argo->expiresAt, at(17'500));
  EXPECT_EQ(argo->holder, "pod_1");
  EXPECT_FALSE(leaseFromApi(R"({"metadata":{"name":"x"},"spec":{}})"));
}

// The audit log's ConfigMap data (audit_log.h): records and checkpoints round-trip exactly (the
// time to the millisecond), keys sort as numbers, and a malformed value names its key.
TEST(AuditLogDataTest, RecordsAndCheckpointsRoundTripAndBadOnesAreNamed) {
  EXPECT_EQ(auditKey(0), "000000000000");
  EXPECT_EQ(auditKey(64), "000000000064");
  EXPECT_LT(auditKey(9), auditKey(10));  // as strings, in number order
  AuditRecord r;
  r.index = 64;
  r.time = Time(Duration(1767225600123));
  r.object = ObjectKey{"Rollout", "shop", "web"};
  r.leafHash = std::string(64, 'a');
  r.entry = R"({"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[]})";
  auto back = decodeAuditRecord(auditKey(64), encodeAuditRecord(r));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->index, 64);
  EXPECT_EQ(back->time, r.time);
  EXPECT_EQ(back->object, r.object);
  EXPECT_EQ(back->leafHash, r.leafHash);
  EXPECT_EQ(back->entry, r.entry);
  EXPECT_EQ(back->eventId, 0);
  AuditCheckpoint c{7, "root", "ramp.local/audit\n7\nroot\n", Time(Duration(42))};
  auto cp = decodeAuditCheckpoint(auditKey(7), encodeAuditCheckpoint(c));
  ASSERT_TRUE(cp) << cp.error().message;
  EXPECT_EQ(cp->size, 7);
  EXPECT_EQ(cp->note, c.note);
  EXPECT_EQ(cp->time, c.time);

  struct Bad {
    std::string key, value, says;
  };
  const Bad bad[] = {
      {"x12", encodeAuditRecord(r), "key x12 is not a number"},
      {auditKey(1), "[]", "not a JSON object"},
      {auditKey(1),
       R"({"time":"soon","kind":"Rollout","namespace":"","name":"a","leafHash":"h","entry":"e"})",
       "time missing or not an integer"},
      {auditKey(1), R"({"time":1,"namespace":"","name":"a","leafHash":"h","entry":"e"})",
       "kind missing"},
  };
  for (const Bad& b : bad) {
    auto d = decodeAuditRecord(b.key, b.value);
    ASSERT_FALSE(d) << b.value;
    EXPECT_EQ(d.error().code, ErrorCode::kParse);
    EXPECT_NE(d.error().message.find("audit record " + b.key + ": "), std::string::npos);
    EXPECT_NE(d.error().message.find(b.says), std::string::npos) << d.error().message;
  }

  // The ConfigMap: labelled for the store's selector, data as given, the CAS when updating.
  json body = json::parse(
      auditChunkBody("ramp-audit-1", "ramp", "records", R"({"000000000064":"v"})", "17"));
  EXPECT_EQ(body["metadata"]["labels"][kAuditLabel], "records");
  EXPECT_EQ(body["metadata"]["labels"][kManagedByLabel], kManagedBy);
  EXPECT_EQ(body["metadata"]["resourceVersion"], "17");
  EXPECT_EQ(body["data"]["000000000064"], "v");
  EXPECT_FALSE(
      json::parse(auditChunkBody("ramp-audit-2", "ramp", "records", "{}", ""))["metadata"].contains(
          "resourceVersion"));
}

// An Event with an audit record names the record's index; one without names none.
TEST(CustomResourcesTest, AnEventNamesItsAuditRecord) {
  Event e;
  e.object = ObjectKey{"Rollout", "shop", "web"};
  e.reason = "RolloutCompleted";
  e.time = Time(Duration(1767225600000));
  EXPECT_EQ(auditIndexOfEvent(eventBody(e, "web.1", "ramp")), std::nullopt);
  e.auditEntry = "envelope";
  e.auditLeafHash = "hash";
  e.auditIndex = 41;
  const std::string body = eventBody(e, "web.1", "ramp");
  EXPECT_EQ(json::parse(body)["metadata"]["annotations"][kAuditIndexAnnotation], "41");
  EXPECT_EQ(auditIndexOfEvent(body), std::optional<int64_t>(41));
  EXPECT_EQ(body.find("envelope"), std::string::npos);  // the record itself is not in the Event
  EXPECT_EQ(auditIndexOfEvent("not json"), std::nullopt);
}

}  // namespace
}  // namespace ramp::store::kubernetes
