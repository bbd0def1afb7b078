#include <gtest/gtest.h>

#include <sstream>

#include "cli/cli.h"

namespace ramp::cli {
namespace {

int run(const std::vector<std::string>& args, std::string* out, std::string* err) {
  std::ostringstream o, e;
  IoStreams io{o, e, false};
  int rc = runCli(args, io);
  *out = o.str();
  *err = e.str();
  return rc;
}

TEST(CliTest, VersionPrintsVersionAndBuildInfo) {
  std::string out, err;
  EXPECT_EQ(run({"version"}, &out, &err), 0);
  EXPECT_NE(out.find("ramp 0.1.0"), std::string::npos) << out;
  EXPECT_NE(out.find("commit:"), std::string::npos);
}

TEST(CliTest, UnknownVerbIsAUsageError) {
  std::string out, err;
  EXPECT_EQ(run({"no-such-verb"}, &out, &err), 2);
  EXPECT_FALSE(err.empty());
}

TEST(CliTest, NoVerbIsAUsageError) {
  std::string out, err;
  EXPECT_EQ(run({}, &out, &err), 2);
}

}  // namespace
}  // namespace ramp::cli
