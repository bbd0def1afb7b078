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

TEST(CliTest, UnknownVerbIsNamedWithSuggestionsAsKubectlDoes) {
  std::string out, err;
  EXPECT_EQ(run({"promot", "web"}, &out, &err), 2);
  EXPECT_EQ(err,
            "ramp: unknown command \"promot\" for \"ramp\"\n\nDid you mean this?\n\tpromote\n\n"
            "Run 'ramp --help' for usage.\n");
  EXPECT_EQ(run({"foo"}, &out, &err), 2);
  EXPECT_EQ(err, "ramp: unknown command \"foo\" for \"ramp\"\n\nRun 'ramp --help' for usage.\n");
}

TEST(CliTest, HelpVerbPrintsTheVerbsHelp) {
  std::string out, err;
  EXPECT_EQ(run({"help", "serve"}, &out, &err), 0);
  EXPECT_NE(out.find("--data"), std::string::npos) << out;
  EXPECT_EQ(run({"help"}, &out, &err), 0);
  EXPECT_NE(out.find("promote"), std::string::npos) << out;
  EXPECT_EQ(run({"help", "nope"}, &out, &err), 2);
  EXPECT_NE(err.find("unknown command \"nope\""), std::string::npos) << err;
}

TEST(CliTest, NoVerbIsAUsageError) {
  std::string out, err;
  EXPECT_EQ(run({}, &out, &err), 2);
}

}  // namespace
}  // namespace ramp::cli
