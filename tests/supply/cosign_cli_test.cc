// Signatures made by the real cosign (v3, built from the Go module proxy by scripts/cosign.sh)
// on a real registry (docker-registry, distribution 2.8.2), in both formats, verified by ramp
// with cosign.pub alone. cosign runs with its proxies pointed at a closed port and HOME in the
// test's directory: signing with a key and --tlog-upload=false needs no network, and ramp's
// verification reads nothing but the registry. Skipped, saying so, when cosign is not built
// (`make cosign-build`).
#include <gtest/gtest.h>

#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "audit/signer.h"
#include "harness/harness.h"
#include "supply/cosign_cli.h"
#include "supply/cosign_fetch.h"
#include "supply/keyless_fixtures.h"
#include "supply/oci_client.h"
#include "supply/registry_harness.h"
#include "supply/registry_image_verifier.h"

namespace ramp::supply {
namespace {

// The keyless signatures of the tests' private Sigstore (keyless_fixtures.h) are what cosign
// itself accepts: `cosign verify --trusted-root` (offline, --insecure-ignore-sct) verifies the
// bundle referrer and the legacy layer with the identity, and refuses another identity; ramp
// verifies the same two.
TEST(CosignCli, CosignAndRampAgreeOnKeylessSignatures) {
  std::string cosign = testing::cosignBinary();
  if (cosign.empty()) GTEST_SKIP() << "cosign is not built (make cosign-build)";
  ramp::testing::TempDir dir("ramp-cosign-keyless");
  auto reg = testing::LocalRegistry::start({}, dir.file("registry"));
  ASSERT_TRUE(reg) << reg.error().message;
  const std::string host = (*reg)->host();
  auto d1 = (*reg)->pushImage("shop/web", "v1", "keyless bundle");
  auto d2 = (*reg)->pushImage("shop/web", "v2", "keyless legacy");
  ASSERT_TRUE(d1 && d2);
  testing::KeylessSigstore sigstore(1790000000, "release@shop.example",
                                    "https://issuer.shop.example");
  std::ofstream(dir.file("root.json")) << sigstore.trustedRootJson();
  ASSERT_TRUE(
      (*reg)->pushBundleReferrer("shop/web", *d1, sigstore.bundle(host + "/shop/web", *d1)));
  auto l = sigstore.legacy(host + "/shop/web", *d2);
  ASSERT_TRUE((*reg)->pushLegacySignature("shop/web", *d2, {{l.payload, l.signatureBase64}},
                                          {{{"dev.sigstore.cosign/certificate", l.certificatePem},
                                            {"dev.sigstore.cosign/bundle", l.bundleJson}}}));
  auto verify = [&](const std::string& flags, const std::string& subject, const std::string& digest,
                    std::string* out) {
    return testing::runShell(testing::cosignEnv(dir.path()) + cosign + " verify " + flags +
                                 " --trusted-root " + dir.file("root.json") +
                                 " --insecure-ignore-sct --certificate-identity " + subject +
                                 " --certificate-oidc-issuer https://issuer.shop.example " + host +
                                 "/shop/web@" + digest,
                             out);
  };
  std::string out;
  EXPECT_EQ(verify("", "release@shop.example", *d1, &out), 0) << out;
  out.clear();
  EXPECT_EQ(verify("--new-bundle-format=false", "release@shop.example", *d2, &out), 0) << out;
  out.clear();
  EXPECT_NE(verify("", "dev@shop.example", *d1, &out), 0) << out;

  auto root = parseTrustedRoot(sigstore.trustedRootJson());
  ASSERT_TRUE(root) << root.error().message;
  OciClient client({});
  auto repo = *parseImageReference(host + "/shop/web");
  KeylessAuthority authority{root->get(),
                             {{"https://issuer.shop.example", "release@shop.example", "", ""}},
                             KeylessOptions{.ignoreSct = true}};
  auto bundle = verifyImageSignature(client, repo, *d1, SignatureFormat::kBundle, authority);
  EXPECT_TRUE(bundle) << bundle.error().message;
  auto legacy = verifyImageSignature(client, repo, *d2, SignatureFormat::kLegacy, authority);
  EXPECT_TRUE(legacy) << legacy.error().message;
}

// `cosign attest` (v3's default: a Sigstore bundle referrer per attestation) with a key: an image
// with SLSA provenance and a CycloneDX SBOM shows their evidence; a policy requiring
// slsaprovenance1 refuses an image whose only provenance is signed by another key and allows it
// once attested with the authority's key; cosign's own verify-attestation agrees.
TEST(CosignCli, AttestationsAreEvidenceAndCanBeRequired) {
  std::string cosign = testing::cosignBinary();
  if (cosign.empty()) GTEST_SKIP() << "cosign is not built (make cosign-build)";
  ramp::testing::TempDir dir("ramp-cosign-attest");
  auto reg = testing::LocalRegistry::start({}, dir.file("registry"));
  ASSERT_TRUE(reg) << reg.error().message;
  const std::string host = (*reg)->host();
  auto d1 = (*reg)->pushImage("shop/web", "v1", "attested");
  auto d2 = (*reg)->pushImage("shop/web", "v2", "not attested");
  ASSERT_TRUE(d1 && d2);
  const std::string release = dir.file("release"), other = dir.file("other");
  std::filesystem::create_directories(release);
  std::filesystem::create_directories(other);
  auto key = testing::generateKeyPair(cosign, release);
  ASSERT_TRUE(key) << key.error().message;
  ASSERT_TRUE(testing::generateKeyPair(cosign, other));
  std::ofstream(release + "/prov.json")
      << R"({"buildDefinition":{"buildType":"https://actions.github.io/buildtypes/workflow/v1",)"
         R"("externalParameters":{"workflow":{"repository":"https://github.com/shop/web","ref":"refs/tags/v1"}},)"
         R"("resolvedDependencies":[{"uri":"git+https://github.com/shop/web@refs/tags/v1","digest":{"gitCommit":"0123abcd"}}]},)"
         R"("runDetails":{"builder":{"id":"https://github.com/shop/web/.github/workflows/release.yml@refs/tags/v1"},)"
         R"("metadata":{"invocationId":"https://github.com/shop/web/actions/runs/42/attempts/1"}}})";
  std::ofstream(release + "/bom.json")
      << R"({"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"type":"library","name":"a"},{"type":"library","name":"b"}]})";
  std::filesystem::copy_file(release + "/prov.json", other + "/prov.json");
  const std::string v1 = host + "/shop/web@" + *d1, v2 = host + "/shop/web@" + *d2;
  std::string out;
  for (const std::string& image : {v1, v2}) {
    ASSERT_EQ(testing::runShell(testing::cosignSignCommand(cosign, release) + image, &out), 0)
        << out;
  }
  ASSERT_EQ(
      testing::runShell(
          testing::cosignAttestCommand(cosign, release, "slsaprovenance1", "prov.json") + v1, &out),
      0)
      << out;
  ASSERT_EQ(testing::runShell(
                testing::cosignAttestCommand(cosign, release, "cyclonedx", "bom.json") + v1, &out),
            0)
      << out;
  // v2's provenance is signed by another key: it does not count.
  ASSERT_EQ(
      testing::runShell(
          testing::cosignAttestCommand(cosign, other, "slsaprovenance1", "prov.json") + v2, &out),
      0)
      << out;
  out.clear();
  EXPECT_EQ(testing::runShell(testing::cosignEnv(release) + cosign +
                                  " verify-attestation --key cosign.pub --insecure-ignore-tlog "
                                  "--type slsaprovenance1 " +
                                  v1 + " >/dev/null",
                              &out),
            0)
      << out;

  auto policies = parseImagePolicies(
      testing::keyPolicyYaml("shop", host + "/shop/**", "bundle", key->pem()) +
          "    attestations:\n    - name: provenance\n      predicateType: slsaprovenance1\n",
      "policy.yaml");
  ASSERT_TRUE(policies) << policies.error().message;
  RegistryImageVerifier verifier(*policies, {}, NoMatch::kDeny);
  ImageVerdict ok = verifier.verify(host + "/shop/web:v1");
  ASSERT_TRUE(ok.allowed) << ok.reason;
  EXPECT_EQ(ok.digest, *d1);
  ASSERT_TRUE(ok.provenance) << ok.reason;
  EXPECT_EQ(ok.provenance->builderId,
            "https://github.com/shop/web/.github/workflows/release.yml@refs/tags/v1");
  EXPECT_EQ(ok.provenance->source, "git+https://github.com/shop/web@refs/tags/v1");
  EXPECT_EQ(ok.provenance->sourceDigest, "gitCommit:0123abcd");
  EXPECT_EQ(ok.provenance->invocationId, "https://github.com/shop/web/actions/runs/42/attempts/1");
  EXPECT_TRUE(ok.provenance->location.starts_with(host + "/shop/web@sha256:"))
      << ok.provenance->location;
  ASSERT_EQ(ok.sboms.size(), 1u) << ok.reason;
  EXPECT_EQ(ok.sboms[0].format, "cyclonedx");
  EXPECT_EQ(ok.sboms[0].components, 2);
  EXPECT_TRUE(ok.sboms[0].location.starts_with(host + "/shop/web@sha256:"));
  EXPECT_NE(ok.sboms[0].location, ok.provenance->location);
  EXPECT_NE(ok.reason.find("; SBOM cyclonedx (2 components)"), std::string::npos) << ok.reason;
  // The SBOM's location is its referrer manifest in the registry.
  OciClient client({});
  auto repo = *parseImageReference(v1);
  auto sbomManifest =
      client.getManifest(repo, ok.sboms[0].location.substr(ok.sboms[0].location.find('@') + 1));
  ASSERT_TRUE(sbomManifest) << sbomManifest.error().message;
  EXPECT_EQ(sbomManifest->manifest.annotations["dev.sigstore.bundle.predicateType"],
            "https://cyclonedx.org/bom");

  ImageVerdict refused = verifier.verify(host + "/shop/web:v2");
  EXPECT_FALSE(refused.allowed);
  EXPECT_NE(refused.reason.find("no attestation of type slsaprovenance1 "
                                "(https://slsa.dev/provenance/v1) verified by authority "
                                "release-key"),
            std::string::npos)
      << refused.reason;
  EXPECT_NE(refused.reason.find("bad signature"), std::string::npos) << refused.reason;
  EXPECT_FALSE(refused.provenance);
  // Without the requirement, v2 is allowed on its signature alone, with no evidence.
  auto plain = parseImagePolicies(
      testing::keyPolicyYaml("shop", host + "/shop/**", "bundle", key->pem()), "policy.yaml");
  ASSERT_TRUE(plain);
  ImageVerdict signedOnly = RegistryImageVerifier(*plain, {}, NoMatch::kDeny).verify(v2);
  EXPECT_TRUE(signedOnly.allowed) << signedOnly.reason;
  EXPECT_FALSE(signedOnly.provenance);

  ASSERT_EQ(
      testing::runShell(
          testing::cosignAttestCommand(cosign, release, "slsaprovenance1", "prov.json") + v2, &out),
      0)
      << out;
  ImageVerdict now = verifier.verify(host + "/shop/web:v2");
  EXPECT_TRUE(now.allowed) << now.reason;
  ASSERT_TRUE(now.provenance);
  EXPECT_EQ(now.attestations, std::vector<std::string>{"https://slsa.dev/provenance/v1"});
}

TEST(CosignCli, RealCosignSignaturesVerifyInBothFormats) {
  std::string cosign = testing::cosignBinary();
  if (cosign.empty()) GTEST_SKIP() << "cosign is not built (make cosign-build)";
  ramp::testing::TempDir dir("ramp-cosign-cli");
  auto reg = testing::LocalRegistry::start({}, dir.file("registry"));
  ASSERT_TRUE(reg) << reg.error().message;
  auto digest = (*reg)->pushImage("shop/web", "v1", "cosign cli");
  ASSERT_TRUE(digest) << digest.error().message;
  std::string image = (*reg)->host() + "/shop/web@" + *digest;

  auto key = testing::generateKeyPair(cosign, dir.path());
  ASSERT_TRUE(key) << key.error().message;
  std::string out;

  OciClient client({});
  auto repo = *parseImageReference(image);
  ASSERT_FALSE(verifyImageSignature(client, repo, *digest, SignatureFormat::kLegacy, *key));

  std::string sign = testing::cosignSignCommand(cosign, dir.path());
  out.clear();
  ASSERT_EQ(testing::runShell(
                testing::cosignSignCommand(cosign, dir.path(), /*legacy=*/true) + image, &out),
            0)
      << out;
  auto legacy = verifyImageSignature(client, repo, *digest, SignatureFormat::kLegacy, *key);
  ASSERT_TRUE(legacy) << legacy.error().message;
  EXPECT_EQ(legacy->identity, repo.repositoryName());
  auto noBundle = verifyImageSignature(client, repo, *digest, SignatureFormat::kBundle, *key);
  ASSERT_FALSE(noBundle);
  EXPECT_EQ(noBundle.error().code, ErrorCode::kNotFound);

  out.clear();
  ASSERT_EQ(testing::runShell(sign + image, &out), 0)
      << out;  // cosign 3's default: a bundle referrer
  auto bundle = verifyImageSignature(client, repo, *digest, SignatureFormat::kBundle, *key);
  ASSERT_TRUE(bundle) << bundle.error().message;
  EXPECT_EQ(bundle->format, SignatureFormat::kBundle);
  EXPECT_TRUE(client.lastReferrersUsedFallback());  // distribution 2.8: the tag schema

  // Another key (not cosign's) verifies neither.
  auto stranger = *audit::SigningKey::generate();
  EXPECT_FALSE(
      verifyImageSignature(client, repo, *digest, SignatureFormat::kLegacy, stranger.publicKey()));
  EXPECT_FALSE(
      verifyImageSignature(client, repo, *digest, SignatureFormat::kBundle, stranger.publicKey()));
}

// The OCI 1.1 referrers API on a real registry implementation: ociregistry (tools/cosign:
// go-containerregistry's registry with referrers on, built beside cosign). cosign 3 pushes its
// bundle through the API (no sha256-<hex> tag) and ramp finds it there, not by the fallback.
// go-containerregistry lists the referrer under its config's media type (the empty type), not
// its artifactType: fetchBundles reads such referrers to find out.
TEST(CosignCli, BundleFoundThroughTheReferrersApi) {
  std::string cosign = testing::cosignBinary();
  if (cosign.empty()) GTEST_SKIP() << "cosign is not built (make cosign-build)";
  ramp::testing::TempDir dir("ramp-cosign-referrers");
  std::string registryBin = cosign.substr(0, cosign.rfind('/')) + "/ociregistry";
  ramp::testing::ProcessOptions po;
  po.argv = {registryBin, "-addr", "127.0.0.1:0"};
  po.logFile = dir.file("ociregistry.log");
  auto proc = ramp::testing::Process::start(po);
  ASSERT_TRUE(proc) << proc.error().message;
  std::string host;
  for (int i = 0; i < 500 && host.empty(); ++i) {  // bounded: 5 s
    std::string log = (*proc)->log();
    if (size_t at = log.find("listening on "); at != std::string::npos) {
      size_t end = log.find('\n', at);
      if (end != std::string::npos) host = log.substr(at + 13, end - at - 13);
    }
    if (host.empty()) ::usleep(10000);
  }
  ASSERT_FALSE(host.empty()) << (*proc)->log();
  ASSERT_TRUE(ramp::testing::waitForHttp("http://" + host + "/v2/"));

  // The image, pushed through the API as the other tests do.
  auto registry = testing::LocalRegistry::attach(host);
  auto digest = registry->pushImage("shop/api", "v1", "referrers");
  ASSERT_TRUE(digest) << digest.error().message;
  std::string image = host + "/shop/api@" + *digest;

  auto key = testing::generateKeyPair(cosign, dir.path());
  ASSERT_TRUE(key) << key.error().message;
  std::string out;
  ASSERT_EQ(testing::runShell(testing::cosignSignCommand(cosign, dir.path()) + image, &out), 0)
      << out;

  OciClient client({});
  auto repo = *parseImageReference(image);
  auto v = verifyImageSignature(client, repo, *digest, SignatureFormat::kBundle, *key);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_FALSE(client.lastReferrersUsedFallback());  // found through /referrers/, not a tag
  auto tag = client.getManifest(repo, digestTag(*digest));
  ASSERT_FALSE(tag);  // cosign wrote no fallback index: the API path is what was tested
  EXPECT_EQ(tag.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace ramp::supply
