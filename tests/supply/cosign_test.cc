// Unit tests of cosign verification (pure): both formats, each failure named, and the `openssl`
// command's own signature accepted (the format is plain ECDSA P-256 over SHA-256, DER, base64).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "audit/signer.h"
#include "common/base64.h"
#include "harness/harness.h"
#include "supply/cosign_fixtures.h"
#include "supply/cosign_verify.h"
#include "supply/oci_reference.h"

namespace ramp::supply {
namespace {

using testing::bundleJson;
using testing::signBase64;
using testing::signStatement;
using testing::simpleSigningPayload;

const std::string kImage = sha256Digest("the image manifest");
const std::string kOther = sha256Digest("another image manifest");

class CosignVerify : public ::testing::Test {
 protected:
  audit::SigningKey key_ = *audit::SigningKey::generate();
  audit::SigningKey stranger_ = *audit::SigningKey::generate();
};

TEST_F(CosignVerify, LegacyPayloadAsCosignWritesIt) {
  // The exact bytes of cosign's own test payload, with this test's digest.
  std::string payload = simpleSigningPayload("index.docker.io/ns/image", kImage);
  EXPECT_EQ(payload, R"({"critical":{"identity":{"docker-reference":"index.docker.io/ns/image"},)"
                     R"("image":{"docker-manifest-digest":")" +
                         kImage +
                         R"("},"type":"cosign container image signature"},"optional":null})");
  auto v = verifyLegacySignature(payload, signBase64(key_, payload), kImage, key_.publicKey());
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->format, SignatureFormat::kLegacy);
  EXPECT_EQ(v->digest, kImage);
  EXPECT_EQ(v->keyId, key_.publicKey().keyId());
  EXPECT_EQ(v->identity, "index.docker.io/ns/image");
}

TEST_F(CosignVerify, LegacyFailuresAreNamed) {
  std::string payload = simpleSigningPayload("r/x", kImage);
  std::string good = signBase64(key_, payload);
  std::string forOther = simpleSigningPayload("r/x", kOther);
  std::string wrongType = simpleSigningPayload("r/x", kImage, "cosign attestation");
  struct Case {
    std::string name, payload, sig;
    ErrorCode code;
    std::string starts;
  };
  std::vector<Case> cases = {
      {"other key", payload, signBase64(stranger_, payload), ErrorCode::kFailedPrecondition,
       "bad signature"},
      {"tampered payload", payload + " ", good, ErrorCode::kFailedPrecondition, "bad signature"},
      {"signature for another image", forOther, signBase64(key_, forOther),
       ErrorCode::kFailedPrecondition, "digest mismatch"},
      {"not a cosign signature", wrongType, signBase64(key_, wrongType),
       ErrorCode::kFailedPrecondition, "wrong type"},
      {"no signature", payload, "", ErrorCode::kParse, "legacy signature"},
      {"not base64", payload, "%%%", ErrorCode::kParse, "legacy signature"},
      {"signed non-JSON", "{", signBase64(key_, "{"), ErrorCode::kParse, "simple-signing"},
  };
  for (const Case& c : cases) {
    auto v = verifyLegacySignature(c.payload, c.sig, kImage, key_.publicKey());
    ASSERT_FALSE(v) << c.name;
    EXPECT_EQ(v.error().code, c.code) << c.name;
    EXPECT_TRUE(v.error().message.starts_with(c.starts)) << c.name << ": " << v.error().message;
  }
}

// A signature made by the `openssl` command (not by ramp) verifies: nothing ramp-specific in
// the format.
TEST_F(CosignVerify, OpensslCommandSignatureVerifies) {
  ramp::testing::TempDir dir("ramp-cosign-openssl");
  std::ofstream(dir.file("cosign.key")) << key_.privatePem();
  std::string payload = simpleSigningPayload("registry.example/shop/web", kImage);
  std::ofstream(dir.file("payload.json"), std::ios::binary) << payload;
  std::string cmd = "openssl dgst -sha256 -sign " + dir.file("cosign.key") + " -out " +
                    dir.file("sig") + " " + dir.file("payload.json");
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream in(dir.file("sig"), std::ios::binary);
  std::string der((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto pub = audit::VerifyingKey::fromPem(key_.publicKey().pem());  // as read from cosign.pub
  ASSERT_TRUE(pub);
  EXPECT_TRUE(verifyLegacySignature(payload, encodeBase64(der), kImage, *pub));
}

TEST_F(CosignVerify, BundleAsCosignThreeWritesIt) {
  std::string bundle = bundleJson(key_, signStatement("registry.example/shop/web", kImage));
  auto parsed = parseSigstoreBundle(bundle);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->mediaType, kSigstoreBundleMediaType);
  EXPECT_EQ(parsed->publicKeyHint, key_.publicKey().keyId());
  EXPECT_EQ(parsed->signatures.size(), 1u);
  auto v = verifyBundle(bundle, kImage, key_.publicKey());
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->format, SignatureFormat::kBundle);
  EXPECT_EQ(v->digest, kImage);
  EXPECT_EQ(v->identity, "registry.example/shop/web");
}

TEST_F(CosignVerify, BundleFailuresAreNamed) {
  std::string statement = signStatement("r/x", kImage);
  std::string good = bundleJson(key_, statement);
  // The same envelope with its payload swapped for a statement about another image.
  std::string swapped = good;
  swapped.replace(swapped.find(encodeBase64(statement)), encodeBase64(statement).size(),
                  encodeBase64(signStatement("r/x", kOther)));
  struct Case {
    std::string name, bundle;
    ErrorCode code;
    std::string starts;
  };
  std::vector<Case> cases = {
      {"other key", bundleJson(stranger_, statement), ErrorCode::kFailedPrecondition,
       "bad signature"},
      {"payload swapped", swapped, ErrorCode::kFailedPrecondition, "bad signature"},
      {"statement for another image", bundleJson(key_, signStatement("r/x", kOther)),
       ErrorCode::kFailedPrecondition, "digest mismatch"},
      {"an attestation, not a signature",
       bundleJson(key_, signStatement("r/x", kImage, "https://slsa.dev/provenance/v1")),
       ErrorCode::kFailedPrecondition, "wrong type: predicateType"},
      {"payload type", bundleJson(key_, statement, "application/json"),
       ErrorCode::kFailedPrecondition, "wrong type: envelope payloadType"},
      {"keyless",
       bundleJson(key_, statement, "application/vnd.in-toto+json",
                  R"({"certificate":{"rawBytes":"AAAA"},"tlogEntries":[]})"),
       ErrorCode::kUnsupported, "unsupported: keyless"},
      {"message signature",
       R"({"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{},"messageSignature":{"signature":"AAAA"}})",
       ErrorCode::kUnsupported, "unsupported: message-signature"},
      {"no envelope",
       R"({"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{}})",
       ErrorCode::kParse, "sigstore bundle: neither"},
      {"not JSON", "{", ErrorCode::kParse, "sigstore bundle"},
  };
  for (const Case& c : cases) {
    auto v = verifyBundle(c.bundle, kImage, key_.publicKey());
    ASSERT_FALSE(v) << c.name;
    EXPECT_EQ(v.error().code, c.code) << c.name << ": " << v.error().message;
    EXPECT_TRUE(v.error().message.starts_with(c.starts)) << c.name << ": " << v.error().message;
  }
}

TEST(CosignPayloads, MalformedFieldsAreNamed) {
  auto p = parseSimpleSigningPayload(R"({"critical":{"image":{}}})");
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("critical.image.docker-manifest-digest: missing"),
            std::string::npos);
  auto s = parseInTotoStatement(R"({"_type":"x","predicateType":"y","subject":[{"digest":1}]})");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("subject[0].digest"), std::string::npos);
}

}  // namespace
}  // namespace ramp::supply
