#pragma once

// What `ramp logs` does to the text of replicas' logs before printing it: cuts it into lines,
// puts the replica's name in front of each line when several replicas are shown (kubectl's
// --prefix), holds back a line until it is complete (so two replicas' lines never mix), and
// keeps only the last N lines for --tail.
//
// Thread safety: LogLines is a plain value used from one thread; lastLines is a pure function.

#include <cstddef>
#include <string>
#include <string_view>

namespace ramp::cli {

// The lines of one replica's log as they arrive in pieces.
class LogLines {
 public:
  // `prefix` goes in front of every line ("" for none).
  explicit LogLines(std::string prefix) : prefix_(std::move(prefix)) {}

  // Returns the lines `text` completes (with whatever was held back before), each with the
  // prefix and its newline; holds back a last line that has no newline yet.
  std::string feed(std::string_view text);

  // Returns the held-back line, prefixed and ended with a newline ("" when none), and forgets it.
  std::string flush();

 private:
  std::string prefix_;
  std::string partial_;
};

// The last `n` lines of `text` (a line is what ends with '\n', and a last line without one).
// When `atStart` is false, `text` begins somewhere inside the log, so its first line may be cut:
// it is dropped when `text` has more than that line. n = 0 returns "".
std::string lastLines(std::string_view text, size_t n, bool atStart);

}  // namespace ramp::cli
