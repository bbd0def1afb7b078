// Unit tests of attestations (attestation.h): predicate type names, the evidence read from SLSA
// provenance v1 and SBOM predicates, the statement checks, key-based verification with the same
// envelope verification as signatures, and what a policy's authorities[].attestations make of
// them (decoding and evaluation).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "audit/signer.h"
#include "supply/attestation.h"
#include "supply/cosign_fixtures.h"
#include "supply/image_policy.h"
#include "supply/oci_reference.h"

namespace ramp::supply {
namespace {

using testing::bundleJson;
using testing::signStatement;

const std::string kGithubProvenance = R"({
  "buildDefinition": {
    "buildType": "https://actions.github.io/buildtypes/workflow/v1",
    "externalParameters": {"workflow": {"ref": "refs/tags/v1.2",
      "repository": "https://github.com/shop/web", "path": ".github/workflows/release.yml"}},
    "resolvedDependencies": [{"uri": "git+https://github.com/shop/web@refs/tags/v1.2",
      "digest": {"gitCommit": "a1b2c3"}}]},
  "runDetails": {"builder": {"id": "https://github.com/shop/web/.github/workflows/release.yml@refs/tags/v1.2"},
    "metadata": {"invocationId": "https://github.com/shop/web/actions/runs/123/attempts/1"}}})";

// An in-toto statement of `predicateType` about `digest` with `predicate` (JSON).
std::string statement(const std::string& digest, const std::string& predicateType,
                      const std::string& predicate,
                      const std::string& type = "https://in-toto.io/Statement/v0.1") {
  return R"({"_type":")" + type +
         R"(","subject":[{"name":"registry.example/shop/web","digest":{"sha256":")" +
         digest.substr(7) + R"("}}],"predicateType":")" + predicateType + R"(","predicate":)" +
         predicate + "}";
}

TEST(Attestation, PredicateTypeNames) {
  struct Case {
    std::string in, want;  // want "" = refused
  };
  std::vector<Case> cases = {
      {"slsaprovenance1", "https://slsa.dev/provenance/v1"},
      {"slsaprovenance", "https://slsa.dev/provenance/v0.2"},
      {"slsaprovenance02", "https://slsa.dev/provenance/v0.2"},
      {"cyclonedx", "https://cyclonedx.org/bom"},
      {"spdx", "https://spdx.dev/Document"},
      {"spdxjson", "https://spdx.dev/Document"},
      {"link", "https://in-toto.io/Link/v1"},
      {"vuln", "https://cosign.sigstore.dev/attestation/vuln/v1"},
      {"openvex", "https://openvex.dev/ns"},
      {"custom", "https://cosign.sigstore.dev/attestation/v1"},
      {"https://example.com/predicate/v3", "https://example.com/predicate/v3"},
      {"SLSAProvenance1", ""},
      {"provenance", ""},
      {"://x", ""},
      {"https://", ""},
      {"", ""},
  };
  for (const Case& c : cases) {
    auto got = predicateTypeUri(c.in);
    if (c.want.empty()) {
      ASSERT_FALSE(got) << c.in;
      EXPECT_NE(got.error().message.find("neither a predicate type URI nor one of custom"),
                std::string::npos)
          << got.error().message;
    } else {
      ASSERT_TRUE(got) << c.in << ": " << got.error().message;
      EXPECT_EQ(*got, c.want) << c.in;
    }
  }
}

TEST(Attestation, ProvenanceEvidence) {
  struct Case {
    std::string name, predicate;
    ProvenanceEvidence want;
    std::string error;  // a prefix of the error, "" when it parses
  };
  std::vector<Case> cases = {
      {"github: the first resolved dependency",
       kGithubProvenance,
       {"https://github.com/shop/web/.github/workflows/release.yml@refs/tags/v1.2",
        "git+https://github.com/shop/web@refs/tags/v1.2", "gitCommit:a1b2c3",
        "https://github.com/shop/web/actions/runs/123/attempts/1", ""},
       ""},
      {"external parameters' workflow when no dependency is resolved",
       R"({"buildDefinition":{"externalParameters":{"workflow":{"repository":"https://github.com/a/b","ref":"refs/heads/main"}},"resolvedDependencies":[]},
           "runDetails":{"builder":{"id":"B"}}})",
       {"B", "https://github.com/a/b@refs/heads/main", "", "", ""},
       ""},
      {"gitlab's source",
       R"({"buildDefinition":{"externalParameters":{"source":"https://gitlab.com/g/p","entryPoint":"build"}},
           "runDetails":{"builder":{"id":"https://gitlab.com/g/p/-/runners/1"},"metadata":{"invocationId":"https://gitlab.com/g/p/-/jobs/9"}}})",
       {"https://gitlab.com/g/p/-/runners/1", "https://gitlab.com/g/p", "",
        "https://gitlab.com/g/p/-/jobs/9", ""},
       ""},
      {"a sha1 digest",
       R"({"buildDefinition":{"resolvedDependencies":[{"uri":"git+https://x/y","digest":{"sha1":"ff"}}]},"runDetails":{"builder":{"id":"B"}}})",
       {"B", "git+https://x/y", "sha1:ff", "", ""},
       ""},
      {"builder only", R"({"runDetails":{"builder":{"id":"B"}}})", {"B", "", "", "", ""}, ""},
      {"not an object", "[]", {}, "provenance: predicate: not an object"},
      {"not JSON", "{", {}, "provenance: not JSON"},
      {"no runDetails", R"({"buildDefinition":{}})", {}, "provenance: runDetails: missing"},
      {"no builder", R"({"runDetails":{}})", {}, "provenance: runDetails.builder: missing"},
      {"no builder id",
       R"({"runDetails":{"builder":{}}})",
       {},
       "provenance: runDetails.builder.id: missing"},
      {"builder id not a string",
       R"({"runDetails":{"builder":{"id":7}}})",
       {},
       "provenance: runDetails.builder.id: not a string"},
      {"runDetails not an object",
       R"({"runDetails":"x"})",
       {},
       "provenance: runDetails: not an object"},
      {"invocationId not a string",
       R"({"runDetails":{"builder":{"id":"B"},"metadata":{"invocationId":1}}})",
       {},
       "provenance: runDetails.metadata.invocationId: not a string"},
      {"resolvedDependencies not a list",
       R"({"buildDefinition":{"resolvedDependencies":{}},"runDetails":{"builder":{"id":"B"}}})",
       {},
       "provenance: buildDefinition.resolvedDependencies: not a list"},
      {"a dependency that is not an object",
       R"({"buildDefinition":{"resolvedDependencies":[1]},"runDetails":{"builder":{"id":"B"}}})",
       {},
       "provenance: buildDefinition.resolvedDependencies[0]: not an object"},
      {"repository not a string",
       R"({"buildDefinition":{"externalParameters":{"workflow":{"repository":[]}}},"runDetails":{"builder":{"id":"B"}}})",
       {},
       "provenance: buildDefinition.externalParameters.workflow.repository: not a string"},
  };
  for (const Case& c : cases) {
    auto got = parseSlsaProvenanceV1(c.predicate);
    if (!c.error.empty()) {
      ASSERT_FALSE(got) << c.name;
      EXPECT_EQ(got.error().code, ErrorCode::kParse) << c.name;
      EXPECT_TRUE(got.error().message.starts_with(c.error))
          << c.name << ": " << got.error().message;
    } else {
      ASSERT_TRUE(got) << c.name << ": " << got.error().message;
      EXPECT_EQ(*got, c.want) << c.name;
    }
  }
}

TEST(Attestation, SbomEvidence) {
  struct Case {
    std::string name, type, predicate;
    SbomEvidence want;
    std::string error;
  };
  std::vector<Case> cases = {
      {"cyclonedx",
       "https://cyclonedx.org/bom",
       R"({"bomFormat":"CycloneDX","components":[{"name":"a"},{"name":"b"}]})",
       {"cyclonedx", "", 2},
       ""},
      {"cyclonedx versioned",
       "https://cyclonedx.org/bom/v1.4",
       R"({"components":[]})",
       {"cyclonedx", "", 0},
       ""},
      {"cyclonedx without components",
       "https://cyclonedx.org/bom",
       "{}",
       {"cyclonedx", "", -1},
       ""},
      {"spdx json", "https://spdx.dev/Document", R"({"packages":[{},{},{}]})", {"spdx", "", 3}, ""},
      {"spdx tag-value (a string)",
       "https://spdx.dev/Document",
       R"("SPDXVersion: SPDX-2.3")",
       {"spdx", "", -1},
       ""},
      {"components not a list",
       "https://cyclonedx.org/bom",
       R"({"components":{}})",
       {},
       "sbom: components: not a list"},
      {"packages not a list",
       "https://spdx.dev/Document",
       R"({"packages":1})",
       {},
       "sbom: packages: not a list"},
      {"not an object", "https://cyclonedx.org/bom", "[]", {}, "sbom: predicate: not an object"},
      {"not JSON", "https://cyclonedx.org/bom", "{", {}, "sbom: not JSON"},
      {"not an SBOM", "https://slsa.dev/provenance/v1", "{}", {}, "predicate type"},
  };
  for (const Case& c : cases) {
    auto got = parseSbomPredicate(c.type, c.predicate);
    if (!c.error.empty()) {
      ASSERT_FALSE(got) << c.name;
      EXPECT_TRUE(got.error().message.starts_with(c.error))
          << c.name << ": " << got.error().message;
    } else {
      ASSERT_TRUE(got) << c.name << ": " << got.error().message;
      EXPECT_EQ(*got, c.want) << c.name;
    }
  }
}

TEST(Attestation, StatementChecks) {
  const std::string digest = sha256Digest("web v1");
  const std::string other = sha256Digest("web v2");
  const std::string json = "application/vnd.in-toto+json";
  struct Case {
    std::string name, payloadType, payload;
    std::string error;  // prefix; "" = verified
  };
  std::vector<Case> cases = {
      {"provenance", json, statement(digest, "https://slsa.dev/provenance/v1", kGithubProvenance),
       ""},
      {"in-toto v1 statement", json,
       statement(digest, "https://cyclonedx.org/bom", "{}", "https://in-toto.io/Statement/v1"), ""},
      {"another predicate: verified without evidence", json,
       statement(digest, "https://example.com/p/v1", "{}"), ""},
      {"payload type", "text/plain", statement(digest, "https://slsa.dev/provenance/v1", "{}"),
       "wrong type: envelope payloadType \"text/plain\""},
      {"statement type", json,
       statement(digest, "https://cyclonedx.org/bom", "{}", "https://example.com/Statement"),
       "wrong type: statement _type"},
      {"a signature", json, signStatement("r/x", digest),
       "not an attestation: the statement is a cosign signature"},
      {"another image", json, statement(other, "https://cyclonedx.org/bom", "{}"),
       "digest mismatch: the attestation's subject is " + other},
      {"bad provenance", json,
       statement(digest, "https://slsa.dev/provenance/v1", R"({"runDetails":{}})"),
       "bad predicate: provenance: runDetails.builder: missing"},
      {"bad sbom", json, statement(digest, "https://spdx.dev/Document", R"({"packages":"x"})"),
       "bad predicate: sbom: packages: not a list"},
      {"no predicate", json,
       R"({"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":")" +
           digest.substr(7) + R"("}}],"predicateType":"https://slsa.dev/provenance/v1"})",
       "bad predicate: https://slsa.dev/provenance/v1: predicate: missing"},
      {"not a statement", json, "[]", "in-toto statement: not a JSON object"},
  };
  for (const Case& c : cases) {
    auto got = checkAttestationStatement(c.payloadType, c.payload, digest);
    if (!c.error.empty()) {
      ASSERT_FALSE(got) << c.name;
      EXPECT_TRUE(got.error().message.starts_with(c.error))
          << c.name << ": " << got.error().message;
    } else {
      ASSERT_TRUE(got) << c.name << ": " << got.error().message;
      EXPECT_EQ(got->subjectName, "registry.example/shop/web");
    }
  }
  auto p = checkAttestationStatement(
      json, statement(digest, "https://slsa.dev/provenance/v1", kGithubProvenance), digest);
  ASSERT_TRUE(p);
  ASSERT_TRUE(p->provenance);
  EXPECT_EQ(p->provenance->invocationId, "https://github.com/shop/web/actions/runs/123/attempts/1");
  EXPECT_FALSE(p->sbom);
}

TEST(Attestation, KeyBasedBundles) {
  const audit::SigningKey key = *audit::SigningKey::generate();
  const audit::SigningKey other = *audit::SigningKey::generate();
  const std::string digest = sha256Digest("web v1");
  const std::string bom = statement(digest, "https://cyclonedx.org/bom", R"({"components":[{}]})");
  auto a = verifyAttestation(bundleJson(key, bom), digest, key.publicKey());
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->predicateType, "https://cyclonedx.org/bom");
  ASSERT_TRUE(a->sbom);
  EXPECT_EQ(a->sbom->components, 1);
  // Signed by another key: the envelope's signature is checked before the statement is read.
  auto wrong = verifyAttestation(bundleJson(other, bom), digest, key.publicKey());
  ASSERT_FALSE(wrong);
  EXPECT_TRUE(wrong.error().message.starts_with("bad signature: none of the envelope's 1"))
      << wrong.error().message;
  // Another image's attestation.
  auto moved = verifyAttestation(bundleJson(key, bom), sha256Digest("web v2"), key.publicKey());
  ASSERT_FALSE(moved);
  EXPECT_TRUE(moved.error().message.starts_with("digest mismatch")) << moved.error().message;
  // An image signature is not an attestation, and an attestation is not an image signature.
  auto sig =
      verifyAttestation(bundleJson(key, signStatement("r/x", digest)), digest, key.publicKey());
  ASSERT_FALSE(sig);
  EXPECT_TRUE(sig.error().message.starts_with("not an attestation")) << sig.error().message;
  auto asSignature = verifyBundle(bundleJson(key, bom), digest, key.publicKey());
  ASSERT_FALSE(asSignature);
  EXPECT_TRUE(asSignature.error().message.starts_with("wrong type: predicateType"));
  // A bad digest argument is refused before anything is read.
  EXPECT_FALSE(verifyAttestation(bundleJson(key, bom), "sha256:zz", key.publicKey()));
}

std::string indentPem(const std::string& pem) {
  std::string out;
  size_t start = 0;
  while (start < pem.size()) {
    size_t end = pem.find('\n', start);
    out += "        " + pem.substr(start, end - start) + "\n";
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

class AttestationPolicyTest : public ::testing::Test {
 protected:
  // A policy whose authority "release-key" carries `attestations` (YAML at the authority's
  // indentation, "" for none).
  std::string policy(const std::string& attestations) {
    return "apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata:\n  "
           "name: shop\nspec:\n  images:\n  - glob: \"registry.example/shop/**\"\n  authorities:\n"
           "  - name: release-key\n    key:\n      data: |\n" +
           indentPem(key_.publicKey().pem()) + attestations;
  }
  audit::SigningKey key_ = *audit::SigningKey::generate();
};

TEST_F(AttestationPolicyTest, Decoding) {
  auto ps = policy(
      "    attestations:\n    - name: provenance\n      predicateType: slsaprovenance1\n"
      "    - name: sbom\n      predicateType: https://cyclonedx.org/bom\n");
  auto p = parseImagePolicies(ps, "p.yaml");
  ASSERT_TRUE(p) << p.error().message;
  const std::vector<RequiredAttestation> want = {
      {"provenance", "https://slsa.dev/provenance/v1", "slsaprovenance1"},
      {"sbom", "https://cyclonedx.org/bom", "https://cyclonedx.org/bom"}};
  EXPECT_EQ((*p)[0].authorities[0].attestations, want);

  struct Case {
    std::string name, attestations, want;
  };
  // The key's PEM takes lines 11-15; attestations start on line 16.
  std::vector<Case> cases = {
      {"policy (cue/rego)",
       "    attestations:\n    - name: provenance\n      predicateType: slsaprovenance1\n"
       "      policy:\n        type: cue\n        data: 'predicateType: \"x\"'\n",
       "p.yaml:19:7: spec.authorities[0].attestations[0].policy: not supported: attestation "
       "policies (cue/rego) are not evaluated"},
      {"unknown predicate type",
       "    attestations:\n    - name: provenance\n      predicateType: provenance\n",
       "p.yaml:18:22: spec.authorities[0].attestations[0].predicateType: \"provenance\" is "
       "neither a predicate type URI"},
      {"no predicate type", "    attestations:\n    - name: provenance\n",
       "spec.authorities[0].attestations[0].predicateType: required"},
      {"no name", "    attestations:\n    - predicateType: cyclonedx\n",
       "spec.authorities[0].attestations[0].name: required"},
      {"duplicate name",
       "    attestations:\n    - {name: a, predicateType: cyclonedx}\n"
       "    - {name: a, predicateType: spdxjson}\n",
       "spec.authorities[0].attestations[1].name: duplicate attestation name \"a\""},
      {"not a list", "    attestations: {name: a}\n",
       "p.yaml:16:19: spec.authorities[0].attestations: must be a list"},
      {"unknown field", "    attestations:\n    - {name: a, predicateType: cyclonedx, type: cue}\n",
       "spec.authorities[0].attestations[0].type: unknown field"},
  };
  for (const Case& c : cases) {
    auto got = parseImagePolicies(policy(c.attestations), "p.yaml");
    ASSERT_FALSE(got) << c.name;
    EXPECT_NE(got.error().message.find(c.want), std::string::npos)
        << c.name << ": " << got.error().message;
  }
  auto stat = parseImagePolicies(
      "apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: p}\n"
      "spec:\n  images: [{glob: \"**\"}]\n  authorities:\n  - static: {action: pass}\n"
      "    attestations: [{name: a, predicateType: cyclonedx}]\n",
      "p.yaml");
  ASSERT_FALSE(stat);
  EXPECT_NE(stat.error().message.find("p.yaml:8:5: spec.authorities[0].attestations: a static "
                                      "authority verifies nothing"),
            std::string::npos)
      << stat.error().message;
}

TEST_F(AttestationPolicyTest, RequiredAttestations) {
  const std::string image = "registry.example/shop/web:v1";
  const std::string digest = sha256Digest("web v1");
  auto ps = parseImagePolicies(
      policy("    attestations:\n    - {name: provenance, predicateType: slsaprovenance1}\n"),
      "p.yaml");
  ASSERT_TRUE(ps) << ps.error().message;
  auto plain = parseImagePolicies(policy(""), "p.yaml");
  ASSERT_TRUE(plain) << plain.error().message;
  VerifiedSignature sig{SignatureFormat::kBundle, digest, key_.publicKey().keyId(), image, "", ""};
  VerifiedAttestation provenance;
  provenance.predicateType = "https://slsa.dev/provenance/v1";
  provenance.location = "registry.example/shop/web@sha256:aa";
  provenance.provenance =
      ProvenanceEvidence{"B", "git+https://x/y", "gitCommit:ff", "run-9", provenance.location};
  VerifiedAttestation bom;
  bom.predicateType = "https://cyclonedx.org/bom";
  bom.location = "registry.example/shop/web@sha256:bb";
  bom.sbom = SbomEvidence{"cyclonedx", bom.location, 12};

  struct Case {
    std::string name;
    const std::vector<ImagePolicy>* policies;
    AuthorityResult result;
    bool allowed;
    std::string reason;  // a part of the reason
  };
  std::vector<Case> cases = {
      {"required and present (the SBOM listed first: the summary puts provenance first)",
       &*ps,
       {"shop", "release-key", sig, {bom, provenance}, {}},
       true,
       "; provenance: built by B from git+https://x/y, run run-9; SBOM cyclonedx (12 "
       "components)"},
      {"required and missing",
       &*ps,
       {"shop", "release-key", sig, {bom}, {}},
       false,
       "release-key: no attestation of type slsaprovenance1 (https://slsa.dev/provenance/v1) "
       "verified by authority release-key"},
      {"required, a candidate failed",
       &*ps,
       {"shop", "release-key", sig, {}, {"bundle 1 (r@sha256:cc): bad signature: x"}},
       false,
       "verified by authority release-key (bundle 1 (r@sha256:cc): bad signature: x)"},
      {"not required: evidence only",
       &*plain,
       {"shop", "release-key", sig, {bom}, {"bundle 2 (r@sha256:cc): bad signature: x"}},
       true,
       "; SBOM cyclonedx (12 components)"},
      {"no attestation, none required",
       &*plain,
       {"shop", "release-key", sig, {}, {}},
       true,
       "verified by authority release-key of ClusterImagePolicy shop"},
  };
  for (const Case& c : cases) {
    Decision d = evaluateImagePolicies(*c.policies, image, digest, {c.result});
    EXPECT_EQ(d.allowed, c.allowed) << c.name << ": " << d.reason;
    EXPECT_NE(d.reason.find(c.reason), std::string::npos) << c.name << ": " << d.reason;
    if (c.allowed) {
      EXPECT_EQ(d.attestations.size(), c.result.attestations.size()) << c.name;
    } else {
      EXPECT_TRUE(d.attestations.empty()) << c.name;
    }
  }
  // The evidence the reason lists is the attestations', in order.
  EXPECT_EQ(describeAttestations({}), "");
  VerifiedAttestation other;
  other.predicateType = "https://example.com/p/v1";
  EXPECT_EQ(describeAttestations({other}), "; attestation https://example.com/p/v1");
}

}  // namespace
}  // namespace ramp::supply
