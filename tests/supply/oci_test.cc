// Unit tests of the pure OCI parts: image references, digests, manifests and indexes, auth
// challenges and token answers.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "supply/oci_client.h"
#include "supply/oci_manifest.h"
#include "supply/oci_reference.h"
#include "supply/registry_image_verifier.h"

namespace ramp::supply {
namespace {

const std::string kHex = std::string(64, 'a');
const std::string kDigest = "sha256:" + kHex;

TEST(ImageReference, ParsesWithDockerHubDefaults) {
  struct Case {
    std::string text, registry, repository, tag, digest, name;
  };
  std::vector<Case> cases = {
      {"nginx", "index.docker.io", "library/nginx", "latest", "",
       "index.docker.io/library/nginx:latest"},
      {"nginx:1.25", "index.docker.io", "library/nginx", "1.25", "",
       "index.docker.io/library/nginx:1.25"},
      {"myuser/myapp", "index.docker.io", "myuser/myapp", "latest", "",
       "index.docker.io/myuser/myapp:latest"},
      {"docker.io/library/busybox:1", "index.docker.io", "library/busybox", "1", "",
       "index.docker.io/library/busybox:1"},
      {"ghcr.io/org/app@" + kDigest, "ghcr.io", "org/app", "", kDigest,
       "ghcr.io/org/app@" + kDigest},
      {"127.0.0.1:5000/shop/web:v2@" + kDigest, "127.0.0.1:5000", "shop/web", "v2", kDigest,
       "127.0.0.1:5000/shop/web@" + kDigest},
      {"localhost/a_b/c-d.e:x.y-z", "localhost", "a_b/c-d.e", "x.y-z", "",
       "localhost/a_b/c-d.e:x.y-z"},
      {"registry.example:443/a/b/c", "registry.example:443", "a/b/c", "latest", "",
       "registry.example:443/a/b/c:latest"},
  };
  for (const Case& c : cases) {
    auto r = parseImageReference(c.text);
    ASSERT_TRUE(r) << c.text << ": " << r.error().message;
    EXPECT_EQ(r->registry, c.registry) << c.text;
    EXPECT_EQ(r->repository, c.repository) << c.text;
    EXPECT_EQ(r->tag, c.tag) << c.text;
    EXPECT_EQ(r->digest, c.digest) << c.text;
    EXPECT_EQ(r->name(), c.name) << c.text;
    // str() spells every default out and parses back to the same reference.
    auto again = parseImageReference(r->str());
    ASSERT_TRUE(again) << r->str();
    EXPECT_EQ(*again, *r);
  }
}

TEST(ImageReference, RejectsMalformed) {
  struct Case {
    std::string text, why;
  };
  std::vector<Case> cases = {
      {"", "empty"},
      {"Nginx", "invalid repository path component"},
      {"ghcr.io/Org/app", "invalid repository path component \"Org\""},
      {"ghcr.io/org//app", "invalid repository path component \"\""},
      {"ghcr.io/org/app:", "invalid tag"},
      {"ghcr.io/org/app:-x", "invalid tag"},
      {"ghcr.io/org/app@sha256:abc", "not sha256: followed by 64"},
      {"ghcr.io/org/app@sha512:" + kHex, "not sha256:"},
      {"ghcr.io/org/app@sha256:" + std::string(64, 'A'), "lower-case"},
      {"ghcr.io/", "no repository"},
      {"a..b", "invalid repository path component"},
      {"bad host!:5000/x", "invalid registry"},
  };
  for (const Case& c : cases) {
    auto r = parseImageReference(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(r.error().message.find(c.why), std::string::npos) << r.error().message;
  }
}

TEST(Digest, Sha256AndCheck) {
  // SHA-256("abc"), FIPS 180-2 appendix B.1.
  EXPECT_EQ(sha256Digest("abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_TRUE(checkDigest("abc", sha256Digest("abc")));
  auto wrong = checkDigest("abd", sha256Digest("abc"));
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(wrong.error().message.find("digest mismatch"), std::string::npos);
  EXPECT_EQ(checkDigest("abc", "md5:x").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(digestTag(kDigest), "sha256-" + kHex);
}

TEST(PinImage, KeepsTheSpellingAndReplacesAnyDigest) {
  EXPECT_EQ(pinImage("nginx:1.25", kDigest), "nginx:1.25@" + kDigest);
  EXPECT_EQ(pinImage("r.example/a/b", kDigest), "r.example/a/b@" + kDigest);
  EXPECT_EQ(pinImage("r.example/a/b:t@sha256:" + std::string(64, 'b'), kDigest),
            "r.example/a/b:t@" + kDigest);
}

TEST(Manifest, ParsesImageManifestWithSubject) {
  std::string body = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
    "artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json",
    "config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":")" +
                     kDigest +
                     R"(","size":2},
    "layers":[{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","digest":")" +
                     kDigest + R"(","size":1234,"annotations":{"a":"b"}}],
    "subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
                     kDigest +
                     R"(","size":7},
    "annotations":{"org.opencontainers.image.created":"2026-01-01T00:00:00Z"}})";
  auto m = parseManifest(body);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_FALSE(m->isIndex);
  EXPECT_EQ(m->artifactType, "application/vnd.dev.sigstore.bundle.v0.3+json");
  ASSERT_EQ(m->layers.size(), 1u);
  EXPECT_EQ(m->layers[0].size, 1234);
  EXPECT_EQ(m->layers[0].annotations.at("a"), "b");
  ASSERT_TRUE(m->subject);
  EXPECT_EQ(m->subject->size, 7);
  auto again = parseManifest(encodeManifest(*m));
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *m);
}

TEST(Manifest, IndexAndMediaTypeFromContentType) {
  std::string body = R"({"schemaVersion":2,"manifests":[{"mediaType":"x","digest":")" + kDigest +
                     R"(","size":3,"artifactType":"t"}]})";
  auto m = parseManifest(body, "application/vnd.oci.image.index.v1+json; charset=utf-8");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_TRUE(m->isIndex);
  EXPECT_EQ(m->mediaType, kOciIndexType);
  ASSERT_EQ(m->manifests.size(), 1u);
  EXPECT_EQ(m->manifests[0].artifactType, "t");
  auto docker = parseManifest(
      R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[]})");
  ASSERT_TRUE(docker);
  EXPECT_TRUE(docker->isIndex);
}

TEST(Manifest, RejectsMalformed) {
  std::string d = kDigest;
  struct Case {
    std::string body;
    ErrorCode code;
    std::string why;
  };
  std::vector<Case> cases = {
      {"[]", ErrorCode::kParse, "not a JSON object"},
      {"{}", ErrorCode::kParse, "schemaVersion"},
      {R"({"schemaVersion":1})", ErrorCode::kUnsupported, "schemaVersion 1"},
      {R"({"schemaVersion":2,"mediaType":"text/plain"})", ErrorCode::kUnsupported, "text/plain"},
      {R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"})",
       ErrorCode::kParse, "config: missing"},
      {R"({"schemaVersion":2,"config":{"digest":"sha256:1","size":1},"layers":[]})",
       ErrorCode::kParse, "config.digest"},
      {R"({"schemaVersion":2,"config":{"digest":")" + d + R"(","size":-1},"layers":[]})",
       ErrorCode::kParse, "config.size: negative"},
      {R"({"schemaVersion":2,"config":{"digest":")" + d + R"(","size":1},"layers":[{"digest":")" +
           d + R"("}]})",
       ErrorCode::kParse, "layers[0].size"},
      {R"({"schemaVersion":2,"manifests":[1]})", ErrorCode::kParse, "manifests[0]: not an object"},
      {R"({"schemaVersion":2,"manifests":[],"annotations":{"a":1}})", ErrorCode::kParse,
       "annotations.a"},
  };
  for (const Case& c : cases) {
    auto m = parseManifest(c.body);
    ASSERT_FALSE(m) << c.body;
    EXPECT_EQ(m.error().code, c.code) << c.body;
    EXPECT_NE(m.error().message.find(c.why), std::string::npos) << m.error().message;
  }
}

TEST(AuthChallenge, ParsesBearerAndBasic) {
  auto c = parseAuthChallenge(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull")");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->scheme, "Bearer");
  EXPECT_EQ(c->params.at("realm"), "https://auth.docker.io/token");
  EXPECT_EQ(c->params.at("service"), "registry.docker.io");
  EXPECT_EQ(c->params.at("scope"), "repository:library/nginx:pull");
  auto b = parseAuthChallenge(R"(Basic Realm="a \"quoted\" realm", charset=UTF-8)");
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->params.at("realm"), "a \"quoted\" realm");
  EXPECT_EQ(b->params.at("charset"), "UTF-8");
  EXPECT_FALSE(parseAuthChallenge(""));
  EXPECT_FALSE(parseAuthChallenge(R"(Bearer realm="open)"));
  EXPECT_FALSE(parseAuthChallenge("Bearer realm"));
  EXPECT_FALSE(parseAuthChallenge(R"(Bearer realm="a" service="b")"));
}

TEST(DockerConfig, AuthsAsDockerLoginWritesThem) {
  // "dXNlcjpwYTpzcw==" is base64 of "user:pa:ss" (a password may hold ':').
  auto c = parseDockerConfig(R"({"auths":{
      "https://index.docker.io/v1/":{"auth":"dXNlcjpwYTpzcw=="},
      "ghcr.io":{"username":"bot","password":"tok"},
      "quay.io":{}}})");
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->size(), 2u);
  EXPECT_EQ(c->at("index.docker.io").username, "user");
  EXPECT_EQ(c->at("index.docker.io").password, "pa:ss");
  EXPECT_EQ(c->at("ghcr.io").password, "tok");
  EXPECT_EQ(normalizeRegistryHost("docker.io"), "index.docker.io");
  EXPECT_EQ(normalizeRegistryHost("http://127.0.0.1:5000/v2/"), "127.0.0.1:5000");

  struct Case {
    std::string json;
    ErrorCode code;
    std::string why;
  };
  std::vector<Case> cases = {
      {"[]", ErrorCode::kParse, "not a JSON object"},
      {R"({"auths":{"r.io":{"auth":"%%%"}}})", ErrorCode::kParse, "auths.r.io.auth"},
      {R"({"auths":{"r.io":{"auth":"bm9jb2xvbg=="}}})", ErrorCode::kParse, "user:password"},
      {R"({"auths":{"r.io":{"identitytoken":"x"}}})", ErrorCode::kUnsupported, "auths.r.io"},
      {R"({"credsStore":"desktop"})", ErrorCode::kUnsupported, "credsStore"},
  };
  for (const Case& k : cases) {
    auto r = parseDockerConfig(k.json);
    ASSERT_FALSE(r) << k.json;
    EXPECT_EQ(r.error().code, k.code) << k.json;
    EXPECT_NE(r.error().message.find(k.why), std::string::npos) << r.error().message;
  }
  // The secret is never in a message.
  auto leaked = parseDockerConfig(R"({"auths":{"r.io":{"username":"u","password":7}}})");
  ASSERT_FALSE(leaked);
  EXPECT_EQ(leaked.error().message.find('7'), std::string::npos);
}

TEST(TokenResponse, TokenOrAccessToken) {
  EXPECT_EQ(*parseTokenResponse(R"({"token":"t1","expires_in":300})"), "t1");
  EXPECT_EQ(*parseTokenResponse(R"({"access_token":"t2"})"), "t2");
  EXPECT_FALSE(parseTokenResponse(R"({"token":""})"));
  EXPECT_FALSE(parseTokenResponse("not json"));
}

}  // namespace
}  // namespace ramp::supply
