// cosign signatures found in and verified from a real registry (docker-registry, distribution
// 2.8.2, on loopback): legacy `.sig` manifests and Sigstore bundle referrers (through the
// referrers tag-schema fallback, since distribution 2.8 has no referrers API). Signatures are
// made by OpenSSL in cosign's documented formats (cosign_fixtures.h).
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "audit/signer.h"
#include "harness/harness.h"
#include "supply/cosign_fetch.h"
#include "supply/cosign_fixtures.h"
#include "supply/image_gate.h"
#include "supply/image_policy.h"
#include "supply/keyless_fixtures.h"
#include "supply/oci_client.h"
#include "supply/registry_harness.h"
#include "supply/registry_image_verifier.h"

namespace ramp::supply {
namespace {

using testing::LocalRegistry;

class CosignRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = LocalRegistry::start({}, dir_.path());
    ASSERT_TRUE(r) << r.error().message;
    registry_ = std::move(*r);
    auto d = registry_->pushImage("shop/web", "v1", "signed");
    ASSERT_TRUE(d) << d.error().message;
    digest_ = *d;
    ref_ = *parseImageReference(registry_->host() + "/shop/web:v1");
  }
  ramp::testing::TempDir dir_{"ramp-cosign-registry"};
  std::unique_ptr<LocalRegistry> registry_;
  std::string digest_;
  ImageReference ref_;
  audit::SigningKey key_ = *audit::SigningKey::generate();
  audit::SigningKey stranger_ = *audit::SigningKey::generate();
  OciClient client_{{}};
};

TEST_F(CosignRegistryTest, LegacySignatureVerifies) {
  auto none =
      verifyImageSignature(client_, ref_, digest_, SignatureFormat::kLegacy, key_.publicKey());
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::kNotFound);
  EXPECT_NE(none.error().message.find(digestTag(digest_) + ".sig"), std::string::npos);

  // Two signatures: a stranger's first, then ours; the second is found and verifies.
  std::string payload = testing::simpleSigningPayload(ref_.repositoryName(), digest_);
  ASSERT_TRUE(registry_->pushLegacySignature("shop/web", digest_,
                                             {{payload, testing::signBase64(stranger_, payload)},
                                              {payload, testing::signBase64(key_, payload)}}));
  auto v = verifyImageSignature(client_, ref_, digest_, SignatureFormat::kLegacy, key_.publicKey());
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->digest, digest_);
  EXPECT_EQ(v->identity, ref_.repositoryName());

  // The bundle format is not satisfied by a legacy signature.
  auto bundle =
      verifyImageSignature(client_, ref_, digest_, SignatureFormat::kBundle, key_.publicKey());
  ASSERT_FALSE(bundle);
  EXPECT_EQ(bundle.error().code, ErrorCode::kNotFound);
}

TEST_F(CosignRegistryTest, LegacySignatureOfAnotherKeyIsRefusedWithReasons) {
  std::string payload = testing::simpleSigningPayload(ref_.repositoryName(), digest_);
  ASSERT_TRUE(registry_->pushLegacySignature("shop/web", digest_,
                                             {{payload, testing::signBase64(stranger_, payload)}}));
  auto v = verifyImageSignature(client_, ref_, digest_, SignatureFormat::kLegacy, key_.publicKey());
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(v.error().message.find("bad signature"), std::string::npos) << v.error().message;
}

// A signature copied from another image (same repository, valid signature by the right key)
// does not verify this image: the payload names the other digest.
TEST_F(CosignRegistryTest, SignatureCopiedFromAnotherImageIsRefused) {
  auto other = registry_->pushImage("shop/web", "v2", "other");
  ASSERT_TRUE(other);
  std::string payload = testing::simpleSigningPayload(ref_.repositoryName(), *other);
  ASSERT_TRUE(registry_->pushLegacySignature("shop/web", digest_,
                                             {{payload, testing::signBase64(key_, payload)}}));
  auto v = verifyImageSignature(client_, ref_, digest_, SignatureFormat::kLegacy, key_.publicKey());
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("digest mismatch"), std::string::npos) << v.error().message;
}

TEST_F(CosignRegistryTest, BundleReferrerVerifiesThroughTheFallbackIndex) {
  auto none =
      verifyImageSignature(client_, ref_, digest_, SignatureFormat::kBundle, key_.publicKey());
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::kNotFound);

  std::string statement = testing::signStatement(ref_.repositoryName(), digest_);
  ASSERT_TRUE(registry_->pushBundleReferrer("shop/web", digest_,
                                            testing::bundleJson(stranger_, statement)));
  auto refused =
      verifyImageSignature(client_, ref_, digest_, SignatureFormat::kBundle, key_.publicKey());
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("bad signature"), std::string::npos);

  ASSERT_TRUE(
      registry_->pushBundleReferrer("shop/web", digest_, testing::bundleJson(key_, statement)));
  auto v = verifyImageSignature(client_, ref_, digest_, SignatureFormat::kBundle, key_.publicKey());
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->format, SignatureFormat::kBundle);
  EXPECT_TRUE(client_.lastReferrersUsedFallback());
}

// Keyless signatures in both formats cosign writes, from a private Sigstore (keyless_fixtures.h),
// found in the registry and verified against its trusted root through the policy's keyless
// authorities: one policy per format (both must hold), and a policy naming another identity.
TEST_F(CosignRegistryTest, KeylessSignaturesVerifyInBothFormats) {
  testing::KeylessSigstore sigstore(1790000000, "release@shop.example",
                                    "https://issuer.shop.example");
  auto root = parseTrustedRoot(sigstore.trustedRootJson());
  ASSERT_TRUE(root) << root.error().message;
  const std::string image = registry_->host() + "/shop/web:v1";
  auto policyFor = [&](const std::string& name, const std::string& format,
                       const std::string& subject) {
    return "apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: " +
           name + "}\nspec:\n  images: [{glob: \"" + registry_->host() +
           "/shop/**\"}]\n  authorities:\n  - name: ci\n    signatureFormat: " + format +
           "\n    keyless:\n      identities: [{issuer: \"https://issuer.shop.example\", "
           "subject: \"" +
           subject + "\"}]\n      trustRootRef: shop\n      insecureIgnoreSCT: true\n";
  };
  auto policies =
      parseImagePolicies(policyFor("legacy", "legacy", "release@shop.example") + "---\n" +
                             policyFor("bundle", "bundle", "release@shop.example"),
                         "policy.yaml");
  ASSERT_TRUE(policies) << policies.error().message;
  ASSERT_TRUE(bindTrustedRoots(*policies, {{"shop", *root}}));

  Decision none = gateImage(client_, *policies, image);
  EXPECT_FALSE(none.allowed);

  auto legacy = sigstore.legacy(ref_.repositoryName(), digest_);
  ASSERT_TRUE(registry_->pushLegacySignature(
      "shop/web", digest_, {{legacy.payload, legacy.signatureBase64}},
      {{{"dev.sigstore.cosign/certificate", legacy.certificatePem},
        {"dev.sigstore.cosign/bundle", legacy.bundleJson}}}));
  Decision half = gateImage(client_, *policies, image);
  EXPECT_FALSE(half.allowed);
  EXPECT_EQ(half.policy, "bundle") << half.reason;

  ASSERT_TRUE(registry_->pushBundleReferrer("shop/web", digest_,
                                            sigstore.bundle(ref_.repositoryName(), digest_)));
  Decision both = gateImage(client_, *policies, image);
  EXPECT_TRUE(both.allowed) << both.reason;
  EXPECT_NE(both.reason.find("verified by authority ci of ClusterImagePolicy legacy (keyless: "
                             "release@shop.example from https://issuer.shop.example)"),
            std::string::npos)
      << both.reason;
  EXPECT_EQ(both.verifiedDigest, digest_);

  auto wrong = parseImagePolicies(policyFor("other", "bundle", "dev@shop.example"), "p.yaml");
  ASSERT_TRUE(wrong);
  ASSERT_TRUE(bindTrustedRoots(*wrong, {{"shop", *root}}));
  Decision refused = gateImage(client_, *wrong, image);
  EXPECT_FALSE(refused.allowed);
  EXPECT_NE(refused.reason.find("identity mismatch: got subject release@shop.example issuer "
                                "https://issuer.shop.example"),
            std::string::npos)
      << refused.reason;
}

// The whole gate on a real registry: a policy file, a tag resolved to its digest, the signature
// found and verified, the decision naming the policy, authority and the digest to pin.
TEST_F(CosignRegistryTest, GateDecidesFromAPolicyFile) {
  std::string pem;
  for (char c : key_.publicKey().pem())
    pem += c == '\n' ? std::string("\n        ") : std::string(1, c);
  std::string policy =
      "apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\n"
      "metadata: {name: shop}\nspec:\n  images:\n  - glob: \"" +
      registry_->host() +
      "/shop/**\"\n  authorities:\n  - name: release\n"
      "    signatureFormat: bundle\n    key:\n      data: |\n        " +
      pem + "\n";
  auto policies = parseImagePolicies(policy, "policy.yaml");
  ASSERT_TRUE(policies) << policies.error().message;
  std::string image = registry_->host() + "/shop/web:v1";

  Decision unsigned_ = gateImage(client_, *policies, image);
  EXPECT_FALSE(unsigned_.allowed);
  EXPECT_EQ(unsigned_.policy, "shop");
  EXPECT_NE(unsigned_.reason.find("no bundle"), std::string::npos) << unsigned_.reason;

  ASSERT_TRUE(registry_->pushBundleReferrer(
      "shop/web", digest_,
      testing::bundleJson(key_, testing::signStatement(ref_.repositoryName(), digest_))));
  Decision signed_ = gateImage(client_, *policies, image);
  EXPECT_TRUE(signed_.allowed) << signed_.reason;
  EXPECT_EQ(signed_.authority, "release");
  EXPECT_EQ(signed_.verifiedDigest, digest_);

  // The tag moves to an unsigned image: the gate follows the tag and refuses.
  auto moved = registry_->pushImage("shop/web", "v1", "unsigned replacement");
  ASSERT_TRUE(moved);
  Decision after = gateImage(client_, *policies, image);
  EXPECT_FALSE(after.allowed) << after.reason;

  // Pinned to the signed digest, the image still verifies whatever the tag names.
  Decision pinned = gateImage(client_, *policies, registry_->host() + "/shop/web@" + digest_);
  EXPECT_TRUE(pinned.allowed) << pinned.reason;
  // An unreachable registry is a failure, never a pass.
  registry_->process().stop();
  Decision unreachable = gateImage(client_, *policies, image);
  EXPECT_FALSE(unreachable.allowed);
  EXPECT_NE(unreachable.reason.find("cannot resolve the digest"), std::string::npos)
      << unreachable.reason;
}

// The seam's implementation: a policy file on disk, a verdict with the pinned reference.
TEST_F(CosignRegistryTest, RegistryImageVerifierPinsTheVerifiedDigest) {
  std::string pem;
  for (char c : key_.publicKey().pem())
    pem += c == '\n' ? std::string("\n        ") : std::string(1, c);
  std::ofstream(dir_.file("policy.yaml"))
      << "apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\n"
         "metadata: {name: shop}\nspec:\n  images: [{glob: \"" +
             registry_->host() +
             "/shop/**\"}]\n  authorities:\n  - name: release\n    key:\n      data: |\n        " +
             pem + "\n";
  auto policies = RegistryImageVerifier::loadPolicies(dir_.file("policy.yaml"));
  ASSERT_TRUE(policies) << policies.error().message;
  RegistryImageVerifier verifier(std::move(*policies), {}, NoMatch::kDeny);
  std::string image = registry_->host() + "/shop/web:v1";
  ImageVerdict refused = verifier.verify(image);
  EXPECT_FALSE(refused.allowed);
  EXPECT_TRUE(refused.pinnedImage.empty());
  EXPECT_EQ(refused.policy, "shop");
  EXPECT_NE(refused.reason.find("no legacy signature"), std::string::npos) << refused.reason;

  std::string payload = testing::simpleSigningPayload(ref_.repositoryName(), digest_);
  ASSERT_TRUE(registry_->pushLegacySignature("shop/web", digest_,
                                             {{payload, testing::signBase64(key_, payload)}}));
  ImageVerdict allowed = verifier.verify(image);
  EXPECT_TRUE(allowed.allowed) << allowed.reason;
  EXPECT_EQ(allowed.pinnedImage, image + "@" + digest_);
  EXPECT_EQ(allowed.authority, "release");

  EXPECT_FALSE(RegistryImageVerifier::loadPolicies(dir_.file("missing.yaml")));
}

}  // namespace
}  // namespace ramp::supply
