// The signature gate in the core (image_gate.cc, docs/supply-chain.md): a revision is created
// only when every image of its template was allowed by the shell's verifier, and with each image
// pinned to its verified digest; a refusal pauses the rollout (ImageNotVerified) with the
// condition ImageVerified=False, says so once, and is lifted by `retry` or a spec change.

#include <gtest/gtest.h>

#include "rollout/world.h"

namespace ramp::rollout {
namespace {

using testing::actionsOf;
using testing::canaryYaml;
using testing::findEvent;
using testing::phaseOf;
using testing::reasons;
using testing::World;

const char* kSteps =
    "      steps:\n"
    "      - setWeight: 50\n"
    "      - pause: {}\n";

const std::string kDigest =
    "sha256:4aa3054270f7a70b4528f2064ee90961788e1e1518703592ae4463de3b889dec";

supply::ImageVerdict verified(const std::string& image) {
  supply::ImageVerdict v;
  v.allowed = true;
  v.image = image;
  v.digest = kDigest;
  v.pinnedImage = image + "@" + kDigest;
  v.policy = "shop";
  v.authority = "release-key";
  v.reason = "image " + image + " (" + kDigest +
             ") verified by authority release-key of "
             "ClusterImagePolicy shop";
  return v;
}

supply::ImageVerdict refused(const std::string& image) {
  supply::ImageVerdict v;
  v.image = image;
  v.policy = "shop";
  v.reason = "image " + image +
             " is not verified by ClusterImagePolicy shop; release-key: no "
             "signature";
  return v;
}

supply::ImageVerdict warnOnly(const std::string& image) {
  supply::ImageVerdict v;
  v.allowed = true;
  v.image = image;
  v.policy = "shop";
  v.warnOnly = true;
  v.warnings = {"image " + image + " is not verified by ClusterImagePolicy shop"};
  v.reason = "allowed in warn mode: " + v.warnings.front();
  return v;
}

supply::ImageVerdict noMatchAllowed(const std::string& image) {
  supply::ImageVerdict v;
  v.allowed = true;
  v.image = image;
  v.reason =
      "no ClusterImagePolicy matches image " + image + " (allowed: no-match policy is allow)";
  return v;
}

// v1 deployed and healthy without a gate, then the spec moves to demo:v2.
World updatedToV2() {
  World w;
  w.rollout = testing::parseRollout(canaryYaml(kSteps, 4));
  w.settle();
  EXPECT_EQ(phaseOf(w.history.back()), "Healthy") << w.history.back().status.message;
  testing::setImage(w.rollout, "demo:v2");
  return w;
}

const spec::RolloutCondition* imageCondition(const Plan& p) {
  for (const auto& c : p.status.conditions)
    if (c.type == kConditionImageVerified) return &c;
  return nullptr;
}

bool imagePaused(const Plan& p) {
  for (const auto& c : p.status.pauseConditions)
    if (c.reason == kPauseReasonImageNotVerified) return true;
  return false;
}

struct GateCase {
  std::string name;
  // The check the shell hands in; `hash` "" = the revision of demo:v2.
  std::optional<std::vector<supply::ImageVerdict>> verdicts;
  std::string checkHash;
  // Expected.
  std::string ensuredImage;     // "" = no EnsureRevision at all
  std::string conditionStatus;  // "" = no ImageVerified condition
  std::string conditionReason;
  std::vector<std::string> imageEvents;  // the reasons of the gate's events, in order
  std::string phase;
};

// gtest prints a failing row by its name.
void PrintTo(const GateCase& c, std::ostream* os) {  // NOLINT(readability-identifier-naming)
  *os << c.name;
}

class ImageGateTable : public ::testing::TestWithParam<GateCase> {};

TEST_P(ImageGateTable, DecidesTheRevisionFromTheVerdicts) {
  const GateCase& tc = GetParam();
  World w = updatedToV2();
  const std::string v2 = w.hashOf("demo:v2");
  if (tc.verdicts) {
    w.observed.imageCheck = ImageCheck{tc.checkHash.empty() ? v2 : tc.checkHash, *tc.verdicts};
  }
  Plan p = w.step();
  auto ensures = actionsOf<EnsureRevision>(p);
  if (tc.ensuredImage.empty()) {
    EXPECT_TRUE(p.actions.empty()) << describe(p.actions.front());
    EXPECT_TRUE(imagePaused(p));
    EXPECT_FALSE(p.requeueAfter.has_value());  // a spec change or a retry comes back
    EXPECT_EQ(p.status.currentPodHash, w.history.front().status.currentPodHash);
  } else {
    ASSERT_EQ(ensures.size(), 1u);
    // The revision is the spec's as written (Argo's hash); only the images it runs are pinned.
    EXPECT_EQ(ensures[0].hash, v2);
    EXPECT_EQ(ensures[0].template_.spec.containers.at(0).image, tc.ensuredImage);
    EXPECT_FALSE(imagePaused(p));
    EXPECT_EQ(p.status.currentPodHash, v2);
  }
  const spec::RolloutCondition* cond = imageCondition(p);
  if (tc.conditionStatus.empty()) {
    EXPECT_EQ(cond, nullptr);
  } else {
    ASSERT_NE(cond, nullptr);
    EXPECT_EQ(cond->status, tc.conditionStatus);
    EXPECT_EQ(cond->reason, tc.conditionReason);
  }
  std::vector<std::string> imageEvents;
  for (const auto& e : p.events) {
    if (e.reason.starts_with("Image")) imageEvents.push_back(e.reason);
  }
  EXPECT_EQ(imageEvents, tc.imageEvents);
  EXPECT_EQ(phaseOf(p), tc.phase) << p.status.message;
}

INSTANTIATE_TEST_SUITE_P(
    Verdicts, ImageGateTable,
    ::testing::Values(
        GateCase{"NoVerifier", std::nullopt, "", "demo:v2", "", "", {}, "Progressing"},
        GateCase{"VerifiedIsPinned",
                 std::vector{verified("demo:v2")},
                 "",
                 "demo:v2@" + kDigest,
                 "True",
                 "ImageVerified",
                 {"ImageVerified"},
                 "Progressing"},
        GateCase{"RefusedStartsNothing",
                 std::vector{refused("demo:v2")},
                 "",
                 "",
                 "False",
                 "ImageNotVerified",
                 {"ImageNotVerified"},
                 "Paused"},
        GateCase{"WarnModeProceedsWithAWarning",
                 std::vector{warnOnly("demo:v2")},
                 "",
                 "demo:v2",
                 "True",
                 "ImageAllowed",
                 {"ImagePolicyWarning"},
                 "Progressing"},
        GateCase{"NoMatchAllowedRunsAsWritten",
                 std::vector{noMatchAllowed("demo:v2")},
                 "",
                 "demo:v2",
                 "True",
                 "ImageAllowed",
                 {"ImageAllowed"},
                 "Progressing"},
        GateCase{"AVerdictAboutAnotherRevisionIsNoPass",
                 std::vector{verified("demo:v2")},
                 "otherhash",
                 "",
                 "False",
                 "ImageNotVerified",
                 {"ImageNotVerified"},
                 "Paused"},
        GateCase{"AVerdictAboutAnotherImageIsNoPass",
                 std::vector{verified("demo:v3")},
                 "",
                 "",
                 "False",
                 "ImageNotVerified",
                 {"ImageNotVerified"},
                 "Paused"}),
    [](const ::testing::TestParamInfo<GateCase>& info) { return info.param.name; });

TEST(ImageGate, ARefusalNamesImagePolicyAndReasonAndIsSaidOnce) {
  World w = updatedToV2();
  const std::string v2 = w.hashOf("demo:v2");
  w.observed.imageCheck = ImageCheck{v2, {refused("demo:v2")}};
  Plan p = w.step();
  const Event* e = findEvent(p, "ImageNotVerified");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->type, "Warning");
  EXPECT_EQ(e->message, refused("demo:v2").reason);
  EXPECT_EQ(e->evidence.at("image"), "demo:v2");
  EXPECT_EQ(e->evidence.at("policy"), "shop");
  EXPECT_EQ(e->evidence.at("allowed"), "false");
  EXPECT_EQ(e->evidence.at("podTemplateHash"), v2);
  EXPECT_EQ(imageCondition(p)->message, refused("demo:v2").reason);
  EXPECT_EQ(p.status.message, "ImageNotVerified: " + refused("demo:v2").reason);
  EXPECT_EQ(p.status.observedGeneration, "2");
  EXPECT_TRUE(p.status.controllerPause);
  // The stable revision keeps running as it was.
  EXPECT_EQ(p.status.stableRS, w.hashOf("demo:v1"));

  // Later reconciles with the same refusal: nothing new, nothing said again.
  w.now += std::chrono::seconds(30);
  Plan again = w.step();
  EXPECT_TRUE(again.actions.empty());
  EXPECT_TRUE(again.events.empty()) << reasons(again).front();
  EXPECT_EQ(again.status, p.status);
}

TEST(ImageGate, RetryChecksAgainAndAVerifiedImageThenProceedsPinned) {
  World w = updatedToV2();
  const std::string v2 = w.hashOf("demo:v2");
  w.observed.imageCheck = ImageCheck{v2, {refused("demo:v2")}};
  w.step();
  EXPECT_FALSE(imageRecheckRequested(w.rollout.status));  // the pause stands

  // retry lifts the gate's pause: the shell is to ask its verifier again.
  auto retried = retry(w.rollout);
  ASSERT_TRUE(retried) << retried.error().message;
  w.rollout = *retried;
  EXPECT_TRUE(imageRecheckRequested(w.rollout.status));

  // Still not signed: refused again, and said again (a new decision).
  Plan p = w.step();
  EXPECT_TRUE(p.actions.empty());
  EXPECT_NE(findEvent(p, "ImageNotVerified"), nullptr);
  EXPECT_FALSE(imageRecheckRequested(w.rollout.status));

  // Signed now: the revision is created with the pinned image, the pause is gone.
  w.rollout = *retry(w.rollout);
  w.observed.imageCheck = ImageCheck{v2, {verified("demo:v2")}};
  w.now += std::chrono::seconds(10);
  p = w.step();
  auto ensures = actionsOf<EnsureRevision>(p);
  ASSERT_EQ(ensures.size(), 1u);
  EXPECT_EQ(ensures[0].hash, v2);
  EXPECT_EQ(ensures[0].template_.spec.containers.at(0).image, "demo:v2@" + kDigest);
  EXPECT_FALSE(imagePaused(p));
  EXPECT_EQ(imageCondition(p)->status, "True");
  const Event* e = findEvent(p, "ImageVerified");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->evidence.at("pinnedImage"), "demo:v2@" + kDigest);
  EXPECT_EQ(e->evidence.at("digest"), kDigest);
  EXPECT_EQ(e->evidence.at("authority"), "release-key");
  EXPECT_NE(findEvent(p, "NewReplicaSetCreated"), nullptr);

  // The update runs its steps like any other; the verdict is not announced twice.
  Plan next = w.settle();
  EXPECT_EQ(phaseOf(next), "Paused") << next.status.message;  // the canary's pause step
  EXPECT_EQ(next.status.pauseConditions.at(0).reason, spec::kPauseReasonCanaryPauseStep);
  int verifiedEvents = 0;
  for (const auto& r : w.allReasons()) verifiedEvents += r == "ImageVerified";
  EXPECT_EQ(verifiedEvents, 1);
  EXPECT_EQ(w.revision(v2)->template_.spec.containers.at(0).image, "demo:v2@" + kDigest);
}

// The attestations a verdict carries (provenance, SBOMs) are evidence of its event, so of the
// signature-check audit record.
TEST(ImageGate, AttestationsAreEvidenceOfTheVerdict) {
  World w = updatedToV2();
  const std::string v2 = w.hashOf("demo:v2");
  supply::ImageVerdict v = verified("demo:v2");
  v.attestations = {"https://slsa.dev/provenance/v1", "https://cyclonedx.org/bom"};
  v.provenance =
      supply::ProvenanceEvidence{"https://builder/id", "git+https://x/y@refs/tags/v2",
                                 "gitCommit:ff00", "https://ci/runs/7", "registry/demo@sha256:aa"};
  v.sboms = {supply::SbomEvidence{"cyclonedx", "registry/demo@sha256:bb", 12},
             supply::SbomEvidence{"spdx", "registry/demo@sha256:cc", -1}};
  w.observed.imageCheck = ImageCheck{v2, {v}};
  Plan p = w.step();
  const Event* e = findEvent(p, "ImageVerified");
  ASSERT_NE(e, nullptr);
  const std::map<std::string, std::string> want = {
      {"attestations[0]", "https://slsa.dev/provenance/v1"},
      {"attestations[1]", "https://cyclonedx.org/bom"},
      {"provenance.builderId", "https://builder/id"},
      {"provenance.source", "git+https://x/y@refs/tags/v2"},
      {"provenance.sourceDigest", "gitCommit:ff00"},
      {"provenance.invocationId", "https://ci/runs/7"},
      {"provenance.location", "registry/demo@sha256:aa"},
      {"sboms[0].format", "cyclonedx"},
      {"sboms[0].location", "registry/demo@sha256:bb"},
      {"sboms[0].components", "12"},
      {"sboms[1].format", "spdx"},
      {"sboms[1].location", "registry/demo@sha256:cc"}};
  for (const auto& [key, value] : want) {
    auto it = e->evidence.find(key);
    ASSERT_NE(it, e->evidence.end()) << key;
    EXPECT_EQ(it->second, value) << key;
  }
  EXPECT_EQ(e->evidence.count("sboms[1].components"), 0u);  // not counted: not said
  // A verdict without attestations has none of these.
  World plain = updatedToV2();
  plain.observed.imageCheck = ImageCheck{v2, {verified("demo:v2")}};
  Plan q = plain.step();
  const Event* f = findEvent(q, "ImageVerified");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->evidence.count("provenance.builderId"), 0u);
  EXPECT_EQ(f->evidence.count("attestations[0]"), 0u);
}

TEST(ImageGate, ASpecChangeBackToTheRunningRevisionLiftsThePause) {
  World w = updatedToV2();
  w.observed.imageCheck = ImageCheck{w.hashOf("demo:v2"), {refused("demo:v2")}};
  w.step();
  testing::setImage(w.rollout, "demo:v1");
  Plan p = w.settle();
  EXPECT_EQ(phaseOf(p), "Healthy") << p.status.message;
  EXPECT_FALSE(imagePaused(p));
  EXPECT_EQ(imageCondition(p), nullptr);
  EXPECT_TRUE(actionsOf<EnsureRevision>(p).empty());
}

TEST(ImageGate, WithoutAVerifierAnyMoreTheRevisionRunsAsWritten) {
  World w = updatedToV2();
  w.observed.imageCheck = ImageCheck{w.hashOf("demo:v2"), {refused("demo:v2")}};
  w.step();
  w.observed.imageCheck.reset();
  Plan p = w.step();
  auto ensures = actionsOf<EnsureRevision>(p);
  ASSERT_EQ(ensures.size(), 1u);
  EXPECT_EQ(ensures[0].template_.spec.containers.at(0).image, "demo:v2");
  EXPECT_FALSE(imagePaused(p));
  EXPECT_EQ(imageCondition(p), nullptr);
}

TEST(ImageGate, AFirstDeployOfARefusedImageStartsNothing) {
  World w;
  w.rollout = testing::parseRollout(canaryYaml(kSteps, 2));
  w.observed.imageCheck = ImageCheck{w.hashOf("demo:v1"), {refused("demo:v1")}};
  Plan p = w.step();
  EXPECT_TRUE(p.actions.empty());
  EXPECT_EQ(phaseOf(p), "Paused");
  EXPECT_TRUE(w.observed.workload.revisions.empty());
}

TEST(ImageGate, EveryImageOfInitContainersAndContainersMustPass) {
  World w = updatedToV2();
  spec::Container init;
  init.name = "migrate";
  init.image = "tools:1";
  w.rollout.spec.template_->spec.initContainers.push_back(init);
  const std::string hash = podTemplateHash(*w.rollout.spec.template_, std::nullopt);
  EXPECT_EQ(templateImages(*w.rollout.spec.template_),
            (std::vector<std::string>{"tools:1", "demo:v2"}));

  w.observed.imageCheck = ImageCheck{hash, {refused("tools:1"), verified("demo:v2")}};
  Plan p = w.step();
  EXPECT_TRUE(p.actions.empty());
  EXPECT_EQ(imageCondition(p)->message, refused("tools:1").reason);

  w.rollout = *retry(w.rollout);
  w.observed.imageCheck = ImageCheck{hash, {verified("tools:1"), verified("demo:v2")}};
  p = w.step();
  auto ensures = actionsOf<EnsureRevision>(p);
  ASSERT_EQ(ensures.size(), 1u);
  EXPECT_EQ(ensures[0].hash, hash);
  EXPECT_EQ(ensures[0].template_.spec.initContainers.at(0).image, "tools:1@" + kDigest);
  EXPECT_EQ(ensures[0].template_.spec.containers.at(0).image, "demo:v2@" + kDigest);
  EXPECT_EQ(reasons(p).at(0), "ImageVerified");
  EXPECT_EQ(reasons(p).at(1), "ImageVerified");
}

TEST(ImageGate, RevisionToCreateIsTheOneAnEnsureRevisionWouldStart) {
  World w;
  w.rollout = testing::parseRollout(canaryYaml(kSteps, 2));
  auto first = revisionToCreate(w.rollout, w.observed);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->hash, w.hashOf("demo:v1"));
  EXPECT_EQ(first->template_, &*w.rollout.spec.template_);
  w.settle();
  EXPECT_FALSE(revisionToCreate(w.rollout, w.observed));  // the newest already

  testing::setImage(w.rollout, "demo:v2");
  EXPECT_EQ(revisionToCreate(w.rollout, w.observed)->hash, w.hashOf("demo:v2"));
  w.step();
  EXPECT_FALSE(revisionToCreate(w.rollout, w.observed));
  // Back to v1 (an older revision that becomes the newest again): asked again.
  testing::setImage(w.rollout, "demo:v1");
  EXPECT_EQ(revisionToCreate(w.rollout, w.observed)->hash, w.hashOf("demo:v1"));
}

TEST(ImageGate, BlueGreenPreviewsOnlyAVerifiedImage) {
  World w;
  w.rollout = testing::parseRollout(testing::blueGreenYaml(
      "      activeService: demo-active\n      autoPromotionEnabled: false\n"));
  w.settle();
  testing::setImage(w.rollout, "demo:v2");
  const std::string v2 = w.hashOf("demo:v2");
  w.observed.imageCheck = ImageCheck{v2, {refused("demo:v2")}};
  Plan p = w.step();
  EXPECT_TRUE(p.actions.empty());
  EXPECT_EQ(phaseOf(p), "Paused");
  w.rollout = *retry(w.rollout);
  w.observed.imageCheck = ImageCheck{v2, {verified("demo:v2")}};
  p = w.step();
  auto ensures = actionsOf<EnsureRevision>(p);
  ASSERT_EQ(ensures.size(), 1u);
  EXPECT_EQ(ensures[0].template_.spec.containers.at(0).image, "demo:v2@" + kDigest);
}

// spec.workloadRef: the template the gate checks and pins is the referenced Deployment's.
TEST(ImageGate, AWorkloadRefTemplateIsCheckedAndPinned) {
  World w;
  w.rollout = testing::parseRollout(canaryYaml(kSteps, 2));
  platform::ReferencedWorkload d;
  d.template_ = *w.rollout.spec.template_;
  d.generation = 1;
  w.observed.referencedWorkload = d;
  w.rollout.spec.template_.reset();
  w.rollout.spec.workloadRef = spec::WorkloadRef{"apps/v1", "Deployment", "demo", "never"};
  auto target = revisionToCreate(w.rollout, w.observed);
  ASSERT_TRUE(target);
  EXPECT_EQ(target->template_, &w.observed.referencedWorkload->template_);
  const std::string hash = podTemplateHash(d.template_, std::nullopt);
  EXPECT_EQ(target->hash, hash);

  w.observed.imageCheck = ImageCheck{hash, {refused("demo:v1")}};
  EXPECT_TRUE(w.step().actions.empty());
  w.rollout = *retry(w.rollout);
  w.observed.imageCheck = ImageCheck{hash, {verified("demo:v1")}};
  auto ensures = actionsOf<EnsureRevision>(w.step());
  ASSERT_EQ(ensures.size(), 1u);
  EXPECT_EQ(ensures[0].hash, hash);
  EXPECT_EQ(ensures[0].template_.spec.containers.at(0).image, "demo:v1@" + kDigest);
}

TEST(ImageGate, RetryOfARolloutTheGateDidNotPauseIsRefused) {
  World w;
  w.rollout = testing::parseRollout(canaryYaml(kSteps, 2));
  w.rollout.status.pauseConditions.push_back({spec::kPauseReasonCanaryPauseStep, testing::t0()});
  auto r = retry(w.rollout);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(r.error().message.find("ImageNotVerified"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace ramp::rollout
