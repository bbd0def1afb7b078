// The crash test: a real `ramp serve` drives 48 rollouts in the simulated world (platform.sim,
// traffic.sim, provider.sim, durable in the data dir) while the test SIGKILLs it at random
// instants, at least 50 times, restarting it each time. Canaries with step and background
// analysis, blue-green with pre- and post-promotion analysis, failing analyses, user promotes
// and aborts; and the operation table: one rollout for every user operation (retry, undo,
// promote, promote --full, abort, resume) after every kind of failed analysis (canary step,
// canary background, blue-green pre- and post-promotion). The test writes specs and intents
// straight into the SQLite store (another process, as a second CLI would), and at the end checks
// that every rollout is where Argo's semantics put it, that no step was skipped or repeated,
// that nothing was promoted without a successful analysis, that the active selector never
// switched to a revision without a pre-promotion analysis that passed since the last abort
// (promote --full excepted), and that the event log tells the whole story once.

#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <iostream>
#include <map>
#include <random>
#include <span>
#include <thread>
#include <vector>

#include "harness/harness.h"
#include "rollout/engine.h"
#include "rollout/operations.h"
#include "spec/codec.h"
#include "store/sqlite/sqlite_state_store.h"
#include "traffic/sim/sim_router.h"

namespace ramp {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// What each kind of rollout does in the release from v1 to v2, and where it must end.
enum class Kind {
  kCanaryGood,      // steps + step analysis + background analysis -> promoted
  kCanaryBad,       // the step analysis fails -> aborted, stays on v1
  kCanaryPromoted,  // an indefinite pause the user promotes -> promoted
  kCanaryAborted,   // an indefinite pause the user aborts -> aborted
  kBlueGreenGood,   // pre- and post-promotion analysis pass -> promoted
  kBlueGreenBad,    // pre-promotion analysis fails -> aborted
};
constexpr int kKinds = 6;
constexpr int kPlain = 24;  // rollouts 0..23: the kinds above, four of each

// Rollouts 24..47: the operation table. Each fails one gate; once the update is aborted the user
// applies one operation (and promotes every BlueGreenPause, before and after it).
enum class Gate { kStep, kBackground, kPre, kPost };
enum class Op { kRetry, kUndo, kPromote, kPromoteFull, kAbort, kResume };
constexpr int kOps = 6;
constexpr int kRollouts = kPlain + 4 * kOps;
constexpr int kMinKills = 50;

bool tableRow(int i) { return i >= kPlain; }
Gate gateOf(int i) { return static_cast<Gate>((i - kPlain) / kOps); }
Op opOf(int i) { return static_cast<Op>((i - kPlain) % kOps); }
const char* gateName(Gate g) {
  static const char* kNames[] = {"step", "background", "pre", "post"};
  return kNames[static_cast<int>(g)];
}
const char* opName(Op op) {
  static const char* kNames[] = {"retry", "undo", "promote", "promote-full", "abort", "resume"};
  return kNames[static_cast<int>(op)];
}
// The rollout type (label) of the runs of each gate.
const char* gateType(Gate g) {
  static const char* kTypes[] = {"Step", "Background", "PrePromotion", "PostPromotion"};
  return kTypes[static_cast<int>(g)];
}

Kind kindOf(int i) { return static_cast<Kind>(i % kKinds); }
bool promotes(Kind k) {
  return k == Kind::kCanaryGood || k == Kind::kCanaryPromoted || k == Kind::kBlueGreenGood;
}
// Where a release ends: on v2 (promoted) or on v1.
bool endsOnV2(int i) { return tableRow(i) ? opOf(i) == Op::kPromoteFull : promotes(kindOf(i)); }
std::string nameOf(int i) { return "r" + std::to_string(i); }

constexpr const char* kTemplate = R"({
  "apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate",
  "metadata": {"name": "quality", "namespace": "default"},
  "spec": {
    "args": [{"name": "image"}],
    "metrics": [{
      "name": "success-rate", "count": 3, "interval": "500ms",
      "successCondition": "result >= 0.95",
      "provider": {"plugin": {"ramp/sim": {
        "key": "{{args.image}}",
        "script": {"demo:v2-bad": [0.5], "*": [0.99]}}}}
    }]
  }
})";

const char* kAnalysisRef = R"({"templates": [{"templateName": "quality"}],
  "args": [{"name": "image",
            "valueFrom": {"fieldRef": {"fieldPath": "spec.template.spec.containers[0].image"}}}]})";

// The table's template: measures "<image>/<gate>", which fails for the gate the image names.
constexpr const char* kGatedTemplate = R"({
  "apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate",
  "metadata": {"name": "gated", "namespace": "default"},
  "spec": {
    "args": [{"name": "image"}, {"name": "gate"}],
    "metrics": [{
      "name": "success-rate", "count": 3, "interval": "500ms",
      "successCondition": "result >= 0.95",
      "provider": {"plugin": {"ramp/sim": {
        "key": "{{args.image}}/{{args.gate}}",
        "script": {"demo:v2-fail-step/step": [0.5], "demo:v2-fail-background/background": [0.5],
                   "demo:v2-fail-pre/pre": [0.5], "demo:v2-fail-post/post": [0.5],
                   "*": [0.99]}}}}
    }]
  }
})";

std::string gatedRef(const std::string& gate, const std::string& extra = "") {
  return R"({"templates": [{"templateName": "gated"}],
  "args": [{"name": "image",
            "valueFrom": {"fieldRef": {"fieldPath": "spec.template.spec.containers[0].image"}}},
           {"name": "gate", "value": ")" +
         gate + R"("}])" + extra + "}";
}

// Table rows: a traffic-routed canary with background and step analysis, or a blue-green (its
// Services switched by the ramp/sim router, so SwitchService events are recorded) with pre- and
// post-promotion analysis and manual promotion (the default abort delay of 30 s, so
// the operation lands while the aborted revision still runs).
std::string tableStrategy(Gate g) {
  if (g == Gate::kStep || g == Gate::kBackground) {
    return R"({"canary": {"trafficRouting": {"plugins": {"ramp/sim": {}}},
      "analysis": )" +
           gatedRef("background", R"(, "startingStep": 1)") + R"(,
      "steps": [{"setWeight": 25}, {"pause": {"duration": "2s"}}, {"analysis": )" +
           gatedRef("step") + R"(}, {"setWeight": 50}]}})";
  }
  return R"({"blueGreen": {"activeService": "active", "previewService": "preview",
    "trafficRouting": {"plugins": {"ramp/sim": {}}},
    "autoPromotionEnabled": false, "scaleDownDelaySeconds": 1,
    "prePromotionAnalysis": )" +
         gatedRef("pre") + R"(, "postPromotionAnalysis": )" + gatedRef("post") + "}}";
}

std::string strategyOf(Kind k) {
  const std::string analysis = kAnalysisRef;
  switch (k) {
    case Kind::kCanaryGood:
    case Kind::kCanaryBad:
      return R"({"canary": {"trafficRouting": {"plugins": {"ramp/sim": {}}},
        "analysis": )" +
             analysis.substr(0, analysis.size() - 1) + R"(, "startingStep": 1},
        "steps": [{"setWeight": 25}, {"pause": {"duration": "10s"}}, {"analysis": )" +
             analysis + R"(}, {"setWeight": 50}, {"pause": {"duration": "6s"}}]}})";
    case Kind::kCanaryPromoted:
      return R"({"canary": {"trafficRouting": {"plugins": {"ramp/sim": {}}},
        "steps": [{"setWeight": 30}, {"pause": {}}, {"setWeight": 60}]}})";
    case Kind::kCanaryAborted:
      return R"({"canary": {"trafficRouting": {"plugins": {"ramp/sim": {}}},
        "abortScaleDownDelaySeconds": 1,
        "steps": [{"setWeight": 20}, {"pause": {}}]}})";
    case Kind::kBlueGreenGood:
    case Kind::kBlueGreenBad:
      return R"({"blueGreen": {"activeService": "active", "previewService": "preview",
        "trafficRouting": {"plugins": {"ramp/sim": {}}},
        "scaleDownDelaySeconds": 1, "abortScaleDownDelaySeconds": 1,
        "autoPromotionSeconds": 5,
        "prePromotionAnalysis": )" +
             analysis + R"(, "postPromotionAnalysis": )" + analysis + "}}";
  }
  return "";
}

std::string rolloutJson(int i, const std::string& image) {
  return R"({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
    "metadata": {"name": ")" +
         nameOf(i) + R"(", "namespace": "default"},
    "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "demo"}},
      "template": {"metadata": {"labels": {"app": "demo"},
                                "annotations": {"sim.ramp.dev/ready-after": "200ms"}},
                   "spec": {"containers": [{"name": "app", "image": ")" +
         image + R"("}]}},
      "strategy": )" +
         (tableRow(i) ? tableStrategy(gateOf(i)) : strategyOf(kindOf(i))) + "}}";
}

std::string v2Image(int i) {
  if (tableRow(i)) return std::string("demo:v2-fail-") + gateName(gateOf(i));
  const Kind k = kindOf(i);
  return k == Kind::kCanaryBad || k == Kind::kBlueGreenBad ? "demo:v2-bad" : "demo:v2";
}

class CrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = store::SqliteStateStore::open(dir.file("ramp.db"));
    ASSERT_TRUE(s) << s.error().message;
    db = std::move(*s);
  }

  void startServe() {
    testing::ProcessOptions o;
    o.argv = {
        testing::binaryDir() + "/ramp", "serve", "--data", dir.path(), "--platform", "platform.sim",
        "--progress-poll-ms",           "100"};
    o.logFile = dir.file("serve.log");
    auto p = testing::Process::start(o);
    ASSERT_TRUE(p) << p.error().message;
    serve = std::move(*p);
    ++starts;
    // Kill only a daemon that got going: wait for this start's "ready" line, so a slow machine
    // cannot turn the test into kills of processes that never reconciled anything.
    const auto deadline = Clock::now() + 60s;
    while (Clock::now() < deadline) {
      if (countReady(serve->log()) >= starts) return;
      ASSERT_TRUE(serve->running()) << serve->log();
      std::this_thread::sleep_for(5ms);
    }
    FAIL() << "ramp serve did not become ready\n" << serve->log();
  }

  static int countReady(const std::string& log) {
    int n = 0;
    for (size_t at = log.find("ramp serve: ready"); at != std::string::npos;
         at = log.find("ramp serve: ready", at + 1)) {
      ++n;
    }
    return n;
  }

  void kill9() {
    ::kill(serve->pid(), SIGKILL);
    serve->stop(0ms);  // reaps it
    serve.reset();
  }

  // Create or update the spec, keeping the status the controller wrote (what `ramp apply`
  // does). Retries when the controller wrote in between.
  void apply(const std::string& json) {
    auto decoded = spec::objectFromJson(json);
    ASSERT_TRUE(decoded.value) << decoded.diagnostics.front().path << ": "
                               << decoded.diagnostics.front().message;
    const auto& meta = spec::metadataOf(*decoded.value);
    store::ObjectKey key{spec::kindName(spec::kindOf(*decoded.value)), meta.namespace_, meta.name};
    for (int attempt = 0; attempt < 50; ++attempt) {
      auto existing = db->get(key);
      std::string text = spec::toJson(*decoded.value);
      int64_t version = 0;
      if (existing) {
        version = existing->version;
        if (auto* r = std::get_if<spec::Rollout>(&*decoded.value)) {
          auto old = spec::rolloutFromJson(existing->json).value;
          r->status = old->status;
          r->metadata.generation = old->metadata.generation + 1;
          text = spec::toJson(*r);
        }
      } else if (auto* r = std::get_if<spec::Rollout>(&*decoded.value)) {
        r->metadata.generation = 1;
        text = spec::toJson(*r);
      }
      auto put = db->put(key, text, version);
      if (put) return;
      ASSERT_EQ(put.error().code, ErrorCode::kConflict) << put.error().message;
    }
    FAIL() << "could not apply " << key.toString();
  }

  spec::Rollout rollout(int i) {
    auto got = db->get({"Rollout", "default", nameOf(i)});
    EXPECT_TRUE(got) << nameOf(i);
    return got ? *spec::rolloutFromJson(got->json).value : spec::Rollout{};
  }

  // A user operation, written as the API writes it: read, apply, compare-and-swap, with an
  // event naming the action in the same transaction (so the log shows where it happened).
  // Returns "" when written, else the operation's error.
  std::string operate(int i, const std::string& action,
                      const std::function<Result<spec::Rollout>(const spec::Rollout&)>& op) {
    for (int attempt = 0; attempt < 50; ++attempt) {
      auto got = db->get({"Rollout", "default", nameOf(i)});
      auto r = spec::rolloutFromJson(got->json).value;
      auto next = op(*r);
      if (!next) return next.error().message;
      if (next->spec != r->spec) next->metadata.generation = r->metadata.generation + 1;
      store::WriteOp put{store::WriteOp::Type::kPut, got->key, spec::toJson(*next), got->version};
      store::Event event;
      event.time = std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
      event.object = got->key;
      event.reason = "UserOperation";
      event.message = action + " requested";
      event.evidence = nlohmann::json{{"action", action}}.dump();
      event.actor = "crash-test";
      auto written = db->writeWithEvents(std::span(&put, 1), std::span(&event, 1));
      if (written) return "";
      if (written.error().code != ErrorCode::kConflict) return written.error().message;
    }
    return "kept conflicting";
  }

  static std::string phase(const spec::Rollout& r) {
    return spec::rolloutPhaseName(r.status.phase);
  }

  std::string hashOf(int i, const std::string& image) {
    auto r = spec::rolloutFromJson(rolloutJson(i, image)).value;
    return rollout::podTemplateHash(*r->spec.template_, std::nullopt);
  }

  // The runs of rollout i's revision `hash` with rollout type `type`.
  std::vector<spec::AnalysisRun> runsOf(int i, const std::string& hash, const std::string& type) {
    std::vector<spec::AnalysisRun> out;
    auto runs = db->list("AnalysisRun", "default");
    EXPECT_TRUE(runs) << runs.error().message;
    if (!runs) return out;
    for (const auto& o : runs->items) {
      auto run = spec::analysisRunFromJson(o.json).value;
      if (!run || run->metadata.labels["rollouts.ramp.dev/rollout"] != nameOf(i)) continue;
      if (run->metadata.labels["rollouts-pod-template-hash"] != hash) continue;
      if (run->metadata.labels["rollout-type"] == type) out.push_back(*run);
    }
    return out;
  }
  int failedRuns(int i, Gate g) {
    int n = 0;
    for (const auto& run : runsOf(i, hashOf(i, v2Image(i)), gateType(g)))
      if (run.status.phase == spec::AnalysisPhase::kFailed) ++n;
    return n;
  }

  bool settled(int i, bool release) {
    const auto r = rollout(i);
    if (r.status.observedGeneration != std::to_string(r.metadata.generation)) return false;
    const std::string p = phase(r);
    if (!release) return p == "Healthy";
    if (tableRow(i)) {
      if (!acted[i]) return false;
      switch (opOf(i)) {
        case Op::kRetry:  // aborted again by the analysis that ran again
          return p == "Degraded" && r.status.abort && failedRuns(i, gateOf(i)) >= 2;
        case Op::kUndo: return p == "Healthy" && r.status.stableRS == hashOf(i, "demo:v1");
        case Op::kPromoteFull: return p == "Healthy" && r.status.stableRS == hashOf(i, v2Image(i));
        default: return p == "Degraded" && r.status.abort;
      }
    }
    return promotes(kindOf(i)) ? p == "Healthy" && r.status.stableRS == hashOf(i, v2Image(i))
                               : p == "Degraded" && r.status.abort;
  }

  // The operation of table row i, applied to its aborted update. resume applies to a paused
  // rollout, so the user pauses the aborted update first.
  std::string tableOperation(int i) {
    switch (opOf(i)) {
      case Op::kRetry: return operate(i, "retry", rollout::retry);
      case Op::kUndo: {
        auto v1 = spec::rolloutFromJson(rolloutJson(i, "demo:v1")).value;
        auto v2 = spec::rolloutFromJson(rolloutJson(i, v2Image(i))).value;
        std::vector<platform::ObservedRevision> revisions(2);
        revisions[0].podTemplateHash = hashOf(i, "demo:v1");
        revisions[0].revision = 1;
        revisions[0].template_ = *v1->spec.template_;
        revisions[1].podTemplateHash = hashOf(i, v2Image(i));
        revisions[1].revision = 2;
        revisions[1].template_ = *v2->spec.template_;
        return operate(i, "undo", [&](const spec::Rollout& r) {
          return rollout::undo(r, revisions, std::nullopt);
        });
      }
      case Op::kPromote: return operate(i, "promote", rollout::promote);
      case Op::kPromoteFull: return operate(i, "promote-full", rollout::promoteFull);
      case Op::kAbort: return operate(i, "abort", rollout::abortRollout);
      case Op::kResume: {
        const std::string paused = operate(i, "pause", rollout::pause);
        return paused.empty() ? operate(i, "resume", rollout::resume) : paused;
      }
    }
    return "unknown operation";
  }

  // User intents for the rollouts that wait for them; each is given once, except that a table
  // row's BlueGreenPause is promoted whenever it appears.
  void actAsUser() {
    for (int i = 0; i < kRollouts; ++i) {
      if (tableRow(i)) {
        const bool blueGreen = gateOf(i) == Gate::kPre || gateOf(i) == Gate::kPost;
        if (acted[i] && !(blueGreen && opOf(i) == Op::kRetry)) continue;  // nothing more to do
        const auto r = rollout(i);
        for (const auto& c : r.status.pauseConditions)
          if (c.reason == spec::kPauseReasonBlueGreenPause) operate(i, "promote", rollout::promote);
        if (acted[i] || !r.status.abort || phase(r) != "Degraded") continue;
        outcome[i] = tableOperation(i);
        acted[i] = true;
        continue;
      }
      const Kind k = kindOf(i);
      if ((k != Kind::kCanaryPromoted && k != Kind::kCanaryAborted) || acted[i]) continue;
      const auto r = rollout(i);
      if (r.status.currentStepIndex != 1 || r.status.pauseConditions.empty()) continue;
      acted[i] = operate(i, k == Kind::kCanaryPromoted ? "promote" : "abort",
                         k == Kind::kCanaryPromoted ? rollout::promote : rollout::abortRollout)
                     .empty();
    }
  }

  // The rollouts that are not (yet) where their release should end, with where they are.
  std::string unsettled() {
    std::string out;
    for (int i = 0; i < kRollouts; ++i) {
      if (settled(i, true)) continue;
      const auto r = rollout(i);
      out += "\n  " + nameOf(i) +
             (tableRow(i) ? std::string(" (") + opName(opOf(i)) + " after a failed " +
                                gateName(gateOf(i)) + " analysis)"
                          : " (kind " + std::to_string(i % kKinds) + ")") +
             ": " + phase(r) + " " + r.status.message + ", stable " +
             (r.status.stableRS == hashOf(i, "demo:v1") ? "v1" : r.status.stableRS);
    }
    return out;
  }

  // The end state and the event log of table row i (see the top of the file).
  void checkTableRow(int i) {
    const Op op = opOf(i);
    const Gate gate = gateOf(i);
    const auto r = rollout(i);
    const std::string v1 = hashOf(i, "demo:v1");
    const std::string v2 = hashOf(i, v2Image(i));
    ASSERT_TRUE(acted[i]) << "the operation was applied";
    const bool refused = op == Op::kPromote || op == Op::kAbort;
    if (refused) {
      EXPECT_NE(outcome[i], "") << "refused on an aborted update";
    } else {
      EXPECT_EQ(outcome[i], "");
    }
    EXPECT_EQ(r.status.stableRS, endsOnV2(i) ? v2 : v1);
    if (op == Op::kPromoteFull) {
      ASSERT_TRUE(r.status.duration.has_value());
      EXPECT_EQ(r.status.duration->completionStatus, "FastPromoted");
    }
    if (op == Op::kUndo) EXPECT_EQ(r.status.currentPodHash, v1);
    if (gate == Gate::kPre || gate == Gate::kPost) {
      EXPECT_EQ(r.status.blueGreen.activeSelector, endsOnV2(i) ? v2 : v1);
    }

    // Retry runs the failed gate again (it fails again: same image); for a post-promotion
    // failure the switch back is gated by a new pre-promotion analysis first.
    const int expectedFailures = op == Op::kRetry ? 2 : 1;
    EXPECT_EQ(failedRuns(i, gate), expectedFailures);
    if (gate == Gate::kPost) {
      int passedPre = 0;
      for (const auto& run : runsOf(i, v2, "PrePromotion")) {
        if (run.status.phase == spec::AnalysisPhase::kSuccessful && !run.spec.terminate) {
          ++passedPre;
        }
      }
      EXPECT_EQ(passedPre, expectedFailures);
    }

    // The log, in order: every switch of the active selector to v2 comes after a pre-promotion
    // analysis that ran to Successful and a BlueGreenPause, both since the last abort; nothing
    // is completed on v2 except by promote --full.
    std::map<std::string, bool> passed;  // runs that ran to their end Successful
    for (const char* type : {"Step", "Background", "PrePromotion", "PostPromotion"}) {
      for (const auto& run : runsOf(i, v2, type)) {
        passed[run.metadata.name] =
            run.status.phase == spec::AnalysisPhase::kSuccessful && !run.spec.terminate;
      }
    }
    bool afterV2 = false, full = false, prePassed = false, paused = false;
    std::map<std::string, int> count;
    std::vector<int> stepsCompleted;
    for (const auto& e : eventsOf(i)) {
      if (e.reason == "RolloutUpdated" && e.message.find("revision 2") != std::string::npos) {
        afterV2 = true;
      }
      if (!afterV2) continue;
      ++count[e.reason];
      auto ev = e.evidence.empty() ? nlohmann::json::object() : nlohmann::json::parse(e.evidence);
      auto field = [&](const char* key) { return ev.value(key, std::string()); };
      if (e.reason == "UserOperation" && field("action") == "promote-full") full = true;
      if (e.reason == "RolloutAborted") {
        prePassed = paused = false;
        stepsCompleted.clear();
      }
      if (e.reason == "AnalysisRunSuccessful" && field("rolloutType") == "PrePromotion" &&
          passed[field("analysisRun")]) {
        prePassed = true;
      }
      if (e.reason == "RolloutPaused" && field("reason") == "BlueGreenPause") paused = true;
      if (e.reason == "SwitchService" && field("service") == "active" && field("to") == v2 &&
          !full) {
        EXPECT_TRUE(prePassed) << "active switched to v2 without a passed pre-promotion analysis "
                                  "since the last abort (event "
                               << e.id << ")";
        EXPECT_TRUE(paused) << "active switched to v2 without a BlueGreenPause since the last "
                               "abort (event "
                            << e.id << ")";
      }
      if (e.reason == "RolloutStepCompleted") {
        const int step = std::stoi(field("stepIndex"));
        EXPECT_EQ(step, static_cast<int>(stepsCompleted.size()))
            << "steps completed once, in order, per attempt";
        stepsCompleted.push_back(step);
      }
    }
    EXPECT_TRUE(afterV2) << "RolloutUpdated to revision 2 is in the log";
    EXPECT_EQ(count["RolloutUpdated"], op == Op::kUndo ? 2 : 1);  // undo: revision 3
    EXPECT_EQ(count["RolloutAborted"], expectedFailures);
    EXPECT_EQ(count["RolloutCompleted"], op == Op::kPromoteFull ? 1 : 0);
  }

  std::vector<store::Event> eventsOf(int i) {
    store::EventQuery q;
    q.object = store::ObjectKey{"Rollout", "default", nameOf(i)};
    q.limit = 10000;
    return *db->listEvents(q);
  }

  testing::TempDir dir;
  std::unique_ptr<store::SqliteStateStore> db;
  std::unique_ptr<testing::Process> serve;
  std::map<int, bool> acted;
  std::map<int, std::string> outcome;  // table rows: "" or why the operation was refused
  int starts = 0;
};

TEST_F(CrashTest, EveryRolloutEndsWhereArgoSaysDespiteFiftyKills) {
  std::mt19937 rng(20261122);  // fixed seed: a failure can be replayed
  apply(kTemplate);
  apply(kGatedTemplate);
  for (int i = 0; i < kRollouts; ++i) apply(rolloutJson(i, "demo:v1"));
  startServe();

  auto waitAll = [&](bool release, std::chrono::seconds limit) {
    const auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline) {
      bool all = true;
      for (int i = 0; i < kRollouts && all; ++i) all = settled(i, release);
      if (all) return true;
      if (release) actAsUser();
      std::this_thread::sleep_for(50ms);
    }
    return false;
  };
  ASSERT_TRUE(waitAll(false, 60s)) << serve->log();

  for (int i = 0; i < kRollouts; ++i) apply(rolloutJson(i, v2Image(i)));

  // Kill at random instants while the releases run; keep killing until they are all done and
  // at least kMinKills kills happened.
  int kills = 0;
  int killsMidRelease = 0;
  const auto deadline = Clock::now() + 240s;
  std::uniform_int_distribution<int> pauseMs(20, 300);
  for (;;) {
    ASSERT_LT(Clock::now(), deadline) << "releases did not finish; kills: " << kills;
    const auto until = Clock::now() + std::chrono::milliseconds(pauseMs(rng));
    while (Clock::now() < until) {
      actAsUser();
      std::this_thread::sleep_for(10ms);
    }
    bool all = true;
    for (int i = 0; i < kRollouts && all; ++i) all = settled(i, true);
    if (kills >= kMinKills) break;  // then let the releases finish undisturbed
    if (!all) ++killsMidRelease;
    kill9();
    ++kills;
    startServe();
  }
  std::cout << "[ crash    ] " << kills << " SIGKILLs, " << killsMidRelease
            << " in the middle of releases\n";
  EXPECT_GE(killsMidRelease, 20) << "most kills must land in the middle of releases";
  // Checked below rollout by rollout, so a release that ends in the wrong place says why.
  const bool finished = waitAll(true, 120s);
  EXPECT_TRUE(finished) << "not where they should end:" << unsettled();
  EXPECT_EQ(WEXITSTATUS(serve->stop()), 0) << "SIGTERM drains and exits 0";

  for (int i = kPlain; i < kRollouts; ++i) {
    SCOPED_TRACE(nameOf(i) + ": " + opName(opOf(i)) + " after a failed " + gateName(gateOf(i)) +
                 " analysis");
    checkTableRow(i);
  }

  for (int i = 0; i < kPlain; ++i) {
    SCOPED_TRACE(nameOf(i) + " kind " + std::to_string(i % kKinds));
    const Kind k = kindOf(i);
    const auto r = rollout(i);
    const std::string v1 = hashOf(i, "demo:v1");
    const std::string v2 = hashOf(i, v2Image(i));
    EXPECT_EQ(r.status.stableRS, promotes(k) ? v2 : v1);

    // Traffic: the canary weight is back to 0 (promoted: stable is v2; aborted: stable is v1).
    if (k != Kind::kBlueGreenGood && k != Kind::kBlueGreenBad) {
      auto traffic = traffic::sim::readSimTraffic(dir.path(), "default/" + nameOf(i));
      ASSERT_TRUE(traffic) << traffic.error().message;
      EXPECT_EQ(traffic->canaryWeight, 0);
    }

    // Never a promotion without a successful analysis; every analysis of a promoted release
    // passed, and a failed one means the release was aborted.
    auto runs = db->list("AnalysisRun", "default");
    int successfulGate = 0;
    int failed = 0;
    for (const auto& o : runs->items) {
      auto run = spec::analysisRunFromJson(o.json).value;
      if (run->metadata.labels["rollouts.ramp.dev/rollout"] != nameOf(i)) continue;
      if (run->metadata.labels["rollouts-pod-template-hash"] != v2) continue;
      const std::string type = run->metadata.labels["rollout-type"];
      if (run->status.phase == spec::AnalysisPhase::kFailed) ++failed;
      // A run the rollout terminated (on abort) ends Successful too, as in Argo: it proves
      // nothing, so only runs that ran to their end count as a passed gate.
      if ((type == "Step" || type == "PrePromotion") && !run->spec.terminate &&
          run->status.phase == spec::AnalysisPhase::kSuccessful) {
        ++successfulGate;
      }
    }
    if (k == Kind::kCanaryGood || k == Kind::kBlueGreenGood) {
      EXPECT_EQ(successfulGate, 1);
      EXPECT_EQ(failed, 0);
    }
    if (k == Kind::kCanaryBad || k == Kind::kBlueGreenBad) {
      EXPECT_EQ(successfulGate, 0);
      EXPECT_GE(failed, 1);
    }

    // The event log tells the release once, in order.
    std::map<std::string, int> count;
    std::vector<int> stepsCompleted;
    bool afterV2 = false;
    for (const auto& e : eventsOf(i)) {
      if (e.reason == "RolloutUpdated" && e.message.find("revision 2") != std::string::npos) {
        afterV2 = true;
      }
      if (!afterV2) continue;
      ++count[e.reason];
      if (e.reason == "RolloutStepCompleted") {
        auto ev = nlohmann::json::parse(e.evidence);
        stepsCompleted.push_back(std::stoi(ev["stepIndex"].get<std::string>()));
      }
    }
    EXPECT_TRUE(afterV2) << "RolloutUpdated to revision 2 is in the log";
    EXPECT_EQ(count["RolloutUpdated"], 1);
    for (size_t s = 0; s < stepsCompleted.size(); ++s) {
      EXPECT_EQ(stepsCompleted[s], static_cast<int>(s)) << "steps completed once, in order";
    }
    if (k == Kind::kCanaryGood) {
      EXPECT_EQ(stepsCompleted.size(), 5u);
    }
    if (k == Kind::kCanaryPromoted) {
      EXPECT_EQ(stepsCompleted.size(), 3u);
    }
    EXPECT_EQ(count["RolloutCompleted"], promotes(k) ? 1 : 0);
    EXPECT_EQ(count["RolloutAborted"], promotes(k) ? 0 : 1);
  }
}

}  // namespace
}  // namespace ramp
