// The audit log above the store: decision statements (pure, table-driven), the decorator that
// writes a signed record with every event, its checkpoints, verification that names the first
// bad record, and the export's inclusion proofs. tamper_test.cc edits a real SQLite file.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "audit/audited_store.h"
#include "audit/dsse.h"
#include "audit/statement.h"
#include "audit/verify.h"
#include "common/base64.h"
#include "fakes/forwarding_state_store.h"
#include "harness/harness.h"
#include "store/common/store_rules.h"
#include "store/memory/memory_state_store.h"

namespace ramp::audit {
namespace {

using store::Event;
using store::ObjectKey;
using store::WriteOp;

const ObjectKey kWeb{"Rollout", "shop", "web"};
const Time kT0 = Time(Duration(1'767'225'600'000));

Event event(std::string reason, std::string actor, std::string evidence = "") {
  Event e;
  e.time = kT0;
  e.object = kWeb;
  e.reason = std::move(reason);
  e.actor = std::move(actor);
  e.message = "because";
  e.evidence = std::move(evidence);
  return e;
}

constexpr const char* kDigest = "4aa3054270f7a70b4528f2064ee90961788e1e1518703592ae4463de3b889dec";

std::string rolloutJson(const std::string& image) {
  return R"({"metadata":{"name":"web","generation":3},"spec":{"template":{"spec":{"containers":[{"name":"app","image":")" +
         image + R"("}]}}},"status":{"currentPodHash":"6f9c7d"}})";
}

TEST(DecisionAction, ReasonsMapToDecisions) {
  struct Row {
    const char* reason;
    const char* action;
  } rows[] = {{"RolloutPromoted", "promote"},
              {"RolloutAborted", "abort"},
              {"RolloutStepCompleted", "step"},
              {"TrafficWeightUpdated", "weight"},
              {"AnalysisRunFailed", "analysis-verdict"},
              {"MetricSuccessful", "analysis"},
              {"SpecApplied", "apply"},
              {"RolloutUndone", "rollback"},
              {"ImageVerified", "signature-check"},
              {"ImageNotVerified", "signature-check"},
              {"ImagePolicyWarning", "signature-check"},
              {"SomethingNew", "other"}};
  for (const Row& r : rows) EXPECT_EQ(decisionAction(r.reason), r.action) << r.reason;
}

TEST(DecisionStatement, SaysWhoWhatWhyAndWhichRevision) {
  struct Case {
    std::string name;
    Event event;
    std::optional<std::string> object;
    std::string actorKind;
    size_t subjects;  // the object, plus images pinned by digest
    std::optional<int64_t> generation;
  } cases[] = {
      {"user promote, image by digest",
       event("RolloutPromoted", "alice", R"({"action":"promote"})"),
       rolloutJson(std::string("reg.example/shop/web:1.2@sha256:") + kDigest), "user", 2, 3},
      {"controller step, image by tag", event("RolloutStepCompleted", "controller"),
       rolloutJson("reg.example:5000/web:1.3"), "controller", 1, 3},
      {"deleted object", event("ObjectDeleted", "bob"), std::nullopt, "user", 1, std::nullopt},
      {"signature check: the verified digest of an image the spec names by tag",
       event(
           "ImageVerified", "controller",
           std::string(
               R"({"image":"reg.example/shop/web:1.3","pinnedImage":"reg.example/shop/web:1.3@sha256:)") +
               kDigest + R"("})"),
       rolloutJson("reg.example/shop/web:1.3"), "controller", 2, 3},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::string text = decisionStatement(c.event, 7, {.object = c.object});
    EXPECT_EQ(text, decisionStatement(c.event, 7, {.object = c.object}));  // deterministic
    auto j = nlohmann::json::parse(text);
    EXPECT_EQ(j["_type"], "https://in-toto.io/Statement/v1");
    EXPECT_EQ(j["predicateType"], std::string(kDecisionPredicateType));
    ASSERT_EQ(j["subject"].size(), c.subjects);
    EXPECT_EQ(j["subject"][0]["name"], "Rollout/shop/web");
    EXPECT_EQ(j["subject"][0]["digest"]["sha256"], toHex(sha256(c.object.value_or(""))));
    auto d = decodeDecision(text);
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->index, 7);
    EXPECT_EQ(d->object, kWeb);
    EXPECT_EQ(d->actorId, c.event.actor);
    EXPECT_EQ(d->actorKind, c.actorKind);
    EXPECT_EQ(d->reason, c.event.reason);
    EXPECT_EQ(d->message, "because");
    EXPECT_EQ(d->time, "2026-01-01T00:00:00Z");
    EXPECT_EQ(d->generation, c.generation);
    ASSERT_EQ(d->subjectDigests.size(), c.subjects);
    EXPECT_EQ(d->subjectDigests[0], d->objectDigest);
  }
  auto pinned = nlohmann::json::parse(
      decisionStatement(cases[0].event, 0, {.object = cases[0].object}))["subject"][1];
  EXPECT_EQ(pinned["name"], "reg.example/shop/web");
  EXPECT_EQ(pinned["digest"]["sha256"], kDigest);
  auto verified = nlohmann::json::parse(
      decisionStatement(cases[3].event, 0, {.object = cases[3].object}))["subject"][1];
  EXPECT_EQ(verified["name"], "reg.example/shop/web");
  EXPECT_EQ(verified["digest"]["sha256"], kDigest);
  auto evidence = decodeDecision(decisionStatement(cases[0].event, 0, {.object = cases[0].object}));
  EXPECT_EQ(evidence->evidence, R"({"action":"promote"})");
  EXPECT_EQ(evidence->podTemplateHash, "6f9c7d");
}

TEST(DecisionStatement, DecodeNamesWhatIsMissing) {
  EXPECT_EQ(decodeDecision("[]").error().code, ErrorCode::kParse);
  auto other = decodeDecision(
      R"({"_type":"https://in-toto.io/Statement/v1","predicateType":"x","subject":[{}]})");
  ASSERT_FALSE(other);
  EXPECT_NE(other.error().message.find("predicateType"), std::string::npos);
}

// The deployment-decision fields: the environment (the daemon's, or the object's annotation),
// where the actor came from, the Git change, the signature gate's and the analysis' evidence as
// typed fields, and the images a spec change replaced.
TEST(DecisionStatement, NamesEnvironmentOriginChangeEvidenceAndPrevious) {
  const std::string annotated =
      R"({"metadata":{"name":"web","annotations":{"ramp.dev/environment":"staging"}},)"
      R"("spec":{"template":{"spec":{"containers":[{"name":"app","image":"web:2"}]}}}})";
  Event apply = event("SpecApplied", "gitops");
  apply.origin = "gitops";
  apply.change = R"({"repo":"https://git.example/shop.git","revision":"abc","pullRequest":"42"})";
  Event signature = event(
      "ImageVerified", "controller",
      R"({"image":"web:2","allowed":"true","policy":"signed","authority":"key",)"
      R"("provenance.builderId":"https://ci.example/builder","provenance.invocationId":"run-991",)"
      R"("sboms[0].format":"CycloneDX","sboms[0].location":"reg/web@sha256:1","sboms[0].components":"12",)"
      R"("warnings[0]":"w"})");
  Event verdict = event("AnalysisRunFailed", "controller",
                        R"({"metric":"success-rate","phase":"Failed","value":"0.94"})");
  verdict.object = {"AnalysisRun", "shop", "web-6f9c7d-2"};
  Event step = event("RolloutStepCompleted", "controller");
  Event promote = event("RolloutPromoted", "alice");
  promote.origin = "api";
  Event setImage = event("RolloutImageSet", "alice");
  Event abort = event("RolloutAborted", "controller");
  const std::string abortedJson =
      R"({"metadata":{"name":"web"},"spec":{"template":{"spec":{"containers":[{"name":"app",)"
      R"("image":"web:2"}]}}},"status":{"abort":true,"phase":"Degraded"}})";
  struct Case {
    std::string name;
    Event event;
    DecisionContext context;
    nlohmann::json want;  // fields of the predicate that must be there, with these values
    std::vector<std::string> absent;
  } cases[] = {
      {"controller step: the daemon's environment, origin controller",
       step,
       {.object = rolloutJson("web:1"), .environment = "prod"},
       {{"environment", "prod"},
        {"actor", {{"id", "controller"}, {"kind", "controller"}, {"origin", "controller"}}}},
       {"change", "previous", "signature", "analysis", "decision"}},
      {"the object's annotation overrides the daemon's environment",
       step,
       {.object = annotated, .environment = "prod"},
       {{"environment", "staging"}},
       {}},
      {"a user's promote through the API, no environment",
       promote,
       {.object = rolloutJson("web:1")},
       {{"actor", {{"id", "alice"}, {"kind", "user"}, {"origin", "api"}}}, {"decision", "promote"}},
       {"environment", "previous"}},
      {"a GitOps apply: the change, and the images it replaced",
       apply,
       {.object = rolloutJson("web:2"), .previous = rolloutJson("web:1")},
       {{"change", nlohmann::json::parse(apply.change)},
        {"previous", {{"images", {"web:1"}}}},
        {"decision", "deploy"},
        {"actor", {{"id", "gitops"}, {"kind", "controller"}, {"origin", "gitops"}}}},
       {}},
      {"new images on a rollout whose release was rolled back: a forward fix",
       setImage,
       {.object = rolloutJson("web:3"), .previous = abortedJson},
       {{"decision", "forward-fix"}, {"previous", {{"images", {"web:2"}}}}},
       {}},
      {"an abort rolls back",
       abort,
       {.object = abortedJson},
       {{"decision", "rollback"}},
       {"previous"}},
      {"an apply that did not change the images has no previous",
       apply,
       {.object = rolloutJson("web:2"), .previous = rolloutJson("web:2")},
       {},
       {"previous", "decision"}},
      {"a signature check: signature, provenance, SBOM and pipeline run",
       signature,
       {.object = rolloutJson("web:2")},
       {{"signature",
         {{"image", "web:2"},
          {"policy", "signed"},
          {"authority", "key"},
          {"allowed", true},
          {"warnings", {"w"}}}},
        {"provenance", {{"builderId", "https://ci.example/builder"}, {"invocationId", "run-991"}}},
        {"sbom", {{{"format", "CycloneDX"}, {"location", "reg/web@sha256:1"}, {"components", 12}}}},
        {"pipelineRun", "run-991"},
        {"decision", "allow"}},
       {"analysis"}},
      {"an analysis verdict: the run, metric, phase and value",
       verdict,
       {.object = std::string(R"({"metadata":{"name":"web-6f9c7d-2"}})")},
       {{"analysis",
         {{"run", "web-6f9c7d-2"},
          {"metric", "success-rate"},
          {"phase", "Failed"},
          {"value", "0.94"}}},
        {"decision", "fail"}},
       {"signature"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string text = decisionStatement(c.event, 3, c.context);
    auto predicate = nlohmann::json::parse(text)["predicate"];
    for (const auto& [field, value] : c.want.items()) {
      EXPECT_EQ(predicate[field], value) << field << " in " << predicate.dump();
    }
    for (const std::string& field : c.absent) EXPECT_FALSE(predicate.contains(field)) << field;
    auto d = decodeDecision(text);
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->environment, predicate.value("environment", ""));
    EXPECT_EQ(d->actorOrigin, predicate["actor"].value("origin", ""));
    EXPECT_EQ(d->change, predicate.contains("change") ? predicate["change"].dump() : "");
    EXPECT_EQ(d->decision, predicate.value("decision", ""));
  }
  auto previous = decodeDecision(decisionStatement(cases[3].event, 0, cases[3].context));
  EXPECT_EQ(previous->previousImages, std::vector<std::string>{"web:1"});
}

// A log written through the decorator over the memory store.
struct Log {
  store::MemoryStateStore inner;
  std::unique_ptr<AuditedStateStore> audited;
  explicit Log(std::optional<SigningKey> key) {
    audited = *AuditedStateStore::wrap(inner, std::move(key), "controller");
  }
  void decide(int n) {
    for (int i = 0; i < n; ++i) {
      auto current = inner.get(kWeb);
      int64_t version = current ? current->version : 0;
      std::vector<WriteOp> ops = {
          {WriteOp::Type::kPut, kWeb, rolloutJson("web:" + std::to_string(i)), version}};
      std::vector<Event> events = {event("RolloutStepCompleted", "controller"),
                                   event("TrafficWeightUpdated", "controller")};
      ASSERT_TRUE(audited->writeWithEvents(ops, events));
    }
  }
  std::vector<store::AuditRecord> records() { return *inner.listAuditRecords({}); }
  std::vector<store::AuditCheckpoint> checkpoints() { return *inner.listAuditCheckpoints(); }
};

TEST(AuditedStore, EveryEventGetsASignedRecordThatVerifies) {
  auto key = *SigningKey::generate();
  Log log(key);
  log.decide(3);
  ASSERT_TRUE(log.audited->appendEvent(event("RolloutPromoted", "alice")));
  EXPECT_EQ(*log.audited->checkpoint(kT0), 7);
  EXPECT_EQ(*log.audited->checkpoint(kT0), 7);  // nothing new: no second checkpoint
  log.decide(1);
  EXPECT_EQ(*log.audited->checkpoint(kT0), 9);
  auto records = log.records();
  ASSERT_EQ(records.size(), 9u);
  auto env = decodeEnvelope(records[6].entry);
  ASSERT_TRUE(env);
  EXPECT_TRUE(verifyEnvelope(*env, key.publicKey()));
  auto d = decodeDecision(env->payload);
  EXPECT_EQ(d->actorId, "alice");
  EXPECT_EQ(d->index, 6);
  // The promote names the stored rollout's text at the time.
  EXPECT_EQ(d->objectDigest, toHex(sha256(rolloutJson("web:2"))));

  VerifyReport r = verifyLog(records, log.checkpoints(), &key.publicKey());
  EXPECT_TRUE(r.ok()) << r.problem;
  EXPECT_TRUE(r.signatures);
  EXPECT_EQ(r.covered, 9);
  EXPECT_EQ(r.checkpoints, 2);
  EXPECT_EQ(describeReport(r), "ok: 9 records, 2 checkpoints, every signature valid");

  auto other = *SigningKey::generate();
  VerifyReport forged = verifyLog(records, log.checkpoints(), &other.publicKey());
  EXPECT_EQ(forged.badIndex, 0);
  EXPECT_NE(forged.problem.find("no signature by key"), std::string::npos) << forged.problem;
}

// The decorator reads the object before a spec change (not before a step) and names the
// daemon's environment in every record.
TEST(AuditedStore, ASpecChangeRecordsTheImagesItReplaced) {
  store::MemoryStateStore inner;
  auto audited = *AuditedStateStore::wrap(inner, std::nullopt, "controller", "prod");
  auto write = [&](const std::string& image, Event e) {
    auto current = inner.get(kWeb);
    std::vector<WriteOp> ops = {
        {WriteOp::Type::kPut, kWeb, rolloutJson(image), current ? current->version : 0}};
    ASSERT_TRUE(audited->writeWithEvents(ops, std::vector<Event>{std::move(e)}));
  };
  write("web:1", event("SpecApplied", "alice"));
  write("web:2", event("RolloutImageSet", "alice"));
  write("web:3", event("RolloutStepCompleted", "controller"));  // no spec change: not read
  auto records = *inner.listAuditRecords({});
  ASSERT_EQ(records.size(), 3u);
  std::vector<Decision> d;
  for (const auto& r : records) d.push_back(*decodeDecision(decodeEnvelope(r.entry)->payload));
  EXPECT_TRUE(d[0].previousImages.empty()) << "nothing ran before the first apply";
  EXPECT_EQ(d[1].previousImages, std::vector<std::string>{"web:1"});
  EXPECT_TRUE(d[2].previousImages.empty());
  for (const Decision& x : d) EXPECT_EQ(x.environment, "prod");
}

// A store that counts how often the checkpoints are listed (a request on store.kubernetes).
class CountingStore : public store::testing::ForwardingStateStore {
 public:
  CountingStore() : ForwardingStateStore(std::make_unique<store::MemoryStateStore>()) {}
  Result<std::vector<store::AuditCheckpoint>> listAuditCheckpoints() override {
    ++lists;
    return ForwardingStateStore::listAuditCheckpoints();
  }
  int lists = 0;
};

// An idle period signs nothing and lists nothing: the daemon calls checkpoint() every 10 s.
TEST(AuditedStore, AnIdleCheckpointListsNothing) {
  CountingStore inner;
  auto audited = *AuditedStateStore::wrap(inner, *SigningKey::generate(), "controller");
  EXPECT_EQ(*audited->checkpoint(kT0), 0);  // an empty log: nothing to sign
  ASSERT_TRUE(audited->appendEvent(event("RolloutPromoted", "alice")));
  EXPECT_EQ(*audited->checkpoint(kT0), 1);
  const int lists = inner.lists;
  EXPECT_EQ(*audited->checkpoint(kT0), 1);
  EXPECT_EQ(*audited->checkpoint(kT0), 1);
  EXPECT_EQ(inner.lists, lists) << "no new record: the checkpoints are not listed again";
  EXPECT_EQ(inner.listAuditCheckpoints()->size(), 1u);
  ASSERT_TRUE(audited->appendEvent(event("RolloutAborted", "bob")));
  const int beforeGrowth = inner.lists;
  EXPECT_EQ(*audited->checkpoint(kT0), 2);
  EXPECT_EQ(inner.lists, beforeGrowth) << "the newest checkpoint is the one it signed last";
  EXPECT_EQ(inner.listAuditCheckpoints()->size(), 2u);
}

// A log that holds fewer records than were read before lost some: no checkpoint over it.
TEST(AuditedStore, NoCheckpointOverALogThatShrank) {
  class ShrinkingStore final : public CountingStore {
   public:
    Result<int64_t> auditSize() override {
      auto size = CountingStore::auditSize();
      if (!size) return size;
      return *size - hidden;
    }
    int64_t hidden = 0;
  } inner;
  auto audited = *AuditedStateStore::wrap(inner, std::nullopt, "controller");
  ASSERT_TRUE(audited->appendEvent(event("RolloutPromoted", "alice")));
  ASSERT_TRUE(audited->appendEvent(event("RolloutAborted", "bob")));
  EXPECT_EQ(*audited->checkpoint(kT0), 2);
  inner.hidden = 1;
  auto refused = audited->checkpoint(kT0);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInternal);
  EXPECT_NE(refused.error().message.find("holds 1 records, fewer than the 2"), std::string::npos)
      << refused.error().message;
}

// Another writer's newer checkpoint makes the store refuse ours; the next call lists them.
TEST(AuditedStore, ACheckpointOvertakenByAnotherWritersListsThemNextTime) {
  CountingStore inner;
  auto audited = *AuditedStateStore::wrap(inner, std::nullopt, "controller");
  ASSERT_TRUE(audited->appendEvent(event("RolloutPromoted", "alice")));
  EXPECT_EQ(*audited->checkpoint(kT0), 1);
  ASSERT_TRUE(audited->appendEvent(event("RolloutAborted", "bob")));
  ASSERT_TRUE(inner.appendAuditCheckpoint({2, "root", "another writer's", kT0}));
  auto refused = audited->checkpoint(kT0);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kFailedPrecondition);
  const int lists = inner.lists;
  EXPECT_EQ(*audited->checkpoint(kT0), 2);  // theirs covers every record: nothing to sign
  EXPECT_EQ(inner.lists, lists + 1);
  EXPECT_EQ(inner.listAuditCheckpoints()->size(), 2u);
}

TEST(AuditedStore, AFailedWriteWritesNoRecordAndTheNextTakesItsPlace) {
  Log log(*SigningKey::generate());
  log.decide(1);
  std::vector<WriteOp> stale = {{WriteOp::Type::kPut, kWeb, "{}", 1'000}};
  std::vector<Event> events = {event("RolloutAborted", "alice")};
  EXPECT_FALSE(log.audited->writeWithEvents(stale, events));
  log.decide(1);
  auto r = verifyLog(log.records(), log.checkpoints(), nullptr);
  EXPECT_TRUE(r.ok()) << r.problem;
  EXPECT_EQ(r.records, 4);
}

TEST(AuditedStore, ARecordWrittenBehindItsBackIsCaughtAndSignedAgain) {
  Log log(*SigningKey::generate());
  log.decide(1);
  Event intruder = event("RolloutPromoted", "mallory");
  intruder.auditEntry = "x";
  intruder.auditLeafHash = "y";
  intruder.auditIndex = 2;
  ASSERT_TRUE(log.inner.appendEvent(intruder));
  log.decide(1);  // predicted index 2 is taken: re-read the size, sign as 3
  auto records = log.records();
  ASSERT_EQ(records.size(), 5u);
  EXPECT_EQ(decodeDecision(decodeEnvelope(records[3].entry)->payload)->index, 3);
  EXPECT_EQ(verifyLog(records, {}, nullptr).badIndex, 2);  // the intruder's row
}

TEST(AuditedStore, UnsignedLogsSaySo) {
  Log log(std::nullopt);
  log.decide(2);
  ASSERT_TRUE(log.audited->checkpoint(kT0));
  VerifyReport r = verifyLog(log.records(), log.checkpoints(), nullptr);
  EXPECT_TRUE(r.ok()) << r.problem;
  EXPECT_TRUE(r.unsigned_);
  EXPECT_NE(describeReport(r).find("UNSIGNED"), std::string::npos);
  auto key = *SigningKey::generate();
  EXPECT_FALSE(verifyLog(log.records(), log.checkpoints(), &key.publicKey()).ok());
}

TEST(AuditedStore, RefusesAStoreWithoutAnAuditLog) {
  store::MemoryStateStore real;
  // A store that keeps the interface's default audit methods (kUnsupported), as a store
  // without an audit log does.
  class Bare final : public store::StateStore {
   public:
    explicit Bare(store::StateStore& s) : s_(s) {}
    Result<store::StoredObject> get(const ObjectKey& k) override { return s_.get(k); }
    Result<int64_t> put(const ObjectKey& k, std::string_view j, int64_t v) override {
      return s_.put(k, j, v);
    }
    Result<int64_t> remove(const ObjectKey& k, int64_t v) override { return s_.remove(k, v); }
    Result<std::vector<int64_t>> write(std::span<const WriteOp> o) override { return s_.write(o); }
    Result<store::WriteResult> writeWithEvents(std::span<const WriteOp> o,
                                               std::span<const Event> e) override {
      return s_.writeWithEvents(o, e);
    }
    Result<store::ObjectList> list(const std::string& k, const std::string& n) override {
      return s_.list(k, n);
    }
    Result<int64_t> currentRevision() override { return s_.currentRevision(); }
    Result<std::vector<store::Change>> changesSince(int64_t r, int64_t l) override {
      return s_.changesSince(r, l);
    }
    int64_t subscribe(store::ChangeListener l) override { return s_.subscribe(std::move(l)); }
    void unsubscribe(int64_t id) override { s_.unsubscribe(id); }
    Result<int64_t> appendEvent(const Event& e) override { return s_.appendEvent(e); }
    Result<std::vector<Event>> listEvents(const store::EventQuery& q) override {
      return s_.listEvents(q);
    }
    Result<store::Lease> acquireLease(const std::string& n, const std::string& h, Duration t,
                                      Time now) override {
      return s_.acquireLease(n, h, t, now);
    }
    Result<store::Lease> renewLease(const std::string& n, const std::string& h, Duration t,
                                    Time now) override {
      return s_.renewLease(n, h, t, now);
    }
    Status releaseLease(const std::string& n, const std::string& h, Time now) override {
      return s_.releaseLease(n, h, now);
    }

   private:
    store::StateStore& s_;
  } bare(real);
  auto wrapped = AuditedStateStore::wrap(bare, std::nullopt, "controller");
  ASSERT_FALSE(wrapped);
  EXPECT_EQ(wrapped.error().code, ErrorCode::kUnsupported);
}

// A store without transactions that keeps its own audit log, as store.kubernetes does with
// ConfigMaps (a double: that store needs an API server, and tests/store's Kubernetes suite runs
// it there). Its appends of records can be held at a gate, so that a test queues writers
// behind one in flight.
class RecordsFirstStore final : public store::testing::ForwardingStateStore {
 public:
  RecordsFirstStore() : ForwardingStateStore(std::make_unique<store::MemoryStateStore>()) {}
  bool transactional() const override { return false; }

  Status appendAuditRecords(std::span<const Event> events) override {
    std::unique_lock lock(mu_);
    ++appendCalls_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
    if (auto s = store::validateEvents(events); !s) return s;
    if (auto s = store::checkAuditIndexes(events, static_cast<int64_t>(records_.size())); !s) {
      return s;
    }
    for (const Event& e : events) {
      if (e.auditEntry.empty() || e.auditAppended) continue;  // as store.kubernetes
      records_.push_back({static_cast<int64_t>(records_.size()), 0, e.time, e.object,
                          e.auditLeafHash, e.auditEntry});
    }
    return {};
  }
  Result<store::WriteResult> writeWithEvents(std::span<const WriteOp> ops,
                                             std::span<const Event> events) override {
    std::vector<Event> bare(events.begin(), events.end());
    for (Event& e : bare) {
      if (!e.auditEntry.empty() && !e.auditAppended) {
        return makeError(ErrorCode::kInternal, "a record reached the decision's write unappended");
      }
      e.auditEntry.clear();
      e.auditLeafHash.clear();
    }
    return inner().writeWithEvents(ops, bare);
  }
  Result<int64_t> auditSize() override {
    std::lock_guard lock(mu_);
    return static_cast<int64_t>(records_.size());
  }
  Result<std::vector<store::AuditRecord>> listAuditRecords(const store::AuditQuery&) override {
    std::lock_guard lock(mu_);
    return records_;
  }

  void hold() { setOpen(false); }
  void release() { setOpen(true); }
  // Waits (bounded) until `n` appends have begun.
  bool awaitAppends(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(30), [&] { return appendCalls_ >= n; });
  }
  int appendCalls() {
    std::lock_guard lock(mu_);
    return appendCalls_;
  }

 private:
  void setOpen(bool open) {
    std::lock_guard lock(mu_);
    open_ = open;
    cv_.notify_all();
  }
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = true;
  int appendCalls_ = 0;  // wrap()'s probe (no events, the gate open) is the first
  std::vector<store::AuditRecord> records_;
};

// Writes two events about `object` (a new Rollout) through `audited`, on a thread.
std::thread decideOn(AuditedStateStore& audited, std::string name, Status& result) {
  return std::thread([&audited, name = std::move(name), &result] {
    const ObjectKey key{"Rollout", "shop", name};
    std::vector<WriteOp> ops = {{WriteOp::Type::kPut, key, rolloutJson(name + ":1"), 0}};
    Event a = event("RolloutUpdated", "controller");
    a.object = key;
    Event b = event(name == "bad" ? "" : "RolloutStepCompleted", "controller");
    b.object = key;
    std::vector<Event> events = {a, b};
    auto written = audited.writeWithEvents(ops, events);
    result = written ? Status{} : Status(std::unexpected(written.error()));
  });
}

// Waits (bounded) until `n` writes are queued behind the append in flight.
bool awaitQueued(const AuditedStateStore& audited, size_t n) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (audited.queuedWrites() < n) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

TEST(AuditedStore, WritersQueuedBehindAnAppendShareTheNextOne) {
  RecordsFirstStore inner;
  auto key = *SigningKey::generate();
  auto audited = *AuditedStateStore::wrap(inner, key, "controller");
  inner.hold();
  std::vector<Status> results(4);
  std::vector<std::thread> writers;
  writers.push_back(decideOn(*audited, "web-0", results[0]));
  ASSERT_TRUE(inner.awaitAppends(2));  // web-0's records are being appended, alone
  for (int i = 1; i < 4; ++i) {
    writers.push_back(decideOn(*audited, "web-" + std::to_string(i), results[i]));
  }
  ASSERT_TRUE(awaitQueued(*audited, 3));
  inner.release();
  for (auto& t : writers) t.join();
  for (const Status& s : results) EXPECT_TRUE(s) << s.error().message;
  EXPECT_EQ(inner.appendCalls(), 3);  // the probe, web-0's, and one for the other three
  auto records = *inner.listAuditRecords({});
  ASSERT_EQ(records.size(), 8u);
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(decodeDecision(decodeEnvelope(records[i].entry)->payload)->index,
              static_cast<int64_t>(i));
  }
  VerifyReport r = verifyLog(records, {}, &key.publicKey());
  EXPECT_TRUE(r.ok()) << r.problem;
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(inner.get({"Rollout", "shop", "web-" + std::to_string(i)}));
  }
  EXPECT_EQ(inner.listEvents({})->size(), 8u);
}

// A Clock whose sleepFor() waits until the test opens it (and counts the sleeps): what a writer
// lingering before its group append waits for. Time moves only by advance().
class GatedClock final : public Clock {
 public:
  Time now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }
  void sleepFor(Duration) override {
    std::unique_lock lock(mu_);
    ++sleeps_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
  }
  void advance(Duration d) {
    std::lock_guard lock(mu_);
    now_ += d;
  }
  void hold() { setOpen(false); }
  void open() { setOpen(true); }
  // Waits (bounded) until `n` sleeps have begun.
  bool awaitSleeps(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(30), [&] { return sleeps_ >= n; });
  }
  int sleeps() const {
    std::lock_guard lock(mu_);
    return sleeps_;
  }

 private:
  void setOpen(bool open) {
    std::lock_guard lock(mu_);
    open_ = open;
    cv_.notify_all();
  }
  mutable std::mutex mu_;
  std::condition_variable cv_;
  Time now_ = Time(Duration(1'700'000'000'000));
  bool open_ = true;
  int sleeps_ = 0;
};

// In a burst (the previous group ended less than busyWithin ago) the appending writer lingers
// and the writers that arrive meanwhile share its append; an isolated decision does not wait.
TEST(AuditedStore, InABurstTheAppendingWriterLingersForTheOthers) {
  RecordsFirstStore inner;
  GatedClock clock;
  GroupCommitOptions group;
  group.linger = Duration(10);
  group.busyWithin = Duration(200);
  group.clock = &clock;
  auto audited = *AuditedStateStore::wrap(inner, std::nullopt, "controller", "", group);
  std::vector<Status> results(5);
  decideOn(*audited, "web-0", results[0]).join();  // the first: no burst yet, no wait
  EXPECT_EQ(clock.sleeps(), 0);
  EXPECT_EQ(inner.appendCalls(), 2);  // the probe and web-0's
  clock.hold();
  std::vector<std::thread> writers;
  writers.push_back(decideOn(*audited, "web-1", results[1]));  // 0 ms after web-0's group
  ASSERT_TRUE(clock.awaitSleeps(1));
  writers.push_back(decideOn(*audited, "web-2", results[2]));
  writers.push_back(decideOn(*audited, "web-3", results[3]));
  ASSERT_TRUE(awaitQueued(*audited, 3));  // web-1 lingers with its own write queued
  EXPECT_EQ(inner.appendCalls(), 2);
  clock.open();
  for (auto& t : writers) t.join();
  EXPECT_EQ(inner.appendCalls(), 3) << "web-1, web-2 and web-3 in one append";
  clock.advance(Duration(201));
  decideOn(*audited, "web-4", results[4]).join();
  EXPECT_EQ(clock.sleeps(), 1) << "an isolated decision does not linger";
  EXPECT_EQ(inner.appendCalls(), 4);
  for (const Status& s : results) EXPECT_TRUE(s) << s.error().message;
  EXPECT_EQ(inner.listAuditRecords({})->size(), 10u);
  EXPECT_FALSE(AuditedStateStore::wrap(inner, std::nullopt, "controller", "",
                                       GroupCommitOptions{Duration(10), Duration(200), nullptr}))
      << "a linger without a clock";
}

TEST(AuditedStore, AWriteWhoseEventsTheStoreRefusesFailsAloneInItsGroup) {
  RecordsFirstStore inner;
  auto audited = *AuditedStateStore::wrap(inner, std::nullopt, "controller");
  inner.hold();
  std::vector<Status> results(3);
  std::vector<std::thread> writers;
  writers.push_back(decideOn(*audited, "web-0", results[0]));
  ASSERT_TRUE(inner.awaitAppends(2));
  writers.push_back(decideOn(*audited, "bad", results[1]));  // an event without a reason
  writers.push_back(decideOn(*audited, "web-2", results[2]));
  ASSERT_TRUE(awaitQueued(*audited, 2));
  inner.release();
  for (auto& t : writers) t.join();
  EXPECT_TRUE(results[0]);
  ASSERT_FALSE(results[1]);
  EXPECT_EQ(results[1].error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(results[2]) << results[2].error().message;
  EXPECT_FALSE(inner.get({"Rollout", "shop", "bad"}));
  EXPECT_TRUE(inner.get({"Rollout", "shop", "web-2"}));
  auto records = *inner.listAuditRecords({});
  ASSERT_EQ(records.size(), 4u);  // web-0's two and web-2's two, consecutive
  EXPECT_TRUE(verifyLog(records, {}, nullptr).ok());
  EXPECT_EQ(records[2].object.name, "web-2");
}

TEST(AuditedStore, RefusesAStoreWithoutTransactionsThatCannotAppendRecordsAlone) {
  class NoTransactions final : public store::testing::ForwardingStateStore {
   public:
    NoTransactions() : ForwardingStateStore(std::make_unique<store::MemoryStateStore>()) {}
    bool transactional() const override { return false; }
  } inner;
  auto wrapped = AuditedStateStore::wrap(inner, std::nullopt, "controller");
  ASSERT_FALSE(wrapped);
  EXPECT_EQ(wrapped.error().code, ErrorCode::kUnsupported);
}

// Tampering with the rows as read back (tamper_test.cc does it to a SQLite file).
TEST(VerifyLog, NamesTheFirstBadRecord) {
  auto key = *SigningKey::generate();
  Log log(key);
  log.decide(4);
  ASSERT_TRUE(log.audited->checkpoint(kT0));
  const auto records = log.records();
  const auto cps = log.checkpoints();
  struct Case {
    std::string name;
    std::function<void(std::vector<store::AuditRecord>&, std::vector<store::AuditCheckpoint>&)>
        tamper;
    int64_t badIndex;
    std::string says;
  } cases[] = {
      {"a byte of a record", [](auto& r, auto&) { r[5].entry[r[5].entry.size() / 2] ^= 1; }, 5,
       "record 5 was altered"},
      {"a record and its leaf hash",
       [](auto& r, auto&) {
         auto env = *decodeEnvelope(r[3].entry);
         env.payload[env.payload.find("controller")] = 'C';
         r[3].entry = encodeEnvelope(env);
         r[3].leafHash = toHex(leafHash(r[3].entry));
       },
       3, "record 3 was altered or forged"},
      {"a deleted record", [](auto& r, auto&) { r.erase(r.begin() + 2); }, 2,
       "record 2 is missing"},
      {"a deleted and renumbered record",
       [](auto& r, auto&) {
         r.erase(r.begin() + 2);
         for (size_t i = 2; i < r.size(); ++i) r[i].index = static_cast<int64_t>(i);
       },
       2, "its statement says it is record 3"},
      {"two swapped records",
       [](auto& r, auto&) {
         std::swap(r[4].entry, r[6].entry);
         std::swap(r[4].leafHash, r[6].leafHash);
       },
       4, "its statement says it is record 6"},
      {"truncated after a checkpoint", [](auto& r, auto&) { r.resize(6); }, 6,
       "covers records 6 to 7, which are missing"},
      {"a checkpoint's root", [](auto&, auto& c) { c[0].rootHash = std::string(64, '0'); }, 0,
       "differ from its note"},
      {"a checkpoint's note", [](auto&, auto& c) { c[0].note[c[0].note.find('\n') + 1] = '9'; }, 0,
       "does not verify"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = records;
    auto k = cps;
    c.tamper(r, k);
    VerifyReport report = verifyLog(r, k, &key.publicKey());
    EXPECT_FALSE(report.ok());
    EXPECT_EQ(report.badIndex, c.badIndex) << report.problem;
    EXPECT_NE(report.problem.find(c.says), std::string::npos) << report.problem;
  }
  EXPECT_TRUE(verifyLog(records, cps, &key.publicKey()).ok());
}

TEST(VerifyLog, UnsignedLogsCatchAlterationsThroughTheirCheckpoints) {
  Log log(std::nullopt);
  log.decide(2);
  ASSERT_TRUE(log.audited->checkpoint(kT0));
  log.decide(2);
  ASSERT_TRUE(log.audited->checkpoint(kT0));
  auto r = log.records();
  // Rewrite record 5's message and its leaf hash: only the tree heads notice.
  auto env = *decodeEnvelope(r[5].entry);
  env.payload.replace(env.payload.find("because"), 7, "BECAUSE");
  r[5].entry = encodeEnvelope(env);
  r[5].leafHash = toHex(leafHash(r[5].entry));
  VerifyReport report = verifyLog(r, log.checkpoints(), nullptr);
  EXPECT_EQ(report.badIndex, 4) << report.problem;
  EXPECT_NE(report.problem.find("records 4 to 7 do not match"), std::string::npos)
      << report.problem;
}

TEST(Export, EveryRecordProvesItsInclusion) {
  auto key = *SigningKey::generate();
  Log log(key);
  log.decide(3);
  ASSERT_TRUE(log.audited->checkpoint(kT0));
  log.decide(1);  // two records the checkpoint does not cover
  auto text = exportLog(log.records(), log.checkpoints());
  ASSERT_TRUE(text) << text.error().message;
  std::vector<std::string> lines;
  for (size_t start = 0, nl; (nl = text->find('\n', start)) != std::string::npos; start = nl + 1) {
    lines.push_back(text->substr(start, nl - start));
  }
  ASSERT_EQ(lines.size(), 9u);
  std::string note = nlohmann::json::parse(lines[0])["checkpoint"];
  for (size_t i = 1; i < lines.size(); ++i) {
    auto rec = decodeExportedRecord(lines[i]);
    ASSERT_TRUE(rec) << rec.error().message;
    EXPECT_EQ(rec->index, static_cast<int64_t>(i - 1));
    auto s = verifyExportedRecord(*rec, note, &key.publicKey());
    if (i <= 6) {
      EXPECT_TRUE(s) << i << ": " << s.error().message;
    } else {
      EXPECT_FALSE(s);  // newer than the checkpoint
    }
  }
  auto rec = *decodeExportedRecord(lines[2]);
  rec.proof[0][0] ^= 1;
  EXPECT_FALSE(verifyExportedRecord(rec, note, &key.publicKey()));
  rec = *decodeExportedRecord(lines[2]);
  rec.index = 2;
  EXPECT_FALSE(verifyExportedRecord(rec, note, &key.publicKey()));
  EXPECT_EQ(decodeExportedRecord(R"({"index":-1})").error().code, ErrorCode::kParse);
}

// An exported envelope's signature, checked by the openssl command alone, as docs/audit.md
// shows: PAE(payloadType, payload) and the DER signature, both from the export line.
TEST(Export, OpensslVerifiesAnExportedEnvelope) {
  ramp::testing::TempDir dir("ramp-audit-export");
  auto key = *SigningKey::generate();
  Log log(key);
  log.decide(1);
  ASSERT_TRUE(log.audited->checkpoint(kT0));
  auto text = *exportLog(log.records(), log.checkpoints());
  std::ofstream(dir.file("export.jsonl")) << text;
  std::ofstream(dir.file("audit.pub")) << key.publicKey().pem();
  // The documented recipe, with jq, base64 and openssl.
  const std::string script =
      "set -e; cd " + dir.path() +
      "; sed -n 2p export.jsonl | jq -r .envelope > env.json"
      "; jq -r .payload env.json | base64 -d > payload"
      "; jq -r '.signatures[0].sig' env.json | base64 -d > sig.der"
      "; type=$(jq -r .payloadType env.json)"
      "; printf 'DSSEv1 %d %s %d ' ${#type} \"$type\" $(wc -c < payload) > pae"
      "; cat payload >> pae"
      "; openssl dgst -sha256 -verify audit.pub -signature sig.der pae";
  std::ofstream(dir.file("verify.sh")) << script << "\n";
  EXPECT_EQ(std::system(("bash " + dir.file("verify.sh") + " >/dev/null 2>&1").c_str()), 0);
  // The same recipe over a changed payload fails.
  std::ofstream(dir.file("tamper.sh"))
      << script.substr(0, script.find("; openssl")) << "; printf x >> pae"
      << script.substr(script.find("; openssl")) << "\n";
  EXPECT_NE(std::system(("bash " + dir.file("tamper.sh") + " >/dev/null 2>&1").c_str()), 0);
}

}  // namespace
}  // namespace ramp::audit
