// The only code not linked into tests: process set-up, then the CLI.
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "cli/cli.h"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  std::vector<std::string> args(argv + 1, argv + argc);
  ramp::cli::IoStreams io{std::cout, std::cerr, isatty(STDOUT_FILENO) == 1};
  int rc = ramp::cli::runCli(args, io);
  std::cout.flush();
  return rc;
}
