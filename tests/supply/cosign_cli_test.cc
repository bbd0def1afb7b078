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
