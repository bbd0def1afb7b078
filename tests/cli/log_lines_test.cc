// `ramp logs`' text handling (src/cli/log_lines.h): lines held back until complete and
// prefixed per replica; the last N lines for --tail.

#include "cli/log_lines.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ramp::cli {
namespace {

TEST(LogLines, PrintsWholeLinesWithThePrefix) {
  struct Case {
    const char* what;
    std::string prefix;
    std::vector<std::string> pieces;
    std::vector<std::string> printed;  // what each feed() returns
    std::string flushed;
  };
  const Case cases[] = {
      {"no prefix, whole lines", "", {"a\nb\n"}, {"a\nb\n"}, ""},
      {"prefix on each line", "[w-0] ", {"a\nb\n"}, {"[w-0] a\n[w-0] b\n"}, ""},
      {"a line split over two reads",
       "[w-0] ",
       {"hel", "lo\nwor", "ld\n"},
       {"", "[w-0] hello\n", "[w-0] world\n"},
       ""},
      {"a last line without newline is flushed", "[w-1] ", {"x\ny"}, {"[w-1] x\n"}, "[w-1] y\n"},
      {"empty reads", "", {"", "a", "", "\n"}, {"", "", "", "a\n"}, ""},
      {"empty lines keep their prefix", "[p] ", {"\n\n"}, {"[p] \n[p] \n"}, ""},
  };
  for (const Case& c : cases) {
    LogLines lines(c.prefix);
    ASSERT_EQ(c.pieces.size(), c.printed.size()) << c.what;
    for (size_t i = 0; i < c.pieces.size(); ++i) {
      EXPECT_EQ(lines.feed(c.pieces[i]), c.printed[i]) << c.what << " #" << i;
    }
    EXPECT_EQ(lines.flush(), c.flushed) << c.what;
    EXPECT_EQ(lines.flush(), "") << c.what << ": flushed twice";
  }
}

TEST(LogLines, LastLines) {
  struct Case {
    std::string text;
    size_t n;
    bool atStart;
    std::string want;
  };
  const Case cases[] = {
      {"a\nb\nc\n", 2, true, "b\nc\n"},
      {"a\nb\nc\n", 5, true, "a\nb\nc\n"},  // fewer lines than asked
      {"a\nb\nc", 1, true, "c"},            // a last line without newline counts
      {"a\nb\nc", 2, true, "b\nc"},
      {"a\nb\nc\n", 0, true, ""},
      {"", 3, true, ""},
      {"tial\nb\nc\n", 5, false, "b\nc\n"},  // cut first line dropped
      {"tial\nb\nc\n", 1, false, "c\n"},
      {"only part of a line", 3, false, "only part of a line"},  // nothing else to show
      {"part\n", 3, false, "part\n"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(lastLines(c.text, c.n, c.atStart), c.want) << c.text << " n=" << c.n;
  }
}

}  // namespace
}  // namespace ramp::cli
