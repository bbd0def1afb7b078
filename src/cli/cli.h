#pragma once

// The command line: `ramp <verb> …`. Every verb is defined once (src/cli/*_verb.cc) and listed
// once (verbs.cc); `ramp serve` is a verb like the others.
//
// Thread safety: runCli is called once per process (or once per test, with its own streams).

#include <iosfwd>
#include <string>
#include <vector>

namespace ramp::cli {

// Where a verb writes. Tests pass string streams; main() passes std::cout/std::cerr.
struct IoStreams {
  std::ostream& out;
  std::ostream& err;
  bool outIsTerminal = false;  // colour and in-place redraw only on a terminal
};

// Parses `args` (without the program name) and runs the verb. Returns the process exit code;
// 2 for a usage error.
int runCli(const std::vector<std::string>& args, IoStreams& io);

// kubectl's message for a verb that does not exist: the verb, the known verbs within two edits
// (or starting with it) as suggestions, and where to find usage.
std::string unknownCommandMessage(const std::string& given, const std::vector<std::string>& verbs);

}  // namespace ramp::cli
