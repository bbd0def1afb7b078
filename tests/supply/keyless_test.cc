// Unit tests of keyless verification (pure, offline): Sigstore's and cosign's published bundles
// (tests/testdata/sigstore/README.md) verify against their trusted roots with their identities,
// and one changed byte anywhere (certificate, signature, payload, inclusion proof, checkpoint,
// SET, body), a wrong identity, a trusted root without the log's or CT log's key, or a
// certificate authority not valid at the time each fail with the failure named.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "common/base64.h"
#include "harness/harness.h"
#include "supply/attestation.h"
#include "supply/fulcio_cert.h"
#include "supply/keyless_fixtures.h"
#include "supply/keyless_verify.h"
#include "supply/rekor_entry.h"
#include "supply/sigstore_bundle.h"
#include "supply/trusted_root.h"

namespace ramp::supply {
namespace {

using Json = nlohmann::json;

std::string testdata(const std::string& name) {
  std::ifstream in(ramp::testing::sourceDir() + "/tests/testdata/sigstore/" + name);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::shared_ptr<const TrustedRoot> root(const std::string& json) {
  auto r = parseTrustedRoot(json);
  EXPECT_TRUE(r) << r.error().message;
  return r ? *r : nullptr;
}

// A base64 field with one byte changed (`at` counts from the end when negative).
std::string flipByte(const std::string& b64, long at) {
  std::string raw = *decodeBase64(b64);
  size_t i = at < 0 ? raw.size() + at : static_cast<size_t>(at);
  raw[i] = static_cast<char>(raw[i] ^ 0x01);
  return encodeBase64(raw);
}

Result<KeylessVerified> verifyJson(const std::string& bundle, const TrustedRoot& r,
                                   const std::vector<IdentityMatcher>& ids,
                                   KeylessOptions options = {}) {
  auto b = parseKeylessBundle(bundle);
  if (!b) return std::unexpected(b.error());
  return verifyKeyless(*b, r, ids, options);
}

const IdentityMatcher kCody{"https://github.com/login/oauth", "cody@soyland.com", "", ""};
const char* kOciBundle = "cosign-oci-attestation.sigstore.json";
const char* kPgiRoot = "cosign-trusted_root_pgi.json";
const char* kPublicGood = "sgo-trusted-root-public-good.json";
const std::string kSigstoreJsWorkflow =
    "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main";

TEST(Keyless, PublishedBundlesVerifyWithTheirIdentities) {
  struct Case {
    std::string bundle, root;
    IdentityMatcher id;
    int64_t integratedTime;
  };
  std::vector<Case> cases = {
      // cosign v3's test vector: v0.3, certificate, dsse entry, proof + checkpoint + SET.
      {kOciBundle, kPgiRoot, kCody, 1740770291},
      // v0.1, x509CertificateChain, intoto entry with a SET only.
      {"sgo-bundles-dsse.sigstore.json",
       kPublicGood,
       {"https://github.com/login/oauth", "brian@dehamer.com", "", ""},
       1668034836},
      // v0.1, a GitHub Actions workflow (URI SAN), intoto entry, proof + checkpoint + SET.
      {"sgo-bundles-sigstore.js@2.0.0-provenance.sigstore.json",
       kPublicGood,
       {"https://token.actions.githubusercontent.com", kSigstoreJsWorkflow, "", ""},
       1692374735},
      // v0.1 with inclusionProof null.
      {"sgo-bundle-provenance.json",
       kPublicGood,
       {"https://token.actions.githubusercontent.com", kSigstoreJsWorkflow, "", ""},
       1681839912},
      // v0.3 messageSignature, hashedrekord, Fulcio's otherName username, a private instance.
      {"sgo-bundles-othername.sigstore.json",
       "sgo-trusted-roots-scaffolding.json",
       {"http://oidc.local:8080", "foo!oidc.local", "", ""},
       1720811189},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.bundle);
    auto r = root(testdata(c.root));
    ASSERT_TRUE(r);
    auto v = verifyJson(testdata(c.bundle), *r, {c.id});
    ASSERT_TRUE(v) << v.error().message;
    EXPECT_EQ(v->identity.subject, c.id.subject);
    EXPECT_EQ(v->identity.issuer, c.id.issuer);
    EXPECT_EQ(v->integratedTime, c.integratedTime);
  }
}

TEST(Keyless, TheOthernameBundleSignsItsArtifactDigest) {
  auto b = parseKeylessBundle(testdata("sgo-bundles-othername.sigstore.json"));
  ASSERT_TRUE(b);
  EXPECT_EQ(hexBytes(b->messageDigest),
            "bc103b4a84971ef6459b294a2b98568a2bfb72cded09d4acd1e16366a401f95b");
}

TEST(Keyless, ADsseEnvelopeWithTwoSignaturesIsRefused) {
  auto r = root(testdata(kPublicGood));
  auto v = verifyJson(testdata("sgo-bundles-dsse-2sigs.sigstore.json"), *r,
                      {{"https://github.com/login/oauth", "brian@dehamer.com", "", ""}});
  ASSERT_FALSE(v);
  EXPECT_TRUE(
      v.error().message.starts_with("bad signature: a keyless DSSE envelope has exactly "
                                    "one signature, this one has 2"))
      << v.error().message;
}

TEST(Keyless, OneChangedByteIsNamed) {
  const Json original = Json::parse(testdata(kOciBundle));
  auto r = root(testdata(kPgiRoot));
  ASSERT_TRUE(r);
  auto entry = [](Json& b) -> Json& { return b["verificationMaterial"]["tlogEntries"][0]; };
  struct Case {
    std::string name;
    std::function<void(Json&)> tamper;
    std::string starts;
  };
  std::vector<Case> cases = {
      {"certificate (its signature)",
       [](Json& b) {
         auto& raw = b["verificationMaterial"]["certificate"]["rawBytes"];
         raw = flipByte(raw, -3);
       },
       "untrusted certificate: certificate signature failure"},
      {"signature",
       [](Json& b) {
         auto& sig = b["dsseEnvelope"]["signatures"][0]["sig"];
         sig = flipByte(sig, -3);
       },
       "bad signature: the envelope's signature does not verify"},
      {"payload",
       [](Json& b) {
         auto& p = b["dsseEnvelope"]["payload"];
         p = flipByte(p, 40);
       },
       "bad signature: the envelope's signature does not verify"},
      {"inclusion proof hash",
       [&](Json& b) {
         auto& h = entry(b)["inclusionProof"]["hashes"][2];
         h = flipByte(h, 0);
       },
       "tlog: inclusion proof does not verify"},
      {"inclusion proof root hash",
       [&](Json& b) {
         auto& h = entry(b)["inclusionProof"]["rootHash"];
         h = flipByte(h, 0);
       },
       "tlog: inclusion proof does not verify"},
      {"checkpoint signature",
       [&](Json& b) {
         auto& note = entry(b)["inclusionProof"]["checkpoint"]["envelope"];
         std::string text = note;
         size_t sp = text.rfind(' ');
         std::string sig = text.substr(sp + 1, text.size() - sp - 2);  // up to the final \n
         note = text.substr(0, sp + 1) + flipByte(sig, -2) + "\n";
       },
       "tlog: checkpoint signature does not verify"},
      {"checkpoint signed by another key",
       [&](Json& b) {
         auto& note = entry(b)["inclusionProof"]["checkpoint"]["envelope"];
         std::string text = note;
         size_t sp = text.rfind(' ');
         std::string sig = text.substr(sp + 1, text.size() - sp - 2);
         note = text.substr(0, sp + 1) + flipByte(sig, 0) + "\n";  // the key hint
       },
       "tlog: checkpoint signature: none by the key of log"},
      {"SET",
       [&](Json& b) {
         auto& set = entry(b)["inclusionPromise"]["signedEntryTimestamp"];
         set = flipByte(set, -3);
       },
       "tlog: SET does not verify"},
      {"body",
       [&](Json& b) {
         auto& body = entry(b)["canonicalizedBody"];
         body = flipByte(body, 30);
       },
       "tlog: SET does not verify"},
      {"integrated time", [&](Json& b) { entry(b)["integratedTime"] = "1740770292"; },
       "tlog: SET does not verify"},
      {"no SET", [&](Json& b) { entry(b).erase("inclusionPromise"); },
       "tlog: SET: no entry has an inclusionPromise"},
      {"no entry", [](Json& b) { b["verificationMaterial"]["tlogEntries"] = Json::array(); },
       "tlog: the bundle has no transparency log entry"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Json b = original;
    c.tamper(b);
    auto v = verifyJson(b.dump(), *r, {kCody});
    ASSERT_FALSE(v);
    EXPECT_EQ(v.error().code, ErrorCode::kFailedPrecondition);
    EXPECT_TRUE(v.error().message.starts_with(c.starts)) << v.error().message;
  }
  // The untouched bundle verifies (each case above fails only by its change).
  EXPECT_TRUE(verifyJson(original.dump(), *r, {kCody}));
}

TEST(Keyless, IdentitiesMatchExactlyOrByRegExp) {
  auto r = root(testdata(kPgiRoot));
  const std::string bundle = testdata(kOciBundle);
  const std::string oauth = "https://github.com/login/oauth";
  struct Case {
    IdentityMatcher id;
    bool ok;
  };
  std::vector<Case> cases = {
      {{oauth, "cody@soyland.com", "", ""}, true},
      {{oauth, "", "", "@soyland\\.com$"}, true},
      {{"", "cody@soyland.com", "^https://github\\.com/", ""}, true},
      {{"", "", "github", "cody"}, true},  // searched anywhere, as Go's MatchString
      {{oauth, "mallory@soyland.com", "", ""}, false},
      {{"https://accounts.google.com", "cody@soyland.com", "", ""}, false},
      {{oauth, "", "", "^mallory@"}, false},
      {{"", "cody@soyland.com", "^https://accounts\\.google\\.com$", ""}, false},
      {{oauth, "cody@soyland.co", "", ""}, false},  // exact is exact
      {{oauth, "", "", "^cody@soyland\\.co$"}, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.id.subject + c.id.subjectRegExp + " " + c.id.issuer + c.id.issuerRegExp);
    ASSERT_TRUE(validateIdentityMatcher(c.id));
    auto v = verifyJson(bundle, *r, {c.id});
    EXPECT_EQ(static_cast<bool>(v), c.ok);
    if (!c.ok && !v) {
      EXPECT_EQ(v.error().message,
                "identity mismatch: got subject cody@soyland.com issuer " + oauth);
    }
  }
  // Any of several identities.
  EXPECT_TRUE(verifyJson(bundle, *r, {cases[4].id, cases[0].id}));
}

TEST(Keyless, IdentityMatchersAreValidated) {
  std::vector<std::pair<IdentityMatcher, std::string>> cases = {
      {{"", "s", "", ""}, "issuer: exactly one of issuer and issuerRegExp"},
      {{"i", "s", "i", ""}, "issuer: exactly one of issuer and issuerRegExp"},
      {{"i", "", "", ""}, "subject: exactly one of subject and subjectRegExp"},
      {{"i", "", "", "(unclosed"}, "subjectRegExp: not a regular expression"},
      {{"i", "", "", "(?P<org>shop)"}, "subjectRegExp: not a regular expression"},
      {{"", "s", "\\pL+", ""}, "issuerRegExp: Unicode classes"},
      {{"i", "", "", "a\\\\\\P{Greek}"}, "subjectRegExp: Unicode classes"},
  };
  for (const auto& [m, starts] : cases) {
    auto ok = validateIdentityMatcher(m);
    ASSERT_FALSE(ok) << starts;
    EXPECT_TRUE(ok.error().message.starts_with(starts)) << ok.error().message;
  }
}

TEST(Keyless, TheTrustedRootDecides) {
  const Json pgi = Json::parse(testdata(kPgiRoot));
  const std::string bundle = testdata(kOciBundle);
  struct Case {
    std::string name;
    std::function<void(Json&)> change;
    std::string starts;  // "" = verifies
    KeylessOptions options;
  };
  std::vector<Case> cases = {
      {"as published", [](Json&) {}, "", {}},
      {"no transparency log", [](Json& r) { r["tlogs"] = Json::array(); },
       "tlog: no entry from a transparency log of the trusted root (entry log id c0d23d6a"},
      {"no CT log", [](Json& r) { r["ctlogs"] = Json::array(); },
       "sct: no SCT from a CT log of the trusted root"},
      {"no CT log, SCT ignored", [](Json& r) { r["ctlogs"] = Json::array(); }, "",
       KeylessOptions{.ignoreSct = true}},
      {"the CT log's key not valid at the SCT's time",
       [](Json& r) { r["ctlogs"][1]["publicKey"]["validFor"]["end"] = "2023-01-01T00:00:00Z"; },
       "sct: the key of CT log https://ctfe.sigstore.dev/2022 is not valid"},
      {"Fulcio's authority ended before the signature",
       [](Json& r) { r["certificateAuthorities"][1]["validFor"]["end"] = "2024-12-31T23:59:59Z"; },
       "untrusted certificate: no certificate authority of the trusted root is valid at "
       "2025-02-28T19:18:11Z"},
      {"only the 2021 authority", [](Json& r) { r["certificateAuthorities"].erase(1); },
       "untrusted certificate: no certificate authority"},
      {"another authority's certificates",
       [](Json& r) {
         r["certificateAuthorities"][1]["certChain"] = r["certificateAuthorities"][0]["certChain"];
       },
       "untrusted certificate: unable to get local issuer certificate"},
      {"the CT log's id with another key",
       [](Json& r) { r["ctlogs"][1]["publicKey"] = r["tlogs"][0]["publicKey"]; },
       "sct: the SCT of CT log https://ctfe.sigstore.dev/2022 does not verify"},
      {"the log's key not yet valid",
       [](Json& r) { r["tlogs"][0]["publicKey"]["validFor"]["start"] = "2025-03-01T00:00:00Z"; },
       "tlog: SET: the key of log https://rekor.sigstore.dev is not valid at the integrated time"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Json j = pgi;
    c.change(j);
    auto r = root(j.dump());
    ASSERT_TRUE(r);
    auto v = verifyJson(bundle, *r, {kCody}, c.options);
    if (c.starts.empty()) {
      EXPECT_TRUE(v) << v.error().message;
    } else {
      ASSERT_FALSE(v);
      EXPECT_TRUE(v.error().message.starts_with(c.starts)) << v.error().message;
    }
  }
}

TEST(Keyless, TheLeafMustBeValidAtTheIntegratedTime) {
  auto b = parseKeylessBundle(testdata(kOciBundle));
  auto r = root(testdata(kPgiRoot));
  ASSERT_TRUE(b && r);
  auto leaf = Certificate::fromDer(b->certificates[0]);
  ASSERT_TRUE(leaf);
  // Issued 19:18:11, valid ten minutes; logged 19:18:11.
  EXPECT_TRUE(verifyFulcioChain(*leaf, *r, 1740770291));
  for (int64_t t : {int64_t{1740770291} + 601, int64_t{1740770291} - 1}) {
    auto v = verifyFulcioChain(*leaf, *r, t);
    ASSERT_FALSE(v);
    EXPECT_TRUE(v.error().message.starts_with(
        "certificate expired at integrated time: the certificate is valid from "
        "2025-02-28T19:18:11Z to 2025-02-28T19:28:11Z"))
        << v.error().message;
  }
}

TEST(Keyless, TheBodyMustRecordTheBundlesSignatureCertificateAndContent) {
  struct Case {
    std::string bundle, name;
    std::function<void(KeylessBundle&)> change;
    std::string starts;
  };
  std::vector<Case> cases = {
      {kOciBundle, "dsse: payload", [](KeylessBundle& b) { b.payload += " "; },
       "tlog: body payloadHash"},
      {kOciBundle, "dsse: signature", [](KeylessBundle& b) { b.signatures[0].sig[8] ^= 1; },
       "tlog: body signatures do not include"},
      {"sgo-bundles-dsse.sigstore.json", "intoto: payload",
       [](KeylessBundle& b) { b.payload += " "; }, "tlog: body content.payloadHash"},
      {"sgo-bundles-dsse.sigstore.json", "intoto: signature",
       [](KeylessBundle& b) { b.signatures[0].sig[8] ^= 1; },
       "tlog: body content.envelope.signatures do not include"},
      {"sgo-bundles-othername.sigstore.json", "hashedrekord: digest",
       [](KeylessBundle& b) { b.messageDigest[0] ^= 1; }, "tlog: body data.hash"},
      {"sgo-bundles-othername.sigstore.json", "hashedrekord: signature",
       [](KeylessBundle& b) { b.messageSignature[8] ^= 1; }, "tlog: body signature.content"},
      {"sgo-bundles-othername.sigstore.json", "hashedrekord: certificate",
       [](KeylessBundle& b) { b.certificates[0] = "other"; }, "tlog: body signature.publicKey"},
      {"sgo-bundles-othername.sigstore.json", "hashedrekord for an envelope",
       [](KeylessBundle& b) { b.content = KeylessBundle::Content::kDsse; },
       "tlog: body is a hashedrekord entry, the bundle is a DSSE envelope"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto b = parseKeylessBundle(testdata(c.bundle));
    ASSERT_TRUE(b);
    const std::string leaf = b->certificates[0];
    ASSERT_TRUE(checkBodyBindsBundle(b->tlogEntries[0], *b, leaf));
    c.change(*b);
    auto ok = checkBodyBindsBundle(b->tlogEntries[0], *b, b->certificates[0]);
    ASSERT_FALSE(ok);
    EXPECT_TRUE(ok.error().message.starts_with(c.starts)) << ok.error().message;
  }
}

TEST(Keyless, ImageSignaturesNeedCosignsPredicate) {
  auto r = root(testdata(kPgiRoot));
  // cosign's vector is an attestation (predicate cosign.sigstore.dev/attestation/v1) of this
  // digest: it verifies as a bundle but is not an image signature.
  const std::string digest =
      "sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4";
  auto v = verifyKeylessBundle(testdata(kOciBundle), digest, *r, {kCody});
  ASSERT_FALSE(v);
  EXPECT_TRUE(
      v.error().message.starts_with("wrong type: predicateType "
                                    "\"https://cosign.sigstore.dev/attestation/v1\""))
      << v.error().message;
  // A key-based bundle is not verified by a keyless authority.
  auto k = verifyJson(R"({"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json",
      "verificationMaterial":{"publicKey":{"hint":"x"}},
      "dsseEnvelope":{"payload":"e30=","payloadType":"t","signatures":[]}})",
                      *r, {kCody});
  ASSERT_FALSE(k);
  EXPECT_EQ(k.error().code, ErrorCode::kUnsupported);
}

// cosign's public-good vector is a keyless attestation: it verifies as one through the same
// keyless machinery (tlog, chain, SCT, signature, identity), with its predicate type and no
// evidence (a cosign custom predicate); another identity or another image is refused.
TEST(Keyless, AttestationsVerifyWithTheSignaturesMachinery) {
  auto r = root(testdata(kPgiRoot));
  const std::string digest =
      "sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4";
  auto a = verifyAttestation(testdata(kOciBundle), digest, *r, {kCody});
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->predicateType, "https://cosign.sigstore.dev/attestation/v1");
  EXPECT_FALSE(a->provenance);
  EXPECT_FALSE(a->sbom);
  IdentityMatcher someoneElse{"https://github.com/login/oauth", "eve@example.com", "", ""};
  auto eve = verifyAttestation(testdata(kOciBundle), digest, *r, {someoneElse});
  ASSERT_FALSE(eve);
  EXPECT_TRUE(eve.error().message.starts_with("identity mismatch")) << eve.error().message;
  auto moved =
      verifyAttestation(testdata(kOciBundle), "sha256:" + std::string(64, 'b'), *r, {kCody});
  ASSERT_FALSE(moved);
  EXPECT_TRUE(moved.error().message.starts_with("digest mismatch")) << moved.error().message;
}

// Image signatures as cosign writes them, keyless, from a private Sigstore made by the test
// (keyless_fixtures.h; its certificate has no SCT, so insecureIgnoreSCT).
class KeylessImage : public ::testing::Test {
 protected:
  static constexpr int64_t kNow = 1790000000;  // 2026-09-21
  testing::KeylessSigstore sigstore_{kNow, "release@shop.example", "https://issuer.shop.example"};
  std::shared_ptr<const TrustedRoot> root_ = root(sigstore_.trustedRootJson());
  const IdentityMatcher id_{"https://issuer.shop.example", "release@shop.example", "", ""};
  const KeylessOptions noSct_{.ignoreSct = true};
  const std::string digest_ = "sha256:" + std::string(64, 'a');
  const std::string other_ = "sha256:" + std::string(64, 'b');
};

TEST_F(KeylessImage, BundleVerifies) {
  ASSERT_TRUE(root_);
  std::string bundle = sigstore_.bundle("registry.example/shop/web", digest_);
  auto v = verifyKeylessBundle(bundle, digest_, *root_, {id_}, noSct_);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(*v,
            (VerifiedSignature{SignatureFormat::kBundle, digest_, "", "registry.example/shop/web",
                               "release@shop.example", "https://issuer.shop.example"}));
  struct Case {
    std::string name, digest;
    std::vector<IdentityMatcher> ids;
    KeylessOptions options;
    std::string starts;
  };
  std::vector<Case> cases = {
      {"another image", other_, {id_}, noSct_, "digest mismatch: the statement's subject is"},
      {"another signer",
       digest_,
       {{"https://issuer.shop.example", "dev@shop.example", "", ""}},
       noSct_,
       "identity mismatch: got subject release@shop.example issuer "
       "https://issuer.shop.example"},
      {"SCT required", digest_, {id_}, {}, "sct: the certificate has no embedded SCT"},
  };
  for (const Case& c : cases) {
    auto f = verifyKeylessBundle(bundle, c.digest, *root_, c.ids, c.options);
    ASSERT_FALSE(f) << c.name;
    EXPECT_TRUE(f.error().message.starts_with(c.starts)) << c.name << ": " << f.error().message;
  }
}

// A log entry that is genuine (SET, proof and checkpoint by the log) but records another
// signature of the same signer: the bundle is refused because the log did not record it.
TEST_F(KeylessImage, AnEntryOfAnotherSignatureDoesNotCount) {
  ASSERT_TRUE(root_);
  Json mine = Json::parse(sigstore_.bundle("registry.example/shop/web", digest_));
  Json other = Json::parse(sigstore_.bundle("registry.example/shop/web", other_));
  mine["verificationMaterial"]["tlogEntries"] = other["verificationMaterial"]["tlogEntries"];
  auto v = verifyKeylessBundle(mine.dump(), digest_, *root_, {id_}, noSct_);
  ASSERT_FALSE(v);
  EXPECT_TRUE(v.error().message.starts_with("tlog: body payloadHash")) << v.error().message;
}

TEST_F(KeylessImage, TheCertificateMustBeForCodeSigning) {
  testing::KeylessSigstore mail(kNow, "release@shop.example", "https://issuer.shop.example",
                                /*codeSigning=*/false);
  auto r = parseTrustedRoot(mail.trustedRootJson());
  ASSERT_TRUE(r);
  auto v = verifyKeylessBundle(mail.bundle("registry.example/shop/web", digest_), digest_, **r,
                               {id_}, noSct_);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().message, "untrusted certificate: its extended key usage is not codeSigning");
}

TEST_F(KeylessImage, LegacySignatureVerifies) {
  ASSERT_TRUE(root_);
  auto l = sigstore_.legacy("registry.example/shop/web", digest_);
  auto v = verifyLegacyKeyless(l.payload, l.signatureBase64, l.certificatePem, "", l.bundleJson,
                               digest_, *root_, {id_}, noSct_);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(*v,
            (VerifiedSignature{SignatureFormat::kLegacy, digest_, "", "registry.example/shop/web",
                               "release@shop.example", "https://issuer.shop.example"}));
  Json set = Json::parse(l.bundleJson);
  set["SignedEntryTimestamp"] = flipByte(set["SignedEntryTimestamp"], -3);
  Json time = Json::parse(l.bundleJson);
  time["Payload"]["integratedTime"] = kNow + 1;
  struct Case {
    std::string name, payload, sig, bundle, digest;
    std::string starts;
  };
  std::vector<Case> cases = {
      {"another image", l.payload, l.signatureBase64, l.bundleJson, other_, "digest mismatch"},
      {"payload changed", l.payload + " ", l.signatureBase64, l.bundleJson, digest_,
       "bad signature: the message signature does not verify"},
      {"SET changed", l.payload, l.signatureBase64, set.dump(), digest_,
       "tlog: SET does not verify"},
      {"integrated time changed", l.payload, l.signatureBase64, time.dump(), digest_,
       "tlog: SET does not verify"},
      {"no bundle annotation", l.payload, l.signatureBase64, "", digest_,
       "tlog: the bundle has no transparency log entry"},
      {"bundle annotation not JSON", l.payload, l.signatureBase64, "{", digest_,
       "legacy keyless signature: dev.sigstore.cosign/bundle: not a JSON object"},
  };
  for (const Case& c : cases) {
    auto f = verifyLegacyKeyless(c.payload, c.sig, l.certificatePem, "", c.bundle, c.digest, *root_,
                                 {id_}, noSct_);
    ASSERT_FALSE(f) << c.name;
    EXPECT_TRUE(f.error().message.starts_with(c.starts)) << c.name << ": " << f.error().message;
  }
  auto noCert = verifyLegacyKeyless(l.payload, l.signatureBase64, "", "", l.bundleJson, digest_,
                                    *root_, {id_}, noSct_);
  ASSERT_FALSE(noCert);
  EXPECT_TRUE(noCert.error().message.starts_with(
      "legacy keyless signature: dev.sigstore.cosign/certificate: no PEM certificate"))
      << noCert.error().message;
}

TEST(TrustedRoot, PublishedRootsParse) {
  for (const char* name : {kPgiRoot, kPublicGood, "sgo-trusted-roots-scaffolding.json"}) {
    SCOPED_TRACE(name);
    auto r = parseTrustedRoot(testdata(name));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_FALSE((*r)->tlogs.empty());
    EXPECT_FALSE((*r)->certificateAuthorities.empty());
    EXPECT_FALSE((*r)->ctlogs.empty());
  }
  auto pg = parseTrustedRoot(testdata(kPublicGood));
  ASSERT_TRUE(pg);
  EXPECT_EQ((*pg)->ignoredTimestampAuthorities, 1u);
  ASSERT_EQ((*pg)->certificateAuthorities.size(), 2u);
  EXPECT_EQ((*pg)->certificateAuthorities[1].chain.size(), 2u);
  EXPECT_FALSE((*pg)->certificateAuthorities[1].validFor.end);
  EXPECT_EQ((*pg)->tlogs[0].baseUrl, "https://rekor.sigstore.dev");
}

TEST(TrustedRoot, ErrorsNameTheField) {
  const Json pgi = Json::parse(testdata(kPgiRoot));
  struct Case {
    std::function<void(Json&)> change;
    std::string message;
  };
  std::vector<Case> cases = {
      {[](Json& r) { r = Json::array(); }, "trusted root: (document): not a JSON object"},
      {[](Json& r) { r.erase("mediaType"); }, "trusted root: mediaType: missing"},
      {[](Json& r) { r["mediaType"] = "application/json"; },
       "trusted root: mediaType: \"application/json\" is not a Sigstore trusted root"},
      {[](Json& r) { r["tlogs"] = Json::object(); }, "trusted root: tlogs: not a list"},
      {[](Json& r) { r["tlogs"][0]["publicKey"]["rawBytes"] = "%%%"; },
       "trusted root: tlogs[0].publicKey.rawBytes: not base64"},
      {[](Json& r) { r["tlogs"][0]["publicKey"]["rawBytes"] = "AAAA"; },
       "trusted root: tlogs[0].publicKey.rawBytes: not a DER public key"},
      {[](Json& r) { r["ctlogs"][1]["logId"].erase("keyId"); },
       "trusted root: ctlogs[1].logId.keyId: missing"},
      {[](Json& r) { r["ctlogs"][0]["publicKey"]["validFor"]["start"] = "yesterday"; },
       "trusted root: ctlogs[0].publicKey.validFor.start: not an RFC 3339 time: \"yesterday\""},
      {[](Json& r) {
         r["certificateAuthorities"][1]["certChain"]["certificates"][1]["rawBytes"] = "AAAA";
       },
       "trusted root: certificateAuthorities[1].certChain.certificates[1].rawBytes: not a DER "
       "X.509 certificate"},
      {[](Json& r) { r["certificateAuthorities"][0].erase("validFor"); },
       "trusted root: certificateAuthorities[0].validFor: missing"},
      {[](Json& r) { r["certificateAuthorities"][0]["certChain"]["certificates"] = Json::array(); },
       "trusted root: certificateAuthorities[0].certChain.certificates: missing or empty"},
  };
  for (const Case& c : cases) {
    Json j = pgi;
    c.change(j);
    auto r = parseTrustedRoot(j.dump());
    ASSERT_FALSE(r) << c.message;
    EXPECT_EQ(r.error().code, ErrorCode::kParse);
    EXPECT_EQ(r.error().message, c.message);
  }
  EXPECT_EQ(parseTrustedRoot("{").error().message, "trusted root: (document): not JSON");
}

TEST(SigstoreBundle, ErrorsNameTheField) {
  const Json oci = Json::parse(testdata(kOciBundle));
  auto entry = [](Json& b) -> Json& { return b["verificationMaterial"]["tlogEntries"][0]; };
  struct Case {
    std::function<void(Json&)> change;
    std::string message;
  };
  std::vector<Case> cases = {
      {[](Json& b) { b.erase("verificationMaterial"); },
       "sigstore bundle: verificationMaterial: missing"},
      {[](Json& b) { b["verificationMaterial"]["certificate"]["rawBytes"] = 7; },
       "sigstore bundle: verificationMaterial.certificate.rawBytes: not a string"},
      {[&](Json& b) { entry(b)["logIndex"] = "12a"; },
       "sigstore bundle: verificationMaterial.tlogEntries[0].logIndex: not an integer"},
      {[&](Json& b) { entry(b)["inclusionProof"]["hashes"][1] = "%"; },
       "sigstore bundle: verificationMaterial.tlogEntries[0].inclusionProof.hashes[1]: not "
       "base64"},
      {[&](Json& b) { entry(b)["inclusionPromise"] = "x"; },
       "sigstore bundle: verificationMaterial.tlogEntries[0].inclusionPromise: not an object"},
      {[](Json& b) { b.erase("dsseEnvelope"); },
       "sigstore bundle: (document): neither dsseEnvelope nor messageSignature"},
      {[](Json& b) { b["dsseEnvelope"]["signatures"] = 1; },
       "sigstore bundle: dsseEnvelope.signatures: missing or not a list"},
  };
  for (const Case& c : cases) {
    Json j = oci;
    c.change(j);
    auto b = parseKeylessBundle(j.dump());
    ASSERT_FALSE(b) << c.message;
    EXPECT_EQ(b.error().message, c.message);
  }
}

TEST(Keyless, SetPayloadIsCanonicalJson) {
  TlogEntry e;
  e.body = "{}";
  e.integratedTime = 1700000000;
  e.logIndex = 42;
  e.logId = std::string("\x01\xab", 2);
  EXPECT_EQ(setPayload(e),
            R"({"body":"e30=","integratedTime":1700000000,"logID":"01ab","logIndex":42})");
}

}  // namespace
}  // namespace ramp::supply
