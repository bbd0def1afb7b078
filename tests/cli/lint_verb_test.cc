// `ramp lint`: exit codes, one error per line as file:line:column: path: message, -o json, and
// our own examples/ (the manifests scripts/demo.sh lints).
#include <gtest/gtest.h>

#include <unistd.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/cli.h"
#include "fakes/manifests.h"

namespace ramp::cli {
namespace {

namespace fs = std::filesystem;

struct LintRun {
  int rc;
  std::string out;
  std::string err;
};

LintRun lint(std::vector<std::string> args) {
  args.insert(args.begin(), "lint");
  std::ostringstream o, e;
  IoStreams io{o, e, false};
  int rc = runCli(args, io);
  return {rc, o.str(), e.str()};
}

class LintVerbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ramp_lint_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
  fs::path dir_;
};

const char* kValid = R"(apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: ok}
spec:
  metrics:
  - name: up
    provider: {web: {url: "http://127.0.0.1/"}}
)";

const char* kInvalid = R"(apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: bad}
spec:
  selector: {matchLabels: {app: bad}}
  template:
    metadata: {labels: {app: bad}}
    spec: {containers: [{name: app, image: bad:1, command: [bad]}]}
  strategy:
    canary:
      steps:
      - setWeight: 150
      - pause: {duration: -3}
)";

TEST_F(LintVerbTest, ValidFileExitsZero) {
  LintRun r = lint({"-f", write("ok.yaml", kValid)});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("1 object valid in 1 file"), std::string::npos) << r.out;
  EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST_F(LintVerbTest, InvalidFileExitsOneWithOneErrorPerLine) {
  std::string f = write("bad.yaml", kInvalid);
  LintRun r = lint({"-f", f});
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err, f +
                       ":12:20: spec.strategy.canary.steps[0].setWeight: SetWeight needs to be "
                       "between 0 and 100\n" +
                       f +
                       ":13:27: spec.strategy.canary.steps[1].pause.duration: must not be "
                       "negative\n");
}

TEST_F(LintVerbTest, SeveralFilesAnyInvalidExitsOne) {
  LintRun r = lint({"-f", write("ok.yaml", kValid), "-f", write("bad.yaml", kInvalid)});
  EXPECT_EQ(r.rc, 1);
}

TEST_F(LintVerbTest, MissingFileExitsTwo) {
  LintRun r = lint({"-f", (dir_ / "nope.yaml").string()});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("cannot read file"), std::string::npos) << r.err;
}

TEST_F(LintVerbTest, NotYamlExitsTwoWithTheLine) {
  std::string f = write("broken.yaml", "kind: Rollout\nspec: [\n  a: b\n");
  LintRun r = lint({"-f", f});
  EXPECT_EQ(r.rc, 2);
  EXPECT_EQ(r.err.rfind(f + ":", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("not valid YAML"), std::string::npos) << r.err;
  r = lint({"-f", write("bin.dat", std::string("\0\1\2\3", 4))});
  EXPECT_EQ(r.rc, 2);
}

TEST_F(LintVerbTest, UnreadableWinsOverInvalid) {
  LintRun r = lint({"-f", write("bad.yaml", kInvalid), "-f", (dir_ / "nope.yaml").string()});
  EXPECT_EQ(r.rc, 2);
}

TEST_F(LintVerbTest, JsonOutputListsEveryProblem) {
  std::string f = write("bad.yaml", kInvalid);
  LintRun r = lint({"-f", f, "-o", "json"});
  EXPECT_EQ(r.rc, 1);
  nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j.is_array());
  // Two errors, then the platform's warning that nothing routes to a canary without
  // trafficRouting on platform.process.
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[2]["severity"], "warning");
  EXPECT_NE(j[2]["message"].get<std::string>().find("nothing routes traffic"), std::string::npos);
  EXPECT_EQ(j[0]["file"], f);
  EXPECT_EQ(j[0]["line"], 12);
  EXPECT_EQ(j[0]["column"], 20);
  EXPECT_EQ(j[0]["path"], "spec.strategy.canary.steps[0].setWeight");
  EXPECT_EQ(j[0]["message"], "SetWeight needs to be between 0 and 100");
  LintRun ok = lint({"-f", write("ok.yaml", kValid), "-o", "json"});
  EXPECT_EQ(ok.rc, 0);
  EXPECT_EQ(nlohmann::json::parse(ok.out), nlohmann::json::array());
}

TEST_F(LintVerbTest, OtherKindsAreNotesAndDoNotFail) {
  LintRun r = lint({"-f", write("svc.yaml", std::string("apiVersion: v1\nkind: Service\nmetadata: "
                                                        "{name: s}\n---\n") +
                                                kValid)});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("note: Service \"s\" is not a kind ramp manages"), std::string::npos)
      << r.out;
}

using testing::routedRollout;

TEST_F(LintVerbTest, PlatformProblemsWarnWithoutPlatformAndFailWithIt) {
  std::string f = write("istio.yaml", routedRollout("web", "istio: {virtualService: {name: vs}}"));
  LintRun r = lint({"-f", f});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find(f + ":14:16: warning: spec.strategy.canary.trafficRouting.istio: istio "
                           "traffic routing is not available on platform.process"),
            std::string::npos)
      << r.out;
  r = lint({"-f", f, "--platform", "platform.process"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find(f + ":14:16: spec.strategy.canary.trafficRouting.istio: istio traffic "
                           "routing is not available on platform.process"),
            std::string::npos)
      << r.err;
  r = lint({"-f", f, "--platform", "platform.nowhere"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("not a registered platform"), std::string::npos) << r.err;
}

TEST_F(LintVerbTest, RampPluginConfigsAreCheckedWhateverThePlatform) {
  std::string f =
      write("haproxy.yaml", routedRollout("web", "plugins: {ramp/haproxy: {runtimeApi: \"x:1\"}}"));
  LintRun r = lint({"-f", f});
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err, f + ":14:33: spec.strategy.canary.trafficRouting.plugins[ramp/haproxy].backend: "
                       "required\n");
}

TEST_F(LintVerbTest, TwoRolloutsClaimingOneBackendFail) {
  const std::string routing = "plugins: {ramp/haproxy: {runtimeApi: \"x:1\", backend: be_app}}";
  std::string a = write("a.yaml", routedRollout("a", routing));
  std::string b = write("b.yaml", routedRollout("b", routing));
  LintRun r = lint({"-f", a, "-f", b});
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err, b + ":14:33: spec.strategy.canary.trafficRouting.plugins[ramp/haproxy].backend: "
                       "backend be_app is managed by rollout default/a\n");
}

TEST_F(LintVerbTest, FileFlagIsRequired) {
  LintRun r = lint({});
  EXPECT_EQ(r.rc, 2);
}

TEST(OwnExamplesTest, DemoManifestsAreValid) {
  const char* src = std::getenv("RAMP_SOURCE_DIR");
  ASSERT_NE(src, nullptr);
  // Every manifest under examples/ (the demo's included) is lint-clean.
  std::vector<std::string> args;
  for (const auto& entry : fs::recursive_directory_iterator(fs::path(src) / "examples")) {
    if (entry.path().extension() != ".yaml") continue;
    args.push_back("-f");
    args.push_back(entry.path().string());
  }
  ASSERT_GE(args.size(), 2u * 7);
  LintRun r = lint(args);
  EXPECT_EQ(r.rc, 0) << r.err << r.out;
  EXPECT_TRUE(r.err.empty()) << r.err;
}

}  // namespace
}  // namespace ramp::cli
