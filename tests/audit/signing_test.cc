#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "audit/checkpoint.h"
#include "audit/dsse.h"
#include "audit/signer.h"
#include "harness/harness.h"

namespace ramp::audit {
namespace {

TEST(Signer, KeysRoundTripThroughPem) {
  auto key = SigningKey::generate();
  ASSERT_TRUE(key) << key.error().message;
  auto again = SigningKey::fromPem(key->privatePem());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->publicKey().keyId(), key->publicKey().keyId());
  auto pub = VerifyingKey::fromPem(key->publicKey().pem());
  ASSERT_TRUE(pub);
  auto sig = key->sign("hello");
  ASSERT_TRUE(sig);
  EXPECT_TRUE(pub->verify("hello", *sig));
  EXPECT_FALSE(pub->verify("hellO", *sig));
  EXPECT_FALSE(VerifyingKey::fromPem("not a key"));
  EXPECT_EQ(key->publicKey().keyId().size(), 64u);
}

// The `openssl` command verifies ramp's signatures: they are plain ECDSA P-256 over SHA-256 in
// ASN.1 DER, checkable by any tool.
TEST(Signer, OpensslVerifiesOurSignatures) {
  ramp::testing::TempDir dir("ramp-audit-openssl");
  auto key = *SigningKey::generate();
  std::ofstream(dir.file("pub.pem")) << key.publicKey().pem();
  std::ofstream(dir.file("data")) << "decision record";
  std::ofstream(dir.file("sig"), std::ios::binary) << *key.sign("decision record");
  std::string cmd = "openssl dgst -sha256 -verify " + dir.file("pub.pem") + " -signature " +
                    dir.file("sig") + " " + dir.file("data") + " >/dev/null 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  std::ofstream(dir.file("data")) << "decision recorD";
  EXPECT_NE(std::system(cmd.c_str()), 0);
}

TEST(Dsse, PaeAndEnvelope) {
  EXPECT_EQ(pae("application/vnd.in-toto+json", "{}"),
            "DSSEv1 28 application/vnd.in-toto+json 2 {}");
  EXPECT_EQ(pae("", ""), "DSSEv1 0  0 ");
  auto key = *SigningKey::generate();
  auto env =
      signEnvelope(kInTotoPayloadType, R"({"_type":"https://in-toto.io/Statement/v1"})", key);
  ASSERT_TRUE(env);
  auto decoded = decodeEnvelope(encodeEnvelope(*env));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(*decoded, *env);
  EXPECT_TRUE(verifyEnvelope(*decoded, key.publicKey()));

  // One byte of the payload changed: the signature no longer covers it.
  Envelope tampered = *env;
  tampered.payload[5] ^= 1;
  auto r = verifyEnvelope(tampered, key.publicKey());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "signature does not verify");
  // The payload type is covered too.
  tampered = *env;
  tampered.payloadType = "text/plain";
  EXPECT_FALSE(verifyEnvelope(tampered, key.publicKey()));
  // Another key's envelope.
  auto other = *SigningKey::generate();
  auto r2 = verifyEnvelope(*env, other.publicKey());
  ASSERT_FALSE(r2);
  EXPECT_NE(r2.error().message.find("no signature by key"), std::string::npos);

  for (const char* bad :
       {"", "[]", R"({"payloadType":1})", R"({"payloadType":"x","payload":"%%","signatures":[]})",
        R"({"payloadType":"x","payload":"","signatures":[{"sig":1}]})"}) {
    EXPECT_FALSE(decodeEnvelope(bad)) << bad;
  }
}

TEST(Checkpoint, SignedNoteRoundTripAndTampering) {
  auto key = *SigningKey::generate();
  Checkpoint c{"ramp.local/audit/test", 8,
               *fromHex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")};
  EXPECT_EQ(checkpointText(c),
            "ramp.local/audit/test\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n");
  auto note = signCheckpoint(c, "ramp.local/audit", key);
  ASSERT_TRUE(note);
  EXPECT_NE(note->find("\n\n\xE2\x80\x94 ramp.local/audit "), std::string::npos) << *note;
  auto back = verifyCheckpoint(*note, "ramp.local/audit", key.publicKey());
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, c);

  // The size changed after signing.
  std::string forged = *note;
  forged.replace(forged.find("\n8\n"), 3, "\n9\n");
  auto r = verifyCheckpoint(forged, "ramp.local/audit", key.publicKey());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("does not verify"), std::string::npos) << r.error().message;
  // Signed by someone else only.
  auto other = *SigningKey::generate();
  auto r2 = verifyCheckpoint(*signCheckpoint(c, "ramp.local/audit", other), "ramp.local/audit",
                             key.publicKey());
  ASSERT_FALSE(r2);
  EXPECT_NE(r2.error().message.find("no signature by ramp.local/audit"), std::string::npos);
  EXPECT_FALSE(verifyCheckpoint("no blank line", "k", key.publicKey()));
  EXPECT_FALSE(verifyCheckpoint("o\n08\nAA==\n\n\xE2\x80\x94 k AAAAAAA=\n", "k", key.publicKey()));
  EXPECT_FALSE(signCheckpoint(c, "has space", key));
}

}  // namespace
}  // namespace ramp::audit
