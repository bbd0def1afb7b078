#include "common/repack_buffer.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace ramp {
namespace {

TEST(RepackBuffer, GivesBackWhatWasPutInOrder) {
  const std::string binary("a\0b\xff", 4);
  RepackBuffer buffer(RepackBuffer::sizeOf("key") + RepackBuffer::sizeOf("") +
                      RepackBuffer::sizeOf(binary) + 2 * sizeof(uint64_t));
  buffer.put("key");
  buffer.putNumber(42);
  buffer.put("");
  buffer.put(binary);
  buffer.putNumber(UINT64_MAX);
  EXPECT_EQ(buffer.take(), "key");
  EXPECT_EQ(buffer.takeNumber(), 42u);
  EXPECT_EQ(buffer.take(), "");
  EXPECT_EQ(buffer.take(), binary);
  EXPECT_FALSE(buffer.done());
  EXPECT_EQ(buffer.takeNumber(), UINT64_MAX);
  EXPECT_TRUE(buffer.done());
}

// A reader out of step with its writer is told so rather than reading past the end.
TEST(RepackBuffer, ReadingPastTheEndThrows) {
  RepackBuffer buffer;
  buffer.putNumber(1000);  // read back as a length: more than there is
  EXPECT_THROW(buffer.take(), std::out_of_range);
  RepackBuffer empty;
  EXPECT_THROW(empty.takeNumber(), std::out_of_range);
}

}  // namespace
}  // namespace ramp
