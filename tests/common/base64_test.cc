#include "common/base64.h"

#include <gtest/gtest.h>

namespace ramp {
namespace {

// RFC 4648 §10's test vectors, both ways.
TEST(Base64, Rfc4648Vectors) {
  const std::pair<const char*, const char*> cases[] = {{"", ""},
                                                       {"f", "Zg=="},
                                                       {"fo", "Zm8="},
                                                       {"foo", "Zm9v"},
                                                       {"foob", "Zm9vYg=="},
                                                       {"fooba", "Zm9vYmE="},
                                                       {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : cases) {
    EXPECT_EQ(encodeBase64(plain), encoded);
    auto back = decodeBase64(encoded);
    ASSERT_TRUE(back) << encoded;
    EXPECT_EQ(*back, plain);
  }
  EXPECT_EQ(*decodeBase64("Zm9v\nYmFy\n"), "foobar");  // PEM-style line breaks
  EXPECT_FALSE(decodeBase64("Zm9v*"));
  EXPECT_EQ(encodeBase64(std::string("\0\xff", 2)), "AP8=");
}

}  // namespace
}  // namespace ramp
