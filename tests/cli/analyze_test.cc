// Runs the `ramp` binary on analysis templates whose metrics are real processes (`true`,
// `false`, `sleep`) and a real HTTP server on 127.0.0.1, and checks exit codes and output.

#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "harness/harness.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;

class HttpServer {
 public:
  HttpServer() {
    ::signal(SIGPIPE, SIG_IGN);
    server_.Get("/ok", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"ok":true,"rate":0.99})", "application/json");
    });
    server_.Get("/bad", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"ok":false,"rate":0.5})", "application/json");
    });
    server_.Get("/500", [](const httplib::Request&, httplib::Response& res) {
      res.status = 500;
      res.set_content("boom", "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~HttpServer() {
    server_.stop();
    thread_.join();
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

constexpr const char* kTemplates = R"(apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: checks
spec:
  args:
  - name: url
  - name: cmd
    value: "true"
  metrics:
  - name: job-check
    provider:
      job:
        spec:
          backoffLimit: 0
          template:
            spec:
              restartPolicy: Never
              containers:
              - name: check
                image: busybox
                command: ["{{args.cmd}}"]
  - name: web-check
    successCondition: result.ok == true
    provider:
      web:
        url: "{{args.url}}"
---
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: web-only
spec:
  args:
  - name: url
  metrics:
  - name: rate
    consecutiveErrorLimit: 0
    successCondition: result.rate >= 0.95
    failureCondition: result.rate < 0.1
    provider:
      web:
        url: "{{args.url}}"
---
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: forever
spec:
  metrics:
  - name: slow-job
    provider:
      job:
        spec:
          template:
            spec:
              restartPolicy: Never
              containers:
              - name: sleeper
                image: busybox
                command: [sleep, "30"]
---
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: prom
spec:
  metrics:
  - name: ratio
    interval: 1s
    count: 1
    successCondition: result[0] >= 0.95
    provider:
      prometheus:
        query: vector(0.99)
)";

struct Outcome {
  int exitCode = -1;
  std::string out;
  std::string err;
};

class AnalyzeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ramp_ = fs::path(ramp::testing::binaryDir()) / "ramp";
    ASSERT_TRUE(fs::exists(ramp_)) << ramp_;
    dir_ = fs::temp_directory_path() /
           ("ramp-analyze-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    file_ = dir_ / "templates.yaml";
    std::ofstream(file_) << kTemplates;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs `ramp analyze -f <file> <args…>`; when interruptAfter is set, sends SIGINT then.
  Outcome analyze(std::vector<std::string> args,
                  std::optional<std::chrono::milliseconds> interruptAfter = std::nullopt) {
    fs::path out = dir_ / "out.txt";
    fs::path err = dir_ / "err.txt";
    std::vector<std::string> argv = {ramp_.string(), "analyze",     "-f",
                                     file_.string(), "--state-dir", (dir_ / "state").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    // posix_spawn, not fork + freopen: the HTTP server's threads may hold stdio or malloc
    // locks at fork time.
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    pid_t pid = 0;
    int rc = ::posix_spawn(&pid, cargv[0], &actions, nullptr, cargv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      ADD_FAILURE() << "posix_spawn failed: " << rc;
      return {};
    }
    if (interruptAfter) {
      std::this_thread::sleep_for(*interruptAfter);
      ::kill(pid, SIGINT);
    }
    int status = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (::waitpid(pid, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        ADD_FAILURE() << "ramp analyze did not finish";
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    Outcome o;
    o.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream o1(out), o2(err);
    o.out.assign(std::istreambuf_iterator<char>(o1), {});
    o.err.assign(std::istreambuf_iterator<char>(o2), {});
    return o;
  }

  HttpServer http_;
  fs::path ramp_;
  fs::path dir_;
  fs::path file_;
};

TEST_F(AnalyzeTest, AllPassIsSuccessful) {
  Outcome o = analyze({"--template", "checks", "--arg", "url=" + http_.url("/ok")});
  EXPECT_EQ(o.exitCode, 0) << o.out << o.err;
  EXPECT_NE(o.out.find("job-check  Successful"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("web-check  Successful"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find(": Successful"), std::string::npos) << o.out;
}

TEST_F(AnalyzeTest, FailingJobFails) {
  Outcome o =
      analyze({"--template", "checks", "--arg", "url=" + http_.url("/ok"), "--arg", "cmd=false"});
  EXPECT_EQ(o.exitCode, 1) << o.out << o.err;
  EXPECT_NE(o.out.find("job-check  Failed"), std::string::npos) << o.out;
}

TEST_F(AnalyzeTest, FailingWebConditionFails) {
  Outcome o = analyze({"--template", "checks", "--arg", "url=" + http_.url("/bad")});
  EXPECT_EQ(o.exitCode, 1) << o.out << o.err;
  EXPECT_NE(o.out.find("Metric \"web-check\" assessed Failed"), std::string::npos) << o.out;
}

TEST_F(AnalyzeTest, ServerErrorIsError) {
  Outcome o = analyze({"--template", "web-only", "--arg", "url=" + http_.url("/500")});
  EXPECT_EQ(o.exitCode, 2) << o.out << o.err;
  EXPECT_NE(o.out.find("consecutiveErrors (1) > consecutiveErrorLimit (0)"), std::string::npos)
      << o.out;
}

TEST_F(AnalyzeTest, NeitherConditionIsInconclusive) {
  // rate 0.5: not >= 0.95 and not < 0.1.
  Outcome o = analyze({"--template", "web-only", "--arg", "url=" + http_.url("/bad")});
  EXPECT_EQ(o.exitCode, 3) << o.out << o.err;
}

TEST_F(AnalyzeTest, JsonOutputIsTheRun) {
  Outcome o = analyze({"--template", "web-only", "--arg", "url=" + http_.url("/ok"), "-o", "json"});
  EXPECT_EQ(o.exitCode, 0) << o.out << o.err;
  EXPECT_EQ(o.out.rfind("{", 0), 0u) << o.out;
  EXPECT_NE(o.out.find("\"kind\":\"AnalysisRun\""), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("\"phase\":\"Successful\""), std::string::npos) << o.out;
}

TEST_F(AnalyzeTest, InvalidInputExitsFour) {
  EXPECT_EQ(analyze({"--template", "nope"}).exitCode, 4);
  EXPECT_EQ(analyze({"--template", "checks"}).exitCode, 4) << "args.url was not resolved";
  EXPECT_EQ(analyze({}).exitCode, 4) << "several templates, none chosen";
  std::ofstream(file_) << "apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\n"
                          "metadata: {name: x}\nspec:\n  metrics:\n  - name: m\n    count: 3\n"
                          "    provider: {web: {url: 'http://127.0.0.1:1'}}\n";
  Outcome o = analyze({});
  EXPECT_EQ(o.exitCode, 4) << o.out << o.err;
  EXPECT_NE(o.err.find("interval"), std::string::npos) << o.err;
}

// --prometheus is the address of metrics that name none (a real Prometheus answers the query).
TEST_F(AnalyzeTest, PrometheusFlagAddressesTheMetricsThatNameNone) {
  auto prom = ramp::testing::PrometheusServer::start({}, (dir_ / "prom").string());
  ASSERT_TRUE(prom) << prom.error().message;
  Outcome o = analyze({"--template", "prom", "--prometheus", (*prom)->url()});
  EXPECT_EQ(o.exitCode, 0) << o.out << o.err;
  EXPECT_NE(o.out.find("ratio  Successful  value=[0.99]"), std::string::npos) << o.out;
}

// A configuration error (here: no Prometheus address anywhere) ends the run at once with exit 2
// and the cause, after one measurement, instead of being retried to consecutiveErrorLimit (4).
TEST_F(AnalyzeTest, AConfigurationErrorStopsTheRunAtOnce) {
  ::unsetenv("ARGO_ROLLOUTS_PROMETHEUS_ADDRESS");
  Outcome o = analyze({"--template", "prom", "-o", "json"});
  EXPECT_EQ(o.exitCode, 2) << o.out << o.err;
  EXPECT_NE(o.err.find("metric \"ratio\": prometheus address is not configured"), std::string::npos)
      << o.err;
  EXPECT_NE(o.err.find("the run stopped at once"), std::string::npos) << o.err;
  EXPECT_NE(o.out.find("\"error\":1"), std::string::npos) << o.out;
  EXPECT_FALSE(std::regex_search(o.out, std::regex("\"error\":[2-9]"))) << o.out;
}

TEST_F(AnalyzeTest, CtrlCTerminatesLikeArgo) {
  Outcome o = analyze({"--template", "forever"}, std::chrono::milliseconds(1500));
  EXPECT_EQ(o.exitCode, 0) << o.out << o.err;
  EXPECT_NE(o.out.find("Metric Terminated"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("Run Terminated"), std::string::npos) << o.out;
}

}  // namespace
