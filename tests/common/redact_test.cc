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

TEST(RedactorTest, IgnoresTooShortValues) {
  Redactor r({"", "a", "ab"});
  EXPECT_EQ(r.size(), 0u);
  EXPECT_EQ(r.redact("a b ab"), "a b ab");
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
