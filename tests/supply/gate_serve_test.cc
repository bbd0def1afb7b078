// The signature gate end to end: a real `ramp serve --image-policy` on the process platform, a
// real registry (docker-registry, distribution 2.8.2) and the real cosign (v3, scripts/cosign.sh).
// An image cosign signed runs, pinned to its digest; an unsigned one pauses the rollout with the
// condition ImageVerified=False and starts no process; once signed, `ramp retry` lets it
// proceed, and the replica runs the pinned reference. Each verdict is in the audit log. A bad
// policy file stops the daemon with file:line:column. Skipped, saying so, when cosign is not
// built (`make cosign-build`).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "harness/harness.h"
#include "harness/ramp_daemon.h"
#include "supply/cosign_cli.h"
#include "supply/keyless_fixtures.h"
#include "supply/registry_harness.h"

namespace ramp::supply {
namespace {

using namespace std::chrono_literals;
namespace rt = ramp::testing;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// One replica that writes the image it was started with ($RAMP_IMAGE) to DIR/<pod name>.image.
std::string rolloutYaml(const std::string& image, const std::string& dir) {
  return "apiVersion: argoproj.io/v1alpha1\n"
         "kind: Rollout\n"
         "metadata: {name: web, namespace: shop}\n"
         "spec:\n"
         "  replicas: 1\n"
         "  selector: {matchLabels: {app: web}}\n"
         "  template:\n"
         "    metadata: {labels: {app: web}}\n"
         "    spec:\n"
         "      terminationGracePeriodSeconds: 1\n"
         "      containers:\n"
         "      - name: web\n"
         "        image: " +
         image +
         "\n"
         "        command: [/bin/sh, -c, 'echo \"$RAMP_IMAGE\" > " +
         dir +
         "/$RAMP_POD_NAME.image; exec sleep 300']\n"
         "  strategy:\n"
         "    canary:\n"
         "      steps:\n"
         "      - setWeight: 50\n";
}

class GateServe : public ::testing::Test {
 protected:
  rt::CliResult ramp(const std::vector<std::string>& args) {
    return rt::runRamp(dir_, args, serve_ ? serve_->url() : "");
  }
  nlohmann::json rolloutJson() {
    auto r = ramp({"get", "rollout", "web", "-n", "shop", "-o", "json"});
    return nlohmann::json::parse(r.out, nullptr, false);
  }
  std::string phase() {
    auto j = rolloutJson();
    return j.is_object() && j.contains("status") ? j["status"].value("phase", "") : "";
  }
  // The condition ImageVerified of the rollout's status ({} when it has none).
  nlohmann::json imageCondition() {
    auto j = rolloutJson();
    if (!j.is_object() || !j.contains("status")) return nlohmann::json::object();
    for (const auto& c : j["status"].value("conditions", nlohmann::json::array())) {
      if (c.value("type", "") == "ImageVerified") return c;
    }
    return nlohmann::json::object();
  }
  // The images the replicas were started with, by pod name.
  std::map<std::string, std::string> startedImages() {
    std::map<std::string, std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir_.file("replicas"))) {
      std::string text = slurp(e.path().string());
      while (!text.empty() && text.back() == '\n') text.pop_back();
      out[e.path().stem().string()] = text;
    }
    return out;
  }

  // The replicas platform.process keeps (a pid file each, under DATA/platform.process).
  size_t replicaPidFiles() {
    size_t n = 0;
    for (const auto& e :
         std::filesystem::recursive_directory_iterator(dir_.file("data") + "/platform.process")) {
      n += e.path().extension() == ".pid" ? 1 : 0;
    }
    return n;
  }

  // Applies the rollout of `image`, waits until it is healthy, and expects its one replica to run
  // `image` pinned to `digest`.
  void applyFirstRelease(const std::string& image, const std::string& digest) {
    std::ofstream(dir_.file("web.yaml")) << rolloutYaml(image, dir_.file("replicas"));
    auto applied = ramp({"apply", "-f", dir_.file("web.yaml")});
    ASSERT_EQ(applied.code, 0) << applied.out << applied.err;
    auto healthy = ramp({"status", "web", "-n", "shop", "--timeout", "60s"});
    ASSERT_EQ(healthy.code, 0) << healthy.out << healthy.err << serve_->log();
    const std::string hash = rolloutJson()["status"].value("currentPodHash", "");
    for (int i = 0; i < 100 && startedImages().empty(); ++i) std::this_thread::sleep_for(50ms);
    EXPECT_EQ(startedImages(),
              (std::map<std::string, std::string>{{"web-" + hash + "-0", image + "@" + digest}}));
  }

  rt::TempDir dir_{"ramp-gate-serve"};
  std::unique_ptr<rt::RampDaemon> serve_;
};

TEST_F(GateServe, AnUnsignedImagePausesAndStartsNothingUntilSignedAndRetried) {
  const std::string cosign = testing::cosignBinary();
  if (cosign.empty()) GTEST_SKIP() << "cosign is not built (make cosign-build)";
  rt::ReplicaReaper reaper(dir_.file("data"));
  std::filesystem::create_directories(dir_.file("replicas"));
  std::filesystem::create_directories(dir_.file("cosign"));
  auto reg = testing::LocalRegistry::start({}, dir_.file("registry"));
  ASSERT_TRUE(reg) << reg.error().message;
  const std::string host = (*reg)->host();
  auto d1 = (*reg)->pushImage("shop/web", "v1", "gate v1");
  ASSERT_TRUE(d1) << d1.error().message;
  auto d2 = (*reg)->pushImage("shop/web", "v2", "gate v2");
  ASSERT_TRUE(d2) << d2.error().message;
  const std::string v1 = host + "/shop/web:v1", v2 = host + "/shop/web:v2";

  auto key = testing::generateKeyPair(cosign, dir_.file("cosign"));
  ASSERT_TRUE(key) << key.error().message;
  const std::string sign = testing::cosignSignCommand(cosign, dir_.file("cosign"));
  std::string out;
  ASSERT_EQ(testing::runShell(sign + host + "/shop/web@" + *d1, &out), 0) << out;
  std::ofstream(dir_.file("policy.yaml"))
      << testing::keyPolicyYaml("shop-images", host + "/shop/**", "bundle", key->pem());

  serve_ = std::make_unique<rt::RampDaemon>(
      dir_, std::vector<std::string>{"--platform", "platform.process", "--image-policy",
                                     dir_.file("policy.yaml"), "--progress-poll-ms", "200"});
  ASSERT_FALSE(serve_->url().empty()) << serve_->log();
  EXPECT_NE(serve_->log().find("signature gate: images verified as"), std::string::npos)
      << serve_->log();

  // v1, signed: runs pinned to the digest cosign signed.
  applyFirstRelease(v1, *d1);
  if (::testing::Test::HasFatalFailure()) return;
  const std::string h1 = rolloutJson()["status"].value("currentPodHash", "");
  EXPECT_EQ(imageCondition().value("status", ""), "True");
  EXPECT_EQ(replicaPidFiles(), 1u);

  // v2, not signed: paused with the condition; no process of it starts.
  auto set = ramp({"set", "image", "web", "web=" + v2, "-n", "shop"});
  ASSERT_EQ(set.code, 0) << set.out << set.err;
  for (int i = 0; i < 300 && phase() != "Paused"; ++i) std::this_thread::sleep_for(100ms);
  ASSERT_EQ(phase(), "Paused") << serve_->log();
  auto cond = imageCondition();
  EXPECT_EQ(cond.value("status", ""), "False");
  EXPECT_EQ(cond.value("reason", ""), "ImageNotVerified");
  const std::string message = cond.value("message", "");
  EXPECT_NE(message.find("image " + v2 + " is not verified by ClusterImagePolicy shop-images"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("release-key"), std::string::npos) << message;
  EXPECT_NE(serve_->log().find("signature gate: shop/web: image " + v2 + " is not verified"),
            std::string::npos)
      << serve_->log();
  auto shown = ramp({"get", "rollout", "web", "-n", "shop"});
  EXPECT_NE(shown.out.find("ImageNotVerified: image " + v2), std::string::npos) << shown.out;
  std::this_thread::sleep_for(1s);  // a wrongly started replica would have written by now
  EXPECT_EQ(startedImages().size(), 1u);
  EXPECT_EQ(replicaPidFiles(), 1u);  // the platform has no replica of v2 either
  const std::string h2 = rolloutJson()["status"].value("currentPodHash", "");
  EXPECT_EQ(h2, h1);  // the update is not even announced

  // Signed now, and retried: v2 runs pinned to the digest that was verified.
  out.clear();
  ASSERT_EQ(testing::runShell(sign + host + "/shop/web@" + *d2, &out), 0) << out;
  auto retried = ramp({"retry", "web", "-n", "shop"});
  ASSERT_EQ(retried.code, 0) << retried.out << retried.err;
  auto healthy = ramp({"status", "web", "-n", "shop", "--timeout", "60s"});
  ASSERT_EQ(healthy.code, 0) << healthy.out << healthy.err << serve_->log();
  const std::string h3 = rolloutJson()["status"].value("currentPodHash", "");
  ASSERT_NE(h3, h1);
  for (int i = 0; i < 100 && startedImages().size() < 2; ++i) std::this_thread::sleep_for(50ms);
  EXPECT_EQ(startedImages()["web-" + h3 + "-0"], v2 + "@" + *d2);
  EXPECT_EQ(imageCondition().value("status", ""), "True");

  // Every verdict is a decision in the audit log.
  auto audit = ramp({"audit", "show", "web", "-n", "shop"});
  ASSERT_EQ(audit.code, 0) << audit.out << audit.err;
  size_t checks = 0;
  for (size_t at = audit.out.find("signature-check"); at != std::string::npos;
       at = audit.out.find("signature-check", at + 1)) {
    ++checks;
  }
  EXPECT_EQ(checks, 3u) << audit.out;  // v1 verified, v2 refused, v2 verified
  EXPECT_NE(audit.out.find("ImageNotVerified"), std::string::npos) << audit.out;
  EXPECT_EQ(serve_->stop(), 0);
}

// Attestations end to end: an image cosign signed and attested (SLSA provenance v1 and a
// CycloneDX SBOM) runs under a policy that requires slsaprovenance1; the provenance and SBOM are
// in the ImageVerified condition, in the event `ramp get rollout` shows and in the
// signature-check record of `ramp audit show`. An image with only a signature is refused, naming
// the missing attestation.
TEST_F(GateServe, AttestationsAreRequiredAndShownAsEvidence) {
  const std::string cosign = testing::cosignBinary();
  if (cosign.empty()) GTEST_SKIP() << "cosign is not built (make cosign-build)";
  rt::ReplicaReaper reaper(dir_.file("data"));
  std::filesystem::create_directories(dir_.file("replicas"));
  const std::string keys = dir_.file("cosign");
  std::filesystem::create_directories(keys);
  auto reg = testing::LocalRegistry::start({}, dir_.file("registry"));
  ASSERT_TRUE(reg) << reg.error().message;
  const std::string host = (*reg)->host();
  auto d1 = (*reg)->pushImage("shop/web", "v1", "attested v1");
  auto d2 = (*reg)->pushImage("shop/web", "v2", "signed only v2");
  ASSERT_TRUE(d1 && d2);
  auto key = testing::generateKeyPair(cosign, keys);
  ASSERT_TRUE(key) << key.error().message;
  std::ofstream(keys + "/prov.json")
      << R"({"buildDefinition":{"resolvedDependencies":[{"uri":"git+https://github.com/shop/web@refs/tags/v1","digest":{"gitCommit":"0123abcd"}}]},)"
         R"("runDetails":{"builder":{"id":"https://github.com/shop/web/.github/workflows/release.yml@refs/tags/v1"},)"
         R"("metadata":{"invocationId":"https://github.com/shop/web/actions/runs/42/attempts/1"}}})";
  std::ofstream(keys + "/bom.json")
      << R"({"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"type":"library","name":"a"}]})";
  std::string out;
  for (const std::string& d : {*d1, *d2}) {
    ASSERT_EQ(
        testing::runShell(testing::cosignSignCommand(cosign, keys) + host + "/shop/web@" + d, &out),
        0)
        << out;
  }
  for (const auto& [type, file] :
       {std::pair<std::string, std::string>{"slsaprovenance1", "prov.json"},
        {"cyclonedx", "bom.json"}}) {
    ASSERT_EQ(testing::runShell(testing::cosignAttestCommand(cosign, keys, type, file) + host +
                                    "/shop/web@" + *d1,
                                &out),
              0)
        << out;
  }
  std::ofstream(dir_.file("policy.yaml"))
      << testing::keyPolicyYaml("shop-images", host + "/shop/**", "bundle", key->pem())
      << "    attestations:\n    - name: provenance\n      predicateType: slsaprovenance1\n";

  serve_ = std::make_unique<rt::RampDaemon>(
      dir_, std::vector<std::string>{"--platform", "platform.process", "--image-policy",
                                     dir_.file("policy.yaml"), "--progress-poll-ms", "200"});
  ASSERT_FALSE(serve_->url().empty()) << serve_->log();
  applyFirstRelease(host + "/shop/web:v1", *d1);
  if (::testing::Test::HasFatalFailure()) return;
  const std::string evidence =
      "provenance: built by https://github.com/shop/web/.github/workflows/release.yml@refs/tags/v1"
      " from git+https://github.com/shop/web@refs/tags/v1, run "
      "https://github.com/shop/web/actions/runs/42/attempts/1; SBOM cyclonedx (1 components)";
  auto cond = imageCondition();
  EXPECT_EQ(cond.value("status", ""), "True");
  EXPECT_NE(cond.value("message", "").find(evidence), std::string::npos) << cond.dump();
  auto shown = ramp({"get", "rollout", "web", "-n", "shop"});
  EXPECT_NE(shown.out.find(evidence), std::string::npos) << shown.out;

  // v2 is signed but has no provenance: refused, naming the missing attestation.
  auto set = ramp({"set", "image", "web", "web=" + host + "/shop/web:v2", "-n", "shop"});
  ASSERT_EQ(set.code, 0) << set.out << set.err;
  for (int i = 0; i < 300 && phase() != "Paused"; ++i) std::this_thread::sleep_for(100ms);
  ASSERT_EQ(phase(), "Paused") << serve_->log();
  EXPECT_NE(imageCondition()
                .value("message", "")
                .find("release-key: no attestation of type slsaprovenance1 "
                      "(https://slsa.dev/provenance/v1) verified by authority release-key"),
            std::string::npos)
      << imageCondition().dump();

  // The record of v1's check carries the evidence.
  auto audit = ramp({"audit", "show", "web", "-n", "shop"});
  ASSERT_EQ(audit.code, 0) << audit.out << audit.err;
  for (
      const std::string& want :
      {std::string(
           R"("provenance.builderId":"https://github.com/shop/web/.github/workflows/release.yml@refs/tags/v1")"),
       std::string(R"("provenance.sourceDigest":"gitCommit:0123abcd")"),
       std::string(
           R"("provenance.invocationId":"https://github.com/shop/web/actions/runs/42/attempts/1")"),
       std::string(R"("sboms[0].format":"cyclonedx")"), std::string(R"("sboms[0].components":"1")"),
       std::string(R"("sboms[0].location":")") + host + "/shop/web@sha256:",
       std::string(R"("attestations[0]":"https://)")}) {
    EXPECT_NE(audit.out.find(want), std::string::npos) << want << "\n" << audit.out;
  }
  EXPECT_EQ(serve_->stop(), 0);
}

// Keyless: an image signed as cosign 3 does without a key (a bundle referrer with a Fulcio-like
// certificate and a Rekor-like entry, from a private Sigstore made by the test) runs pinned under
// `ramp serve --trusted-root NAME=FILE` and a keyless authority naming that root. No cosign
// needed.
TEST_F(GateServe, AKeylessSignedImageRunsPinnedUnderATrustedRoot) {
  rt::ReplicaReaper reaper(dir_.file("data"));
  std::filesystem::create_directories(dir_.file("replicas"));
  auto reg = testing::LocalRegistry::start({}, dir_.file("registry"));
  ASSERT_TRUE(reg) << reg.error().message;
  const std::string host = (*reg)->host();
  auto d1 = (*reg)->pushImage("shop/web", "v1", "keyless v1");
  ASSERT_TRUE(d1) << d1.error().message;
  const std::string v1 = host + "/shop/web:v1";
  testing::KeylessSigstore sigstore(1790000000, "release@shop.example",
                                    "https://issuer.shop.example");
  ASSERT_TRUE(
      (*reg)->pushBundleReferrer("shop/web", *d1, sigstore.bundle(host + "/shop/web", *d1)));
  std::ofstream(dir_.file("root.json")) << sigstore.trustedRootJson();
  std::ofstream(dir_.file("policy.yaml"))
      << "apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\n"
         "metadata: {name: shop-images}\nspec:\n  images: [{glob: \""
      << host
      << "/shop/**\"}]\n  authorities:\n  - name: release-identity\n"
         "    signatureFormat: bundle\n    keyless:\n"
         "      identities: [{issuer: \"https://issuer.shop.example\", subjectRegExp: "
         "\"^release@shop\\\\.example$\"}]\n"
         "      trustRootRef: shop\n      insecureIgnoreSCT: true\n";

  serve_ = std::make_unique<rt::RampDaemon>(
      dir_, std::vector<std::string>{
                "--platform", "platform.process", "--image-policy", dir_.file("policy.yaml"),
                "--trusted-root", "shop=" + dir_.file("root.json"), "--progress-poll-ms", "200"});
  ASSERT_FALSE(serve_->url().empty()) << serve_->log();
  applyFirstRelease(v1, *d1);
  if (::testing::Test::HasFatalFailure()) return;
  auto cond = imageCondition();
  EXPECT_EQ(cond.value("status", ""), "True");
  EXPECT_NE(cond.value("message", "")
                .find("verified by authority release-identity of ClusterImagePolicy shop-images "
                      "(keyless: release@shop.example from https://issuer.shop.example)"),
            std::string::npos)
      << cond.dump();
  EXPECT_EQ(serve_->stop(), 0);
}

// `ramp serve EXTRA…` that must stop before it is ready; its log.
std::string serveThatStops(const rt::TempDir& dir, const std::vector<std::string>& extra) {
  rt::ProcessOptions o;
  o.argv = {rt::binaryDir() + "/ramp", "serve", "--data", dir.file("data")};
  o.argv.insert(o.argv.end(), extra.begin(), extra.end());
  o.logFile = dir.file("serve.log");
  auto p = rt::Process::start(o);
  if (!p) return "cannot start: " + p.error().message;
  for (int i = 0; i < 200 && (*p)->running(); ++i) std::this_thread::sleep_for(50ms);
  if ((*p)->running()) {
    (*p)->stop();
    return "still running: " + (*p)->log();
  }
  return (*p)->log();
}

TEST_F(GateServe, RegistryCredentialsAreCheckedAtStartWithoutPrintingThem) {
  std::ofstream(dir_.file("policy.yaml")) << "apiVersion: policy.sigstore.dev/v1beta1\n"
                                             "kind: ClusterImagePolicy\n"
                                             "metadata: {name: p}\n"
                                             "spec:\n"
                                             "  images: [{glob: \"registry.example/**\"}]\n"
                                             "  authorities: [{static: {action: pass}}]\n";
  // A credential helper is refused; the other entry's secret is not shown.
  std::ofstream(dir_.file("config.json"))
      << R"({"auths":{"registry.example":{"auth":"dXNlcjpzM2NyZXQtcGFzc3dvcmQ="}},)"
      << R"("credHelpers":{"ghcr.io":"gh"}})";
  std::string log = serveThatStops(dir_, {"--image-policy", dir_.file("policy.yaml"),
                                          "--registry-credentials", dir_.file("config.json")});
  EXPECT_NE(log.find("--registry-credentials: " + dir_.file("config.json") + ": "),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("credHelpers: credential helpers are not run"), std::string::npos) << log;
  EXPECT_EQ(log.find("s3cret-password"), std::string::npos) << log;
  EXPECT_EQ(log.find("dXNlcjpzM2NyZXQtcGFzc3dvcmQ="), std::string::npos) << log;
  EXPECT_EQ(log.find("ready"), std::string::npos) << log;

  // Credentials without a policy would be read for nothing: refused.
  log = serveThatStops(dir_, {"--registry-credentials", dir_.file("config.json")});
  EXPECT_NE(log.find("--registry-credentials is only read for the signature checks: it needs "
                     "--image-policy"),
            std::string::npos)
      << log;
}

TEST_F(GateServe, TrustedRootsAreCheckedAtStart) {
  std::ofstream(dir_.file("policy.yaml")) << "apiVersion: policy.sigstore.dev/v1beta1\n"
                                             "kind: ClusterImagePolicy\n"
                                             "metadata: {name: p}\n"
                                             "spec:\n"
                                             "  images: [{glob: \"registry.example/**\"}]\n"
                                             "  authorities:\n"
                                             "  - keyless:\n"
                                             "      identities: [{issuer: i, subject: s}]\n";
  const std::string policy = dir_.file("policy.yaml");
  std::string log = serveThatStops(dir_, {"--image-policy", policy});
  EXPECT_NE(log.find("--image-policy: " + policy +
                     ":7:5: spec.authorities[0].keyless: needs a trusted root: ramp serve "
                     "--trusted-root FILE"),
            std::string::npos)
      << log;
  std::ofstream(dir_.file("root.json"))
      << R"({"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1",)"
      << R"("tlogs":[{"publicKey":{"rawBytes":"AAAA"}}]})";
  log = serveThatStops(dir_, {"--image-policy", policy, "--trusted-root", dir_.file("root.json")});
  EXPECT_NE(log.find("--trusted-root: " + dir_.file("root.json") +
                     ": trusted root: tlogs[0].publicKey.rawBytes: not a DER public key"),
            std::string::npos)
      << log;
  log = serveThatStops(dir_, {"--trusted-root", dir_.file("root.json")});
  EXPECT_NE(log.find("--trusted-root is only read for the signature checks: it needs "
                     "--image-policy"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("ready"), std::string::npos) << log;
}

TEST_F(GateServe, ABadPolicyFileStopsTheDaemonNamingLineAndColumn) {
  std::ofstream(dir_.file("policy.yaml")) << "apiVersion: policy.sigstore.dev/v1beta1\n"
                                             "kind: ClusterImagePolicy\n"
                                             "metadata: {name: p}\n"
                                             "spec:\n"
                                             "  images: [{glob: \"registry.example/**\"}]\n"
                                             "  authorities: [{static: {action: pass}}]\n"
                                             "  mode: audit\n";
  const std::string log = serveThatStops(dir_, {"--image-policy", dir_.file("policy.yaml")});
  EXPECT_NE(log.find("--image-policy: " + dir_.file("policy.yaml") + ":7:9: spec.mode"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("ready"), std::string::npos) << log;
}

}  // namespace
}  // namespace ramp::supply
