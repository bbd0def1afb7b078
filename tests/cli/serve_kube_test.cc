// `ramp serve`'s Kubernetes client flags (src/cli/serve_kube.cc): --qps and --burst reach the
// client, with Argo's defaults; a bad value is a usage error naming the flag, before anything
// starts.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/cli.h"
#include "cli/serve.h"
#include "kube/client.h"

namespace ramp::cli {
namespace {

std::string kubeconfigFile() {
  const auto path = std::filesystem::temp_directory_path() /
                    ("ramp-serve-kube-test-" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(path) << R"(apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}
users:
- name: u
  user: {token: t}
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
)";
  return path.string();
}

TEST(ServeKubeFlags, QpsAndBurstReachTheClientWithArgosDefaults) {
  ServeOptions options;
  CLI::App app;
  configureKubeFlags(app, options);
  const std::string file = kubeconfigFile();
  app.parse("--burst 300 --qps 150.5 --kubeconfig " + file, false);
  auto client = connectKube(options, realClock());
  ASSERT_TRUE(client && *client) << (client ? "no client" : client.error().message);
  EXPECT_EQ((*client)->options().qps, 150.5);
  EXPECT_EQ((*client)->options().burst, 300);

  ServeOptions defaults;
  CLI::App plain;
  configureKubeFlags(plain, defaults);
  plain.parse("--kubeconfig " + file, false);
  auto argo = connectKube(defaults, realClock());
  ASSERT_TRUE(argo && *argo);
  EXPECT_EQ((*argo)->options().qps, 40);  // Argo Rollouts' --qps and --burst defaults
  EXPECT_EQ((*argo)->options().burst, 80);
  std::filesystem::remove(file);
}

TEST(ServeKubeFlags, ANonPositiveRateIsAUsageErrorNamingTheFlag) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"serve", "--qps", "0"},
        std::vector<std::string>{"serve", "--burst", "-1"}}) {
    std::ostringstream out, err;
    IoStreams io{out, err, false};
    EXPECT_EQ(runCli(args, io), 2) << args[1];
    EXPECT_NE(err.str().find(args[1]), std::string::npos) << err.str();
  }
}

}  // namespace
}  // namespace ramp::cli
