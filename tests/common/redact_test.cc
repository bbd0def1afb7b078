// Unit tests for Redactor (src/common/redact.h).

#include "common/redact.h"

#include <gtest/gtest.h>

#include "common/http_client.h"

namespace ramp {
namespace {

TEST(RedactorTest, ReplacesEveryOccurrence) {
  Redactor r({"s3cret"});
  EXPECT_EQ(r.redact("a s3cret and s3cret."), "a ***** and *****.");
}

TEST(RedactorTest, LongerSecretsFirst) {
  Redactor r({"abc", "abcdef"});
  EXPECT_EQ(r.redact("xabcdefx abc"), "x*****x *****");
}

// Argo's rule: any non-empty value is a secret, however short.
TEST(RedactorTest, MasksEveryNonEmptyValue) {
  Redactor r({"", "a", "ab"});
  EXPECT_EQ(r.size(), 2u);
  EXPECT_EQ(r.redact("a b ab"), "***** b *****");
  EXPECT_EQ(Redactor({""}).redact("x"), "x");
}

// Every header and field name whose value must never be printed, and names that are not secret.
TEST(SecretNameTest, EveryCredentialNameIsSecret) {
  struct Case {
    const char* name;
    bool secret;
  };
  const Case cases[] = {
      // HTTP headers
      {"Authorization", true},
      {"authorization", true},
      {"Proxy-Authorization", true},
      {"Cookie", true},
      {"cookie", true},
      {"Set-Cookie", true},
      {"X-Api-Key", true},
      {"X-API-KEY", true},
      {"Api-Key", true},
      {"X-Auth-Token", true},
      {"X-Access-Token", true},
      {"X-Vault-Token", true},
      {"X-Client-Secret", true},
      {"X-Session-Id", true},
      {"X-Amz-Security-Token", true},
      {"DD-API-KEY", true},
      {"DD-APPLICATION-KEY", true},
      {"X-Password", true},
      // spec fields that hold credentials
      {"password", true},
      {"clientSecret", true},
      {"client_secret", true},
      {"token", true},
      {"bearerToken", true},
      {"apiKey", true},
      {"appKey", true},
      {"credentials", true},
      {"passwd", true},
      // not secret
      {"Content-Type", false},
      {"Accept", false},
      {"X-Scope-OrgID", false},
      {"User-Agent", false},
      {"Host", false},
      {"username", false},
      {"clientId", false},
      {"address", false},
      {"query", false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(isSecretName(c.name), c.secret) << c.name;
    Redactor r;
    r.addIfSecret(c.name, "value-of-" + std::string(c.name));
    EXPECT_EQ(r.size(), c.secret ? 1u : 0u) << c.name;
  }
}

TEST(RedactorTest, CopiesAreIndependent) {
  Redactor a({"first1"});
  Redactor b = a;
  b.add("second2");
  EXPECT_EQ(a.redact("first1 second2"), "***** second2");
  EXPECT_EQ(b.redact("first1 second2"), "***** *****");
}

TEST(RedactUrlTest, StripsUserinfo) {
  EXPECT_EQ(http::redactUrl("https://user:pw@host:9090/api?q=1"), "https://host:9090/api?q=1");
  EXPECT_EQ(http::redactUrl("http://host/a@b"), "http://host/a@b");
  EXPECT_EQ(http::redactUrl("http://host"), "http://host");
}

TEST(UrlEncodeTest, EncodesReserved) {
  EXPECT_EQ(http::urlEncode("sum(rate(x{a=\"b\"}[5m]))"),
            "sum%28rate%28x%7Ba%3D%22b%22%7D%5B5m%5D%29%29");
  EXPECT_EQ(http::urlEncode("a-b_c.d~"), "a-b_c.d~");
}

}  // namespace
}  // namespace ramp
