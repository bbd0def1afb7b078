// The audit log of a real daemon: `ramp audit keygen`, then `ramp serve --audit-key` on the
// simulated platform with its API on a run-time port, a short canary release driven through the
// CLI (apply, set image, promote by a user), and `ramp audit verify|show|export` against the
// server (as an auditor, who cannot act) and against the data directory once it stopped.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "harness/harness.h"
#include "harness/ramp_daemon.h"

namespace {

using namespace std::chrono_literals;
namespace rt = ramp::testing;

constexpr const char* kAdmin = "admin-token-0123456789abcdef";
constexpr const char* kAuditor = "auditor-token-0123456789abcd";
constexpr const char* kRollout = R"(apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: web
  namespace: shop
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: web:v1
  strategy:
    canary:
      steps:
      - setWeight: 25
      - pause: {}
      - setWeight: 75
)";

class AuditServe : public ::testing::Test {
 protected:
  // `ramp ARGS…` (against the server when `token` is given); exit code and stdout+stderr.
  std::pair<int, std::string> ramp(const std::vector<std::string>& args,
                                   const std::string& token = "") {
    rt::CliResult r = rt::runRamp(dir_, args, token.empty() ? "" : serve_->url(), token);
    return {r.code, r.out + r.err};
  }

  // `ramp serve` on platform.sim with its API on a run-time port, plus `extra` flags.
  void startServe(const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"--platform", "platform.sim"};
    args.insert(args.end(), extra.begin(), extra.end());
    serve_ = std::make_unique<rt::RampDaemon>(dir_, args);
    ASSERT_FALSE(serve_->url().empty()) << serve_->log();
  }

  std::string phase() {
    auto [code, out] = ramp({"get", "rollout", "web", "-n", "shop", "-o", "json"}, kAdmin);
    auto j = nlohmann::json::parse(out, nullptr, false);
    return j.is_object() && j.contains("status") ? j["status"].value("phase", "") : "";
  }

  rt::TempDir dir_{"ramp-audit-serve"};
  std::unique_ptr<rt::RampDaemon> serve_;
};

TEST_F(AuditServe, ARealReleaseLeavesALogThatVerifies) {
  auto keygen = ramp({"audit", "keygen", "--out", dir_.file("audit.key")});
  ASSERT_EQ(keygen.first, 0) << keygen.second;
  EXPECT_EQ(keygen.second.find("PRIVATE KEY"), std::string::npos) << "a secret was printed";
  struct stat st {};
  ASSERT_EQ(::stat(dir_.file("audit.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_NE(ramp({"audit", "keygen", "--out", dir_.file("audit.key")}).first, 0);  // no overwrite

  std::ofstream(dir_.file("tokens.csv")) << kAdmin << ",alice,admin\n"
                                         << kAuditor << ",ada,auditor\n";
  startServe({"--tokens", dir_.file("tokens.csv"), "--audit-key", dir_.file("audit.key"),
              "--audit-checkpoint-ms", "300"});
  ASSERT_NE(serve_->log().find("audit log: records signed by key"), std::string::npos)
      << serve_->log();
  std::ofstream(dir_.file("web.yaml")) << kRollout;
  ASSERT_EQ(ramp({"apply", "-f", dir_.file("web.yaml")}, kAdmin).first, 0);
  auto healthy = ramp({"status", "web", "-n", "shop", "--timeout", "60s"}, kAdmin);
  ASSERT_EQ(healthy.first, 0) << healthy.second << serve_->log();
  ASSERT_EQ(ramp({"set", "image", "web", "web=web:v2", "-n", "shop"}, kAdmin).first, 0);
  for (int i = 0; i < 300 && phase() != "Paused"; ++i) std::this_thread::sleep_for(100ms);
  ASSERT_EQ(phase(), "Paused");

  // The auditor reads the log but cannot act.
  auto refused = ramp({"promote", "web", "-n", "shop"}, kAuditor);
  EXPECT_EQ(refused.first, 4) << refused.second;
  EXPECT_NE(refused.second.find("needs role operator; ada has role auditor"), std::string::npos)
      << refused.second;
  ASSERT_EQ(ramp({"promote", "web", "-n", "shop"}, kAdmin).first, 0);
  ASSERT_EQ(ramp({"status", "web", "-n", "shop", "--timeout", "60s"}, kAdmin).first, 0);

  auto live = ramp({"audit", "verify"}, kAuditor);
  EXPECT_EQ(live.first, 0) << live.second;
  EXPECT_NE(live.second.find("from the server (pin it with --public-key"), std::string::npos)
      << live.second;
  auto show = ramp({"audit", "show", "web", "-n", "shop"}, kAuditor);
  ASSERT_EQ(show.first, 0) << show.second;
  EXPECT_NE(show.second.find("promote by alice (user, api)  RolloutPromoted"), std::string::npos)
      << show.second;
  // The set image names the image it replaced.
  EXPECT_NE(show.second.find("set-image by alice (user, api)  RolloutImageSet"), std::string::npos)
      << show.second;
  EXPECT_NE(show.second.find("previous: image web:v1"), std::string::npos) << show.second;
  EXPECT_NE(show.second.find("step by controller (controller)"), std::string::npos) << show.second;
  EXPECT_NE(show.second.find("image web:v2"), std::string::npos) << show.second;

  // The filters: the promotions as signed statements, then the records about one of their
  // subject digests, a time after everything, and a digest that is no digest.
  auto promotions =
      ramp({"audit", "show", "--rollout", "web", "-n", "shop", "--action", "promote", "-o", "json"},
           kAuditor);
  ASSERT_EQ(promotions.first, 0) << promotions.second;
  auto records = nlohmann::json::parse(promotions.second, nullptr, false);
  ASSERT_TRUE(records.is_array() && !records.empty()) << promotions.second;
  for (const auto& r : records) {
    EXPECT_EQ(r["statement"]["predicate"]["action"], "promote") << r.dump();
    EXPECT_EQ(r["statement"]["predicate"]["actor"]["id"], "alice") << r.dump();
    EXPECT_GE(r["signatures"].get<int>(), 1) << r.dump();
  }
  const std::string objectDigest = records[0]["statement"]["subject"][0]["digest"]["sha256"];
  auto byDigest =
      ramp({"audit", "show", "--digest", "sha256:" + objectDigest, "-n", "shop"}, kAuditor);
  ASSERT_EQ(byDigest.first, 0) << byDigest.second;
  EXPECT_NE(byDigest.second.find("#" + std::to_string(records[0]["index"].get<int64_t>()) + "  "),
            std::string::npos)
      << byDigest.second;
  EXPECT_NE(byDigest.second.find("promote by alice"), std::string::npos) << byDigest.second;
  auto future =
      ramp({"audit", "show", "web", "-n", "shop", "--since", "2099-01-01T00:00:00Z"}, kAuditor);
  ASSERT_EQ(future.first, 0) << future.second;
  EXPECT_NE(future.second.find("  none"), std::string::npos) << future.second;
  auto badDigest = ramp({"audit", "show", "--digest", "web:v2"}, kAuditor);
  EXPECT_EQ(badDigest.first, 2) << badDigest.second;
  EXPECT_NE(badDigest.second.find("--digest web:v2: not a SHA-256 digest"), std::string::npos)
      << badDigest.second;

  EXPECT_EQ(serve_->stop(), 0);  // SIGTERM: drains and signs a last checkpoint
  EXPECT_NE(serve_->log().find("stopped"), std::string::npos);
  auto offline = ramp({"audit", "verify", "--data-dir", dir_.file("data"), "--public-key",
                       dir_.file("audit.key.pub")});
  EXPECT_EQ(offline.first, 0) << offline.second;
  EXPECT_NE(offline.second.find("every signature valid"), std::string::npos) << offline.second;
  EXPECT_EQ(offline.second.find("newer than the newest checkpoint"), std::string::npos)
      << offline.second;

  // Another key: every record is refused, naming record 0.
  ASSERT_EQ(ramp({"audit", "keygen", "--out", dir_.file("other.key")}).first, 0);
  auto forged = ramp({"audit", "verify", "--data-dir", dir_.file("data"), "--public-key",
                      dir_.file("other.key.pub")});
  EXPECT_EQ(forged.first, 1) << forged.second;
  EXPECT_NE(forged.second.find("FAILED at record 0"), std::string::npos) << forged.second;

  auto exported = ramp({"audit", "export", "--data-dir", dir_.file("data")});
  ASSERT_EQ(exported.first, 0) << exported.second;
  EXPECT_EQ(exported.second.rfind("{\"checkpoint\":", 0), 0u) << exported.second.substr(0, 200);
}

// Without --audit-key the daemon makes a key in its data dir at first start (mode 0600), signs
// with it, and keeps it across restarts: the log verifies, signed. (A log written unsigned by
// another writer is audit_log_test's: verify exits 3.)
TEST_F(AuditServe, WithoutAKeyTheDaemonMakesOneAtFirstStart) {
  startServe({});
  EXPECT_NE(serve_->log().find("audit log: made a signing key at first start"), std::string::npos)
      << serve_->log();
  struct stat st {};
  ASSERT_EQ(::stat(dir_.file("data/audit-key.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ofstream(dir_.file("web.yaml")) << kRollout;
  ASSERT_EQ(ramp({"apply", "-f", dir_.file("web.yaml")}, "none").first, 0);
  EXPECT_EQ(serve_->stop(), 0);
  const std::string firstLog = serve_->log();
  std::filesystem::remove(dir_.file("serve.log"));  // the log is appended to

  startServe({});
  EXPECT_EQ(serve_->log().find("made a signing key"), std::string::npos) << serve_->log();
  const auto keyLine = [](const std::string& log) {
    const size_t at = log.find("records signed by key ");
    return at == std::string::npos ? std::string() : log.substr(at, 40);
  };
  EXPECT_FALSE(keyLine(firstLog).empty()) << firstLog;
  EXPECT_EQ(keyLine(serve_->log()), keyLine(firstLog)) << "the same key after a restart";
  EXPECT_EQ(serve_->stop(), 0);
  auto verify = ramp({"audit", "verify", "--data-dir", dir_.file("data")});
  EXPECT_EQ(verify.first, 0) << verify.second;
  EXPECT_NE(verify.second.find("every signature valid"), std::string::npos) << verify.second;
}

}  // namespace
