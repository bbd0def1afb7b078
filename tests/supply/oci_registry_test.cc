// OciClient against a real registry: Debian's docker-registry (distribution 2.8.2) on loopback,
// anonymous and behind token authentication. distribution 2.8 has no referrers API, so
// referrers() is tested on its tag-schema fallback here.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "harness/harness.h"
#include "harness/test_server.h"
#include "supply/oci_client.h"
#include "supply/oci_manifest.h"
#include "supply/oci_reference.h"
#include "supply/registry_harness.h"

namespace ramp::supply {
namespace {

using testing::LocalRegistry;
using testing::RegistryOptions;

ImageReference repoRef(const LocalRegistry& reg, const std::string& repo,
                       const std::string& tag = "") {
  auto r = parseImageReference(reg.host() + "/" + repo + (tag.empty() ? "" : ":" + tag));
  EXPECT_TRUE(r) << r.error().message;
  return *r;
}

class OciRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = LocalRegistry::start(RegistryOptions{}, dir_.path());
    ASSERT_TRUE(r) << r.error().message;
    registry_ = std::move(*r);
  }
  ramp::testing::TempDir dir_{"ramp-oci"};
  std::unique_ptr<LocalRegistry> registry_;
};

TEST_F(OciRegistryTest, ManifestsByTagAndDigestAndBlobs) {
  auto digest = registry_->pushImage("shop/web", "v1", "one");
  ASSERT_TRUE(digest) << digest.error().message;
  OciClient client({});
  auto ref = repoRef(*registry_, "shop/web", "v1");

  auto byTag = client.getManifest(ref, "v1");
  ASSERT_TRUE(byTag) << byTag.error().message;
  EXPECT_EQ(byTag->digest, *digest);
  EXPECT_EQ(byTag->mediaType, kOciManifestType);
  ASSERT_TRUE(byTag->manifest.config);
  ASSERT_EQ(byTag->manifest.layers.size(), 1u);

  auto byDigest = client.getManifest(ref, *digest);
  ASSERT_TRUE(byDigest) << byDigest.error().message;
  EXPECT_EQ(byDigest->bytes, byTag->bytes);

  auto resolved = client.resolveDigest(ref);
  ASSERT_TRUE(resolved) << resolved.error().message;
  EXPECT_EQ(*resolved, *digest);

  const Descriptor& layer = byTag->manifest.layers[0];
  auto blob = client.getBlob(ref, layer.digest);
  ASSERT_TRUE(blob) << blob.error().message;
  EXPECT_EQ(*blob, "layer bytes of one");
  // Over the cap: refused, not buffered.
  auto capped = client.getBlob(ref, layer.digest, 5);
  ASSERT_FALSE(capped);
  EXPECT_EQ(capped.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(capped.error().message.find("larger than the cap of 5 bytes"), std::string::npos);

  auto missing = client.getManifest(ref, "v9");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message.find("/v2/shop/web/manifests/v9"), std::string::npos);
  EXPECT_NE(missing.error().message.find("MANIFEST_UNKNOWN"), std::string::npos)
      << missing.error().message;
  auto unknownBlob = client.getBlob(ref, sha256Digest("never pushed"));
  ASSERT_FALSE(unknownBlob);
  EXPECT_EQ(unknownBlob.error().code, ErrorCode::kNotFound);
}

TEST_F(OciRegistryTest, ReferrersThroughTheTagSchemaFallback) {
  auto subject = registry_->pushImage("shop/web", "v1", "subject");
  ASSERT_TRUE(subject) << subject.error().message;
  auto ref = repoRef(*registry_, "shop/web");
  OciClient client({});

  // No referrers yet: distribution 2.8 answers 404 on /referrers/ and there is no fallback tag.
  auto none = client.referrers(ref, *subject);
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_TRUE(none->empty());
  EXPECT_TRUE(client.lastReferrersUsedFallback());

  // Two referrers of different artifact types, listed in an index at tag sha256-<hex>, as
  // cosign and oras write it for registries without the API.
  auto empty = registry_->pushBlob("shop/web", "{}");
  ASSERT_TRUE(empty);
  Manifest index;
  index.isIndex = true;
  index.mediaType = std::string(kOciIndexType);
  for (std::string type : {"application/vnd.dev.sigstore.bundle.v0.3+json", "application/x-sbom"}) {
    auto blob = registry_->pushBlob("shop/web", "artifact " + type);
    ASSERT_TRUE(blob);
    Manifest m;
    m.mediaType = std::string(kOciManifestType);
    m.artifactType = type;
    m.config = Descriptor{std::string(kOciEmptyType), *empty, 2, "", {}};
    m.layers.push_back(Descriptor{type, *blob, static_cast<int64_t>(type.size() + 9), "", {}});
    m.subject = Descriptor{std::string(kOciManifestType), *subject, 1, "", {}};
    std::string bytes = encodeManifest(m);
    auto d = registry_->pushManifest("shop/web", sha256Digest(bytes), bytes, m.mediaType);
    ASSERT_TRUE(d) << d.error().message;
    index.manifests.push_back(
        Descriptor{m.mediaType, *d, static_cast<int64_t>(bytes.size()), type, {}});
  }
  ASSERT_TRUE(registry_->pushManifest("shop/web", digestTag(*subject), encodeManifest(index),
                                      index.mediaType));

  auto all = client.referrers(ref, *subject);
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_EQ(all->size(), 2u);
  auto bundles = client.referrers(ref, *subject, "application/vnd.dev.sigstore.bundle.v0.3+json");
  ASSERT_TRUE(bundles) << bundles.error().message;
  ASSERT_EQ(bundles->size(), 1u);
  EXPECT_EQ((*bundles)[0].digest, index.manifests[0].digest);
  auto referrer = client.getManifest(ref, (*bundles)[0].digest);
  ASSERT_TRUE(referrer) << referrer.error().message;
  ASSERT_TRUE(referrer->manifest.subject);
  EXPECT_EQ(referrer->manifest.subject->digest, *subject);
}

// The Bearer flow against distribution's token auth: 401 with a challenge, the realm asked for
// a pull token with Basic credentials, the request retried with the token (cached after).
TEST(OciRegistryTokenAuth, BearerChallengeThenToken) {
  ramp::testing::TempDir dir("ramp-oci-token");
  RegistryOptions options;
  options.tokenAuth = true;
  auto reg = LocalRegistry::start(options, dir.path());
  ASSERT_TRUE(reg) << reg.error().message;
  auto digest = (*reg)->pushImage("shop/api", "v1", "token");
  ASSERT_TRUE(digest) << digest.error().message;
  auto ref = repoRef(**reg, "shop/api", "v1");

  OciClient anonymous({});
  auto refused = anonymous.getManifest(ref, "v1");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kUnauthenticated);
  EXPECT_NE(refused.error().message.find("/token"), std::string::npos) << refused.error().message;

  // Credentials for another registry are not sent here.
  OciClient::Options otherRegistry;
  otherRegistry.credentialsByRegistry["ghcr.io"] = {options.user, options.password};
  auto wrongHost = OciClient(otherRegistry).getManifest(ref, "v1");
  ASSERT_FALSE(wrongHost);
  EXPECT_EQ(wrongHost.error().code, ErrorCode::kUnauthenticated);

  // This registry's entry, as a docker config.json names it.
  auto config =
      parseDockerConfig(R"({"auths":{"http://)" + (*reg)->host() + R"(":{"username":")" +
                        options.user + R"(","password":")" + options.password + R"("}}})");
  ASSERT_TRUE(config) << config.error().message;
  OciClient::Options withCredentials;
  withCredentials.credentialsByRegistry = *config;
  OciClient client(withCredentials);
  int before = (*reg)->tokensIssued();
  auto m = client.getManifest(ref, "v1");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->digest, *digest);
  EXPECT_EQ((*reg)->tokensIssued(), before + 1);
  auto blob = client.getBlob(ref, m->manifest.layers[0].digest);
  ASSERT_TRUE(blob) << blob.error().message;
  EXPECT_EQ((*reg)->tokensIssued(), before + 1);  // the token is reused for the repository
  // The password never appears in what the client reports.
  auto missing = client.getManifest(ref, "nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message.find(options.password), std::string::npos);
}

// A registry that serves other bytes than the digest asked for is caught (the check that makes
// a tag -> digest pin worth anything). cpp-httplib stands in for a lying registry.
TEST(OciRegistryDigests, MismatchedBytesAreRefused) {
  ramp::testing::TestServer server;
  std::string good =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]})";
  std::string evil =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[] })";
  server.server().Get(R"(/v2/x/manifests/(.*))",
                      [&](const httplib::Request&, httplib::Response& res) {
                        res.set_content(evil, "application/vnd.oci.image.index.v1+json");
                      });
  server.server().Get(R"(/v2/y/manifests/(.*))",
                      [&](const httplib::Request&, httplib::Response& res) {
                        res.set_header("Docker-Content-Digest", sha256Digest(good));
                        res.set_content(evil, "application/vnd.oci.image.index.v1+json");
                      });
  int port = server.start();
  OciClient client({});
  auto x = parseImageReference("127.0.0.1:" + std::to_string(port) + "/x:t");
  auto byDigest = client.getManifest(*x, sha256Digest(good));
  ASSERT_FALSE(byDigest);
  EXPECT_EQ(byDigest.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(byDigest.error().message.find("digest mismatch"), std::string::npos);
  EXPECT_TRUE(client.getManifest(*x, "t"));  // by tag nothing is claimed: the digest is computed
  auto y = parseImageReference("127.0.0.1:" + std::to_string(port) + "/y:t");
  auto header = client.getManifest(*y, "t");
  ASSERT_FALSE(header);
  EXPECT_NE(header.error().message.find("Docker-Content-Digest"), std::string::npos);
}

// The referrers API itself (distribution 2.8 does not serve it; no registry here does): an
// answer from the API is used as is, without the fallback; a 5xx is an error, not a fallback.
TEST(OciReferrersApi, UsedWhenServedAndErrorsAreNotFallbacks) {
  const std::string subject = sha256Digest("subject");
  const std::string a = sha256Digest("a"), b = sha256Digest("b");
  ramp::testing::TestServer server;
  server.server().Get(
      "/v2/x/referrers/" + subject, [&](const httplib::Request& req, httplib::Response& res) {
        EXPECT_EQ(req.get_header_value("Accept"), kOciIndexType);
        res.set_content(
            R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",)"
            R"("manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
            R"("digest":")" +
                a +
                R"(","size":1,"artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json"},)"
                R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
                b + R"(","size":1,"artifactType":"application/spdx+json"}]})",
            "application/vnd.oci.image.index.v1+json");
      });
  server.server().Get("/v2/broken/referrers/" + subject,
                      [](const httplib::Request&, httplib::Response& res) { res.status = 503; });
  int port = server.start();
  OciClient client({});
  auto x = parseImageReference("127.0.0.1:" + std::to_string(port) + "/x");
  auto bundles = client.referrers(*x, subject, "application/vnd.dev.sigstore.bundle.v0.3+json");
  ASSERT_TRUE(bundles) << bundles.error().message;
  ASSERT_EQ(bundles->size(), 1u);
  EXPECT_EQ((*bundles)[0].digest, a);
  EXPECT_FALSE(client.lastReferrersUsedFallback());
  auto broken = parseImageReference("127.0.0.1:" + std::to_string(port) + "/broken");
  auto err = client.referrers(*broken, subject);
  ASSERT_FALSE(err);
  EXPECT_EQ(err.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(err.error().message.find("HTTP 503"), std::string::npos);
}

// Registries send blob GETs to a CDN with a 307 (Docker Hub, GHCR, ECR; docker-registry's
// filesystem driver never does, so stand-ins play both): the redirect is followed, the bytes
// checked against the digest, and the registry's token is not sent to the CDN.
TEST(OciRedirects, BlobRedirectFollowedWithoutTheToken) {
  const std::string blob = "blob bytes behind a CDN";
  const std::string digest = sha256Digest(blob);
  ramp::testing::TestServer cdn;
  std::string cdnAuthorization = "unset";
  cdn.server().Get("/signed/blob", [&](const httplib::Request& req, httplib::Response& res) {
    cdnAuthorization = req.get_header_value("Authorization");
    res.set_content(blob, "application/octet-stream");
  });
  cdn.server().Get("/signed/tampered", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(blob + "!", "application/octet-stream");
  });
  int cdnPort = cdn.start();
  ramp::testing::TestServer registry;
  std::string registryAuthorization;
  registry.server().Get("/token", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"token":"registry-token"})", "application/json");
  });
  int registryPort = registry.start();
  auto challengeOr = [&](const char* to) {
    return [&, to](const httplib::Request& req, httplib::Response& res) {
      registryAuthorization = req.get_header_value("Authorization");
      if (registryAuthorization.empty()) {
        res.status = 401;
        res.set_header("WWW-Authenticate",
                       "Bearer realm=\"http://127.0.0.1:" + std::to_string(registryPort) +
                           "/token\",service=\"s\"");
        return;
      }
      res.status = 307;
      res.set_header("Location", "http://127.0.0.1:" + std::to_string(cdnPort) + to);
    };
  };
  registry.server().Get("/v2/x/blobs/" + digest, challengeOr("/signed/blob"));
  registry.server().Get("/v2/y/blobs/" + digest, challengeOr("/signed/tampered"));

  OciClient client({});
  auto x = parseImageReference("127.0.0.1:" + std::to_string(registryPort) + "/x");
  auto got = client.getBlob(*x, digest);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(*got, blob);
  EXPECT_EQ(registryAuthorization, "Bearer registry-token");
  EXPECT_EQ(cdnAuthorization, "");  // the token stays with the registry
  auto y = parseImageReference("127.0.0.1:" + std::to_string(registryPort) + "/y");
  auto tampered = client.getBlob(*y, digest);
  ASSERT_FALSE(tampered);
  EXPECT_NE(tampered.error().message.find("digest mismatch"), std::string::npos);
}

// A registry that sends its body a byte at a time never falls silent long enough for libcurl's
// low-speed limit; the client's own deadline cuts it off.
TEST(OciTimeouts, ADripFedBodyIsCutOffAtTheTimeout) {
  ramp::testing::TestServer server;
  server.server().Get(R"(/v2/x/blobs/(.*))", [](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("application/octet-stream",
                                     [](size_t, httplib::DataSink& sink) {
                                       std::this_thread::sleep_for(std::chrono::milliseconds(100));
                                       return sink.write("x", 1);
                                     });
  });
  int port = server.start();
  OciClient::Options options;
  options.timeout = Duration(1500);
  OciClient client(options);
  auto x = parseImageReference("127.0.0.1:" + std::to_string(port) + "/x");
  auto start = std::chrono::steady_clock::now();
  auto blob = client.getBlob(*x, sha256Digest("never"));
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(blob);
  EXPECT_EQ(blob.error().code, ErrorCode::kDeadlineExceeded) << blob.error().message;
  EXPECT_LT(took, std::chrono::seconds(5));
}

}  // namespace
}  // namespace ramp::supply
