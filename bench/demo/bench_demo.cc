// bench_demo [ramp-demo options]: runs `ramp-demo --bad-only --runs 10` (the runner prints the
// table: time from the bad release's first failed answer to canary weight 0 in HAProxy,
// median and p95, and failed user requests per bad release). Extra options are passed on,
// e.g. `bench_demo --runs 20 --json out.json`.

#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  std::vector<std::string> args = {RAMP_DEMO_BINARY, "--bad-only", "--runs", "10"};
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  std::vector<char*> argp;
  for (auto& a : args) argp.push_back(a.data());
  argp.push_back(nullptr);
  ::execv(argp[0], argp.data());
  std::perror(RAMP_DEMO_BINARY);
  return 127;
}
