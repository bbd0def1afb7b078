// common/strings.h.
#include "common/strings.h"

#include <gtest/gtest.h>

namespace ramp {
namespace {

TEST(TrimTest, DropsAsciiWhitespaceAtBothEnds) {
  struct Case {
    std::string_view in;
    std::string_view want;
  };
  const Case cases[] = {
      {"", ""},           {" \t\r\n\v\f", ""},        {"token", "token"},
      {"  a b  ", "a b"}, {"\tadmin\r", "admin"},     {"value\n", "value"},
      {"0\n", "0"},       {"\xC2\xA0x", "\xC2\xA0x"},  // not ASCII whitespace
  };
  for (const Case& c : cases) EXPECT_EQ(trim(c.in), c.want) << "[" << c.in << "]";
}

}  // namespace
}  // namespace ramp
