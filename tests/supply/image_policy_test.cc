// Unit tests of ClusterImagePolicy files (decoding with file:line:column errors), glob matching
// (policy-controller's documented behaviour) and the pure evaluation.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "audit/signer.h"
#include "supply/image_policy.h"
#include "supply/oci_reference.h"

namespace ramp::supply {
namespace {

std::string indentPem(const std::string& pem, int spaces) {
  std::string out;
  std::string pad(spaces, ' ');
  size_t start = 0;
  while (start < pem.size()) {
    size_t end = pem.find('\n', start);
    out += pad + pem.substr(start, end - start) + "\n";
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

class ImagePolicyTest : public ::testing::Test {
 protected:
  std::string policyYaml(const std::string& name, const std::string& glob,
                         const std::string& format = "legacy",
                         const std::string& mode = "enforce") {
    return "apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata:\n  "
           "name: " +
           name + "\nspec:\n  images:\n  - glob: \"" + glob +
           "\"\n  authorities:\n  - name: release-key\n    signatureFormat: " + format +
           "\n    key:\n      data: |\n" + indentPem(key_.publicKey().pem(), 8) +
           "  mode: " + mode + "\n";
  }
  audit::SigningKey key_ = *audit::SigningKey::generate();
};

TEST_F(ImagePolicyTest, ParsesPolicyControllerShape) {
  std::string text = policyYaml("shop", "registry.example/shop/**", "bundle", "warn") +
                     "---\napiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\n"
                     "metadata: {name: break-glass}\nspec:\n  images: [{glob: \"**\"}]\n"
                     "  authorities: [{static: {action: pass}}]\n";
  auto ps = parseImagePolicies(text, "policy.yaml");
  ASSERT_TRUE(ps) << ps.error().message;
  ASSERT_EQ(ps->size(), 2u);
  const ImagePolicy& p = (*ps)[0];
  EXPECT_EQ(p.name, "shop");
  EXPECT_EQ(p.globs, std::vector<std::string>{"registry.example/shop/**"});
  EXPECT_EQ(p.mode, PolicyMode::kWarn);
  ASSERT_EQ(p.authorities.size(), 1u);
  EXPECT_EQ(p.authorities[0].name, "release-key");
  EXPECT_EQ(p.authorities[0].format, SignatureFormat::kBundle);
  ASSERT_TRUE(p.authorities[0].key);
  EXPECT_EQ(p.authorities[0].key->keyId(), key_.publicKey().keyId());
  EXPECT_EQ(p.source, "policy.yaml:1");
  const ImagePolicy& bg = (*ps)[1];
  EXPECT_EQ(bg.mode, PolicyMode::kEnforce);
  EXPECT_EQ(bg.authorities[0].name, "authority-0");  // policy-controller's default name
  EXPECT_EQ(bg.authorities[0].kind, PolicyAuthority::Kind::kStaticPass);
}

TEST_F(ImagePolicyTest, ParsesKeylessAuthorities) {
  std::string text =
      "apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: p}\n"
      "spec:\n  images: [{glob: \"**\"}]\n  authorities:\n  - name: workflow\n"
      "    signatureFormat: bundle\n    keyless:\n      identities:\n"
      "      - {issuer: \"https://token.actions.githubusercontent.com\", subjectRegExp: "
      "\"^https://github.com/shop/\"}\n"
      "      - {issuerRegExp: \"^https://accounts\", subject: \"ops@shop.example\"}\n"
      "      trustRootRef: public-good\n      insecureIgnoreSCT: true\n"
      "  - keyless:\n      identities: [{issuer: i, subject: s}]\n";
  auto ps = parseImagePolicies(text, "p.yaml");
  ASSERT_TRUE(ps) << ps.error().message;
  const PolicyAuthority& a = (*ps)[0].authorities[0];
  EXPECT_EQ(a.kind, PolicyAuthority::Kind::kKeyless);
  EXPECT_EQ(a.format, SignatureFormat::kBundle);
  EXPECT_EQ(a.trustRootRef, "public-good");
  EXPECT_TRUE(a.ignoreSct);
  EXPECT_EQ(a.identities,
            (std::vector<IdentityMatcher>{{"https://token.actions.githubusercontent.com", "", "",
                                           "^https://github.com/shop/"},
                                          {"", "ops@shop.example", "^https://accounts", ""}}));
  EXPECT_EQ(a.where, "p.yaml:9:5: spec.authorities[0].keyless");
  const PolicyAuthority& b = (*ps)[0].authorities[1];
  EXPECT_EQ(b.trustRootRef, "");
  EXPECT_FALSE(b.ignoreSct);

  // Each keyless authority needs its trusted root, named or the default.
  auto root = std::make_shared<const TrustedRoot>();
  std::vector<ImagePolicy> none = *ps;
  auto missing = bindTrustedRoots(none, {});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message,
            "p.yaml:9:5: spec.authorities[0].keyless.trustRootRef: no trusted root named "
            "\"public-good\": ramp serve --trusted-root public-good=FILE\n"
            "p.yaml:15:5: spec.authorities[1].keyless: needs a trusted root: ramp serve "
            "--trusted-root FILE (a trusted_root.json)");
  std::vector<ImagePolicy> bound = *ps;
  ASSERT_TRUE(bindTrustedRoots(bound, {{"", root}, {"public-good", root}}));
  EXPECT_EQ(bound[0].authorities[0].trustedRoot, root);
  EXPECT_EQ(bound[0].authorities[1].trustedRoot, root);
}

TEST_F(ImagePolicyTest, ErrorsNameFileLineColumnAndPath) {
  const std::string head =
      "apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: p}\n";
  struct Case {
    std::string name, text, want;
  };
  std::vector<Case> cases = {
      {"not yaml", "a: [", "p.yaml:"},
      {"api version", "apiVersion: v1\nkind: ClusterImagePolicy\n",
       "p.yaml:1:13: apiVersion: must be policy.sigstore.dev/v1beta1"},
      {"kind", "apiVersion: policy.sigstore.dev/v1beta1\nkind: Pod\n",
       "p.yaml:2:7: kind: must be ClusterImagePolicy"},
      {"no spec", head, "spec: required"},
      {"no images", head + "spec:\n  authorities: [{static: {action: pass}}]\n",
       "p.yaml:5:3: spec.images: required"},
      {"bad glob",
       head + "spec:\n  images: [{glob: \"[a-z]*\"}]\n  authorities: [{static: {action: pass}}]\n",
       "p.yaml:5:19: spec.images[0].glob: invalid glob"},
      {"regex",
       head + "spec:\n  images: [{regex: \".*\"}]\n  authorities: [{static: {action: pass}}]\n",
       "p.yaml:5:13: spec.images[0].regex: not supported"},
      {"secretRef",
       head + "spec:\n  images: [{glob: \"**\"}]\n  authorities:\n  - key:\n      secretRef: "
              "{name: k}\n",
       "p.yaml:8:7: spec.authorities[0].key.secretRef: not supported: ramp runs outside "
       "Kubernetes"},
      {"kms",
       head +
           "spec:\n  images: [{glob: \"**\"}]\n  authorities:\n  - key: {kms: \"awskms:///k\"}\n",
       "spec.authorities[0].key.kms: not supported"},
      {"keyless url",
       head + "spec:\n  images: [{glob: \"**\"}]\n  authorities:\n  - keyless: {url: x}\n",
       "p.yaml:7:15: spec.authorities[0].keyless.url: not supported: ramp never fetches a Fulcio "
       "root or TUF metadata"},
      {"keyless caCert",
       head + "spec:\n  images: [{glob: \"**\"}]\n  authorities:\n  - keyless:\n      caCert: "
              "{data: x}\n      identities: [{issuer: i, subject: s}]\n",
       "p.yaml:8:7: spec.authorities[0].keyless.caCert: not supported"},
      {"keyless without identities",
       head + "spec:\n  images: [{glob: \"**\"}]\n  authorities:\n  - keyless: {trustRootRef: "
              "x}\n",
       "spec.authorities[0].keyless.identities: required"},
      {"identity with issuer and issuerRegExp",
       head + "spec:\n  images: [{glob: \"**\"}]\n  authorities:\n  - keyless:\n      "
              "identities:\n      - {issuer: i, issuerRegExp: i, subject: s}\n",
       "p.yaml:9:18: spec.authorities[0].keyless.identities[0].issuer: exactly one of issuer and "
       "issuerRegExp"},
      {"identity without subject",
       head + "spec:\n  images: [{glob: \"**\"}]\n  authorities:\n  - keyless:\n      "
              "identities: [{issuer: i}]\n",
       "spec.authorities[0].keyless.identities[0].subject: exactly one of subject and "
       "subjectRegExp"},
      {"identity regexp",
       head + "spec:\n  images: [{glob: \"**\"}]\n  authorities:\n  - keyless:\n      "
              "identities: [{issuer: i, subjectRegExp: \"(x\"}]\n",
       "p.yaml:8:47: spec.authorities[0].keyless.identities[0].subjectRegExp: not a regular "
       "expression (ECMAScript)"},
      {"identity unknown field",
       head + "spec:\n  images: [{glob: \"**\"}]\n  authorities:\n  - keyless:\n      "
              "identities: [{issuer: i, subject: s, audience: a}]\n",
       "spec.authorities[0].keyless.identities[0].audience: unknown field"},
      {"insecureIgnoreSCT",
       head + "spec:\n  images: [{glob: \"**\"}]\n  authorities:\n  - keyless:\n      "
              "identities: [{issuer: i, subject: s}]\n      insecureIgnoreSCT: maybe\n",
       "spec.authorities[0].keyless.insecureIgnoreSCT: must be true or false"},
      {"ctlog",
       head + "spec:\n  images: [{glob: \"**\"}]\n  authorities:\n  - keyless:\n      "
              "identities: [{issuer: i, subject: s}]\n    ctlog: {url: \"https://rekor\"}\n",
       "spec.authorities[0].ctlog: not supported: ramp never contacts Rekor"},
      {"bad pem",
       head + "spec:\n  images: [{glob: \"**\"}]\n  authorities:\n  - key: {data: nope}\n",
       "p.yaml:7:17: spec.authorities[0].key.data: not an ECDSA P-256 public key"},
      {"format",
       head + "spec:\n  images: [{glob: \"**\"}]\n  authorities:\n  - static: {action: pass}\n    "
              "signatureFormat: v2\n",
       "p.yaml:8:22: spec.authorities[0].signatureFormat: must be legacy or bundle"},
      {"mode",
       head + "spec:\n  images: [{glob: \"**\"}]\n  authorities: [{static: {action: pass}}]\n  "
              "mode: audit\n",
       "p.yaml:7:9: spec.mode: must be enforce or warn"},
      {"unknown",
       head + "spec:\n  images: [{glob: \"**\"}]\n  authorities: [{static: {action: pass}}]\n  "
              "modes: warn\n",
       "p.yaml:7:3: spec.modes: unknown field"},
      {"match",
       head + "spec:\n  images: [{glob: \"**\"}]\n  authorities: [{static: {action: pass}}]\n  "
              "match: []\n",
       "spec.match: not supported"},
      {"key and static",
       head + "spec:\n  images: [{glob: \"**\"}]\n  authorities: [{static: {action: pass}, key: "
              "{data: x}}]\n",
       "exactly one of key, keyless and static"},
      {"static action",
       head + "spec:\n  images: [{glob: \"**\"}]\n  authorities: [{static: {action: maybe}}]\n",
       "spec.authorities[0].static.action: must be pass or fail"},
      {"empty file", "", "no ClusterImagePolicy"},
  };
  for (const Case& c : cases) {
    auto ps = parseImagePolicies(c.text, "p.yaml");
    ASSERT_FALSE(ps) << c.name;
    EXPECT_EQ(ps.error().code, ErrorCode::kInvalidArgument) << c.name;
    EXPECT_NE(ps.error().message.find(c.want), std::string::npos) << c.name << ":\n"
                                                                  << ps.error().message;
  }
}

TEST(ImageGlob, PolicyControllerSemantics) {
  struct Case {
    std::string image, glob;
    bool match;
  };
  std::vector<Case> cases = {
      {"foo", "index.docker.io/library/foo:latest", true},
      {"foo", "index.docker.io/library/foo:*", true},
      {"foo", "index.docker.io/library/*", true},  // '*' crosses ':' but not '/'
      {"foo", "index.docker.io/*/*", true},
      {"foo", "index.docker.io/**", true},
      {"foo", "**", true},
      {"foo", "foo", true},  // the reference as written (deprecated fallback)
      {"foo", "*", true},    // "*" means index.docker.io/library/*
      {"myuser/myapp", "*/*", true},
      {"myuser/myapp", "*", false},
      {"ghcr.io/foo/bar", "ghcr.io/*/*", true},
      {"ghcr.io/foo", "ghcr.io/*/*", false},
      {"ghcr.io/foo", "ghcr.io/**", true},
      {"ghcr.io/foo", "*/**", true},
      {"prefix-ghcr.io/foo", "ghcr.io/foo", false},
      {"ghcr.io/foo-suffix", "ghcr.io/foo", false},
      {"ghcrxio/foo", "ghcr.io/**", false},  // '.' is literal
      {"127.0.0.1:5000/shop/web:v1", "127.0.0.1:5000/shop/*", true},
      {"127.0.0.1:5000/shop/web@sha256:" + std::string(64, 'a'), "127.0.0.1:5000/shop/web@**",
       false},  // '@' is not a glob character: the glob is invalid
      {"127.0.0.1:5000/shop/web@sha256:" + std::string(64, 'a'), "127.0.0.1:5000/shop/web**", true},
  };
  for (const Case& c : cases) {
    auto m = globMatches(c.glob, c.image);
    bool got = m && *m;
    EXPECT_EQ(got, c.match) << c.image << " | " << c.glob;
  }
  EXPECT_FALSE(globMatches("**", "invalid&name"));
  EXPECT_FALSE(globMatches(".+", "foo"));
}

// The pure evaluation: AND over matching policies, OR over a policy's authorities, warn mode,
// static authorities, missing results, digests that do not match.
TEST_F(ImagePolicyTest, Evaluation) {
  const std::string image = "registry.example/shop/web:v1";
  const std::string digest = sha256Digest("web v1");
  auto ps = parseImagePolicies(policyYaml("shop", "registry.example/shop/**") + "---\n" +
                                   policyYaml("all", "registry.example/**", "bundle", "warn"),
                               "p.yaml");
  ASSERT_TRUE(ps) << ps.error().message;
  auto ok = [&](const std::string& d) {
    return Result<VerifiedSignature>(
        VerifiedSignature{SignatureFormat::kLegacy, d, key_.publicKey().keyId(), image, "", ""});
  };
  auto bad = Result<VerifiedSignature>(
      std::unexpected(Error{ErrorCode::kFailedPrecondition, "bad signature: x"}));

  Decision both = evaluateImagePolicies(
      *ps, image, digest,
      {{"shop", "release-key", ok(digest)}, {"all", "release-key", ok(digest)}});
  EXPECT_TRUE(both.allowed);
  EXPECT_EQ(both.policy, "shop");
  EXPECT_EQ(both.authority, "release-key");
  EXPECT_EQ(both.verifiedDigest, digest);
  EXPECT_TRUE(both.warnings.empty());

  // The warn-mode policy fails: allowed, with a warning naming it.
  Decision warned = evaluateImagePolicies(
      *ps, image, digest, {{"shop", "release-key", ok(digest)}, {"all", "release-key", bad}});
  EXPECT_TRUE(warned.allowed);
  ASSERT_EQ(warned.warnings.size(), 1u);
  EXPECT_NE(warned.warnings[0].find("ClusterImagePolicy all"), std::string::npos);

  // The enforce-mode policy fails: denied, naming image, policy and the reason.
  Decision denied = evaluateImagePolicies(
      *ps, image, digest, {{"shop", "release-key", bad}, {"all", "release-key", ok(digest)}});
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(denied.policy, "shop");
  EXPECT_EQ(denied.mode, PolicyMode::kEnforce);
  EXPECT_NE(denied.reason.find(image), std::string::npos);
  EXPECT_NE(denied.reason.find("bad signature: x"), std::string::npos);
  EXPECT_TRUE(denied.verifiedDigest.empty());

  // No result for an authority is a failure, not a pass.
  Decision missing = evaluateImagePolicies(*ps, image, digest, {});
  EXPECT_FALSE(missing.allowed);
  EXPECT_NE(missing.reason.find("not verified (no result)"), std::string::npos);

  // A signature verified for another digest does not count.
  Decision other = evaluateImagePolicies(*ps, image, digest,
                                         {{"shop", "release-key", ok(sha256Digest("web v2"))}});
  EXPECT_FALSE(other.allowed);
  EXPECT_NE(other.reason.find("is not the image's"), std::string::npos);

  // An image no policy matches: denied by default, allowed when asked.
  Decision none = evaluateImagePolicies(*ps, "ghcr.io/x/y:1", digest, {});
  EXPECT_FALSE(none.allowed);
  EXPECT_NE(none.reason.find("no ClusterImagePolicy matches"), std::string::npos);
  EXPECT_TRUE(evaluateImagePolicies(*ps, "ghcr.io/x/y:1", digest, {}, NoMatch::kAllow).allowed);
  // Not an image reference: refused even when unmatched images are allowed.
  Decision invalid = evaluateImagePolicies(*ps, "Bad Image", digest, {}, NoMatch::kAllow);
  EXPECT_FALSE(invalid.allowed);
  EXPECT_NE(invalid.reason.find("image reference"), std::string::npos) << invalid.reason;

  // Only the warn-mode policy matches and fails: allowed in warn mode.
  auto warnOnly = parseImagePolicies(policyYaml("w", "**", "legacy", "warn"), "w.yaml");
  ASSERT_TRUE(warnOnly);
  Decision w = evaluateImagePolicies(*warnOnly, image, digest, {{"w", "release-key", bad}});
  EXPECT_TRUE(w.allowed);
  EXPECT_EQ(w.mode, PolicyMode::kWarn);
  EXPECT_NE(w.reason.find("allowed in warn mode"), std::string::npos);
}

}  // namespace
}  // namespace ramp::supply
