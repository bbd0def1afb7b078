// docs/gitops.md on the real stack: `ramp serve --platform platform.process` is the GitOps agent
// of a repository served by `git daemon`, and releases what Git says as local processes (the demo
// service) behind a real HAProxy, all on 127.0.0.1 on ports chosen at run time. Driven by the CLI
// and by commits, and checked by the traffic HAProxy serves:
//   1. the Application syncs v1: HAProxy answers v1;
//   2. a commit changing the image starts a canary: the Rollout pauses at 50%, and HAProxy
//      answers v1 and v2;
//   3. `ramp app rollback` (an operator) pushes a revert commit; the agent syncs it and the
//      canary is rolled back: Healthy on v1, HAProxy answers v1 only;
//   4. a manual drift (`ramp set image` behind Git's back) is healed by selfHeal;
//   5. an AppProject's deny window refuses the auto-sync of a new commit and an operator's
//      `ramp app sync`: nothing changes, and the Application says why.

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "gitops/git_servers.h"
#include "harness/harness.h"
#include "harness/ramp_daemon.h"

namespace ramp::gitops {
namespace {

namespace rt = ramp::testing;
using json = nlohmann::json;
using namespace std::chrono_literals;
using testing::sh;
using testing::writeFile;

constexpr const char* kAdmin = "admin-token-0123456789abcdef";
constexpr const char* kOperator = "operator-token-0123456789abc";

bool waitUntil(const std::function<bool()>& ready, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!ready()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(200ms);
  }
  return true;
}

class GitopsProcessE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    // The repository: environments/prod/shop.yaml at v1.
    sh("git init -q --bare -b main " + dir_.file("srv") + "/shop.git");
    sh("git init -q -b main " + work());
    commit("v1", "shop v1");
    ASSERT_NO_FATAL_FAILURE(startHaproxy());
    daemon_ = testing::GitDaemon::start(dir_.file("srv"), "shop.git", dir_.file("git.log"));
    ASSERT_TRUE(daemon_);
    writeFile(dir_.file("tokens.csv"),
              std::string(kAdmin) + ",alice,admin\n" + kOperator + ",bob,operator\n");
    serve_ = std::make_unique<rt::RampDaemon>(
        dir_, std::vector<std::string>{"--platform", "platform.process", "--tokens",
                                       dir_.file("tokens.csv"), "--gitops-poll-s", "2"});
    ASSERT_FALSE(serve_->url().empty());
  }

  void TearDown() override {
    if (serve_) serve_->stop();
    rt::stopProcessReplicas(dir_.file("data/platform.process"), "ramp-demo-service");
  }

  std::string work() const { return dir_.file("work"); }
  std::string git() const {
    return "git -C " + work() + " -c user.name=carol -c user.email=carol@example.com";
  }

  // Commits environments/prod/shop.yaml with image ramp/demo-service:TAG and pushes it.
  std::string commit(const std::string& tag, const std::string& message) {
    writeFile(work() + "/environments/prod/shop.yaml", rolloutYaml(tag));
    sh(git() + " add -A && " + git() + " commit -q -m '" + message + "'");
    sh(git() + " push -q " + dir_.file("srv") + "/shop.git main");
    return sh(git() + " rev-parse HEAD");
  }

  std::string rolloutYaml(const std::string& tag) const {
    return "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: shop}\nspec:\n"
           "  replicas: 2\n  selector: {matchLabels: {app: shop}}\n  template:\n"
           "    metadata: {labels: {app: shop}}\n    spec:\n"
           "      terminationGracePeriodSeconds: 2\n      containers:\n      - name: app\n"
           "        image: ramp/demo-service:" +
           tag + "\n        command: [" + rt::binaryDir() +
           "/demo/ramp-demo-service]\n"
           "        ports: [{name: http, containerPort: 8080}]\n"
           "        readinessProbe: {httpGet: {path: /healthz, port: http}, periodSeconds: 1}\n"
           "  strategy:\n    canary:\n      stableService: shop-stable\n"
           "      canaryService: shop-canary\n      scaleDownDelaySeconds: 2\n"
           "      abortScaleDownDelaySeconds: 2\n      trafficRouting:\n        plugins:\n"
           "          ramp/haproxy: {runtimeApi: \"unix:" +
           dir_.file("haproxy.sock") +
           "\", backend: be_shop}\n"
           "      steps: [{setWeight: 50}, {pause: {}}]\n";
  }

  void startHaproxy() {
    frontPort_ = rt::pickFreePort();
    writeFile(dir_.file("haproxy.cfg"),
              "global\n    stats socket " + dir_.file("haproxy.sock") +
                  " mode 600 level admin\ndefaults\n    mode http\n    timeout connect 2s\n"
                  "    timeout client 10s\n    timeout server 10s\n"
                  "    option http-server-close\nfrontend fe_shop\n    bind 127.0.0.1:" +
                  std::to_string(frontPort_) +
                  "\n    default_backend be_shop\nbackend be_shop\n    balance roundrobin\n");
    auto p = rt::Process::start(
        {{"haproxy", "-db", "-f", dir_.file("haproxy.cfg")}, {}, dir_.file("haproxy.log"), ""});
    ASSERT_TRUE(p) << p.error().message;
    haproxy_ = std::move(*p);
    ASSERT_TRUE(waitUntil([&] { return rt::httpGet(front()).has_value(); }, 10s))
        << haproxy_->log();
  }
  std::string front() const { return "http://127.0.0.1:" + std::to_string(frontPort_) + "/"; }

  // `n` GETs through HAProxy, counted by answer ("v1", "v2", "503", "transport error").
  std::map<std::string, int> traffic(int n = 30) const {
    std::map<std::string, int> answers;
    for (int i = 0; i < n; ++i) {
      auto r = rt::httpGet(front());
      if (!r) {
        ++answers["transport error"];
      } else if (r->status != 200) {
        ++answers[std::to_string(r->status)];
      } else {
        ++answers[r->body.substr(0, r->body.find('\n'))];
      }
    }
    return answers;
  }
  static std::string show(const std::map<std::string, int>& answers) {
    std::string out;
    for (const auto& [k, v] : answers) out += k + ": " + std::to_string(v) + "  ";
    return out;
  }

  rt::CliResult cli(const std::vector<std::string>& args, const char* token = kAdmin) const {
    return rt::runRamp(dir_, args, serve_->url(), token);
  }
  json getJson(const std::vector<std::string>& args) const {
    auto r = cli(args);
    auto j = json::parse(r.out, nullptr, false);
    return r.code == 0 && j.is_object() ? j : json::object();
  }
  json rollout() const { return getJson({"get", "rollout", "shop", "-o", "json"}); }
  json app() const { return getJson({"app", "get", "shop-prod", "-n", "argocd", "-o", "json"}); }
  static std::string image(const json& r) {
    return r.is_object() && r.contains("spec")
               ? r["spec"]["template"]["spec"]["containers"][0].value("image", "")
               : "";
  }
  static std::string phase(const json& r) {
    return r.contains("status") ? r["status"].value("phase", "") : "";
  }
  // The Rollout runs `tag` alone: spec, Healthy, and HAProxy answers only `tag`.
  bool settledOn(const std::string& tag) const {
    const json r = rollout();
    if (image(r) != "ramp/demo-service:" + tag || phase(r) != "Healthy") return false;
    const auto answers = traffic(20);
    return answers.size() == 1 && answers.begin()->first == tag;
  }
  std::string state() const {
    const json r = rollout();
    return "rollout " + image(r) + " " + phase(r) + "; traffic " + show(traffic(20)) +
           "\napp: " + app().dump() + "\nserve log:\n" + serve_->log();
  }

  rt::TempDir dir_{"ramp-gitops-e2e"};
  int frontPort_ = 0;
  std::unique_ptr<rt::Process> haproxy_;
  std::unique_ptr<testing::GitDaemon> daemon_;
  std::unique_ptr<rt::RampDaemon> serve_;
};

TEST_F(GitopsProcessE2E, ReleasesFromGitBehindHaproxyRollsBackByRevertHealsDriftAndHonoursAWindow) {
  // 1. The Application (auto-sync with selfHeal) syncs v1, which takes all the traffic.
  writeFile(dir_.file("app.yaml"),
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: shop-prod, "
            "namespace: argocd}\nspec:\n  source: {repoURL: \"" +
                daemon_->url("shop.git") +
                "\", path: environments/prod, targetRevision: main}\n"
                "  destination: {namespace: default}\n"
                "  syncPolicy: {automated: {selfHeal: true}}\n");
  auto applied = cli({"apply", "-f", dir_.file("app.yaml")});
  ASSERT_EQ(applied.code, 0) << applied.out << applied.err;
  ASSERT_TRUE(waitUntil([&] { return settledOn("v1"); }, 60s)) << state();

  // 2. A commit changing the image: a canary at 50%, paused; HAProxy serves both versions.
  const std::string c2 = commit("v2", "shop v2");
  ASSERT_EQ(cli({"app", "refresh", "shop-prod", "-n", "argocd"}, kOperator).code, 0);
  ASSERT_TRUE(waitUntil(
      [&] {
        const json r = rollout();
        if (image(r) != "ramp/demo-service:v2" || phase(r) != "Paused") return false;
        const auto answers = traffic(30);
        return answers.contains("v1") && answers.contains("v2");
      },
      60s))
      << state();
  EXPECT_EQ(app()["status"]["sync"].value("revision", ""), c2);

  // 3. The operator rolls back: a revert commit by bob on main, synced; the canary goes away.
  auto rollback =
      cli({"app", "rollback", "shop-prod", "-n", "argocd", "--reason", "v2 is slow in checkout"},
          kOperator);
  ASSERT_EQ(rollback.code, 0) << rollback.out << rollback.err;
  ASSERT_TRUE(waitUntil([&] { return settledOn("v1"); }, 60s)) << state();
  const std::string head =
      sh("git --git-dir=" + dir_.file("srv") + "/shop.git log -1 --format='%an|%P|%s' main");
  EXPECT_EQ(head.substr(0, head.find('|')), "bob") << head;
  EXPECT_NE(head.find("|" + c2 + "|Roll back environments/prod to "), std::string::npos) << head;
  const std::string revert = sh("git --git-dir=" + dir_.file("srv") + "/shop.git rev-parse main");
  EXPECT_EQ(app()["status"]["sync"].value("revision", ""), revert);
  const auto afterRollback = traffic(40);
  EXPECT_EQ(afterRollback.size(), 1u) << show(afterRollback);
  EXPECT_EQ(afterRollback.count("v1"), 1u) << show(afterRollback);

  // 4. Someone changes the image behind Git's back; selfHeal puts Git's back (a new history
  // entry: the same revision, synced again by the agent).
  const size_t synced = app()["status"]["history"].size();
  auto drift = cli({"set", "image", "shop", "app=ramp/demo-service:v9"});
  ASSERT_EQ(drift.code, 0) << drift.out << drift.err;
  ASSERT_TRUE(waitUntil([&] { return settledOn("v1"); }, 60s)) << state();
  const json healed = app();
  EXPECT_EQ(healed["status"]["sync"].value("status", ""), "Synced") << state();
  ASSERT_EQ(healed["status"]["history"].size(), synced + 1) << healed.dump();
  EXPECT_EQ(healed["status"]["history"].back().value("revision", ""), revert);
  EXPECT_TRUE(healed["status"]["history"].back()["initiatedBy"].value("automated", false))
      << healed.dump();
  EXPECT_EQ(traffic(40).count("v9"), 0u);

  // 5. A deny window: neither the auto-sync of a new commit nor an operator's sync happens.
  writeFile(dir_.file("project.yaml"),
            "apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata: {name: default, "
            "namespace: argocd}\nspec:\n  sourceRepos: ['*']\n  destinations: [{namespace: "
            "'*', server: '*'}]\n  syncWindows:\n  - {kind: deny, schedule: '* * * * *', "
            "duration: 1h, applications: ['*'], description: release freeze}\n");
  auto project = cli({"apply", "-f", dir_.file("project.yaml")});
  ASSERT_EQ(project.code, 0) << project.out << project.err;
  sh(git() + " pull -q --ff-only " + dir_.file("srv") + "/shop.git main");  // has the revert
  const std::string c3 = commit("v3", "shop v3");
  ASSERT_EQ(cli({"app", "refresh", "shop-prod", "-n", "argocd"}, kOperator).code, 0);
  auto condition = [&](const std::string& type) {
    const json a = app();
    if (!a.contains("status") || !a["status"].contains("conditions")) return std::string();
    for (const json& c : a["status"]["conditions"]) {
      if (c.value("type", "") == type) return c.value("message", "");
    }
    return std::string();
  };
  ASSERT_TRUE(waitUntil(
      [&] {
        return app()["status"]["sync"].value("revision", "") == c3 &&
               condition("SyncError").find("blocked by sync window") != std::string::npos;
      },
      30s))
      << state();
  EXPECT_EQ(app()["status"]["sync"].value("status", ""), "OutOfSync");
  auto sync = cli({"app", "sync", "shop-prod", "-n", "argocd"}, kOperator);
  ASSERT_EQ(sync.code, 0) << sync.out << sync.err;
  ASSERT_TRUE(waitUntil(
      [&] {
        const json a = app();
        return a.contains("status") && a["status"].contains("operationState") &&
               a["status"]["operationState"].value("phase", "") == "Failed" &&
               a["status"]["operationState"].value("message", "").find("blocked by sync window") !=
                   std::string::npos;
      },
      30s))
      << state();
  EXPECT_TRUE(settledOn("v1")) << state();
}

}  // namespace
}  // namespace ramp::gitops
