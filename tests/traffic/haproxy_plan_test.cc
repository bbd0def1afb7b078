#include <gtest/gtest.h>

#include "fakes/simulated_clock.h"

#include "traffic/haproxy/haproxy_router.h"

namespace ramp::traffic::haproxy {
namespace {

HaproxyConfig config() {
  return HaproxyConfig{"/tmp/none.sock", "be_app", "ramp-", 256, 100, "", ""};
}

RevisionEndpoints revision(std::string hash, int n, int firstPort, int readyCount = -1) {
  RevisionEndpoints r{hash, {}};
  for (int i = 0; i < n; ++i) {
    r.endpoints.push_back({"app-" + hash + "-" + std::to_string(i), "127.0.0.1", firstPort + i,
                           readyCount < 0 || i < readyCount});
  }
  return r;
}

ServerState state(std::string name, int port, int weight, int admin = 0) {
  return ServerState{"be_app", std::move(name), "127.0.0.1", admin == 0 ? 2 : 0,
                     admin,    weight,          weight,      port};
}

TEST(ServerNameTest, UsesHashOnceAndSanitizes) {
  EXPECT_EQ(serverName("ramp-", "6f9c", "demo-6f9c-0"), "ramp-demo-6f9c-0");
  EXPECT_EQ(serverName("ramp-", "6f9c", "replica 0"), "ramp-6f9c-replica_0");
  EXPECT_EQ(serverName("p", "", "a/b"), "p-a_b");
}

TEST(PlanServersTest, WeightsPerServerMatchTheSplit) {
  auto plan = planServers(config(), revision("s1", 2, 1000), revision("c1", 1, 2000), {}, 10, 100);
  ASSERT_TRUE(plan) << plan.error().message;
  ASSERT_EQ(plan->servers.size(), 3u);
  // 10% with 2 stable and 1 canary: totals 504 : 56 = 90 : 10, spread 252 + 252 and 56.
  EXPECT_EQ(plan->servers[0],
            (DesiredServer{"ramp-app-s1-0", "127.0.0.1", 1000, true, false, 252}));
  EXPECT_EQ(plan->servers[1].weight, 252);
  EXPECT_EQ(plan->servers[2], (DesiredServer{"ramp-app-c1-0", "127.0.0.1", 2000, true, true, 56}));
}

// backendFile: the backend section HAProxy starts with, exactly the planned servers.
TEST(BackendFileTest, HoldsEveryPlannedServerWithItsWeightAndState) {
  auto plan =
      planServers(config(), revision("s1", 2, 1000), revision("c1", 2, 2000, 1), {}, 10, 100);
  ASSERT_TRUE(plan) << plan.error().message;
  const std::string text = renderBackendFile(config(), plan->servers);
  EXPECT_TRUE(text.starts_with("# Managed by ramp (ramp/haproxy); do not edit.")) << text;
  EXPECT_NE(text.find("\nbackend be_app\n"
                      "    server ramp-app-s1-0 127.0.0.1:1000 weight 252\n"
                      "    server ramp-app-s1-1 127.0.0.1:1001 weight 252\n"
                      "    server ramp-app-c1-0 127.0.0.1:2000 weight 56\n"
                      "    server ramp-app-c1-1 127.0.0.1:2001 weight 0 disabled\n"),
            std::string::npos)
      << text;
  EXPECT_TRUE(renderBackendFile(config(), {}).ends_with("\nbackend be_app\n"));
  DesiredServer v6{"ramp-x", "::1", 80, true, false, 7};
  EXPECT_NE(renderBackendFile(config(), {v6}).find("server ramp-x [::1]:80 weight 7\n"),
            std::string::npos);
}

TEST(PlanServersTest, NotReadyServersGetNoWeightAndSameHashMeansNoCanary) {
  auto plan =
      planServers(config(), revision("s1", 3, 1000, 2), revision("c1", 2, 2000, 0), {}, 40, 100);
  ASSERT_TRUE(plan);
  EXPECT_FALSE(plan->satisfied);  // the canary has no ready replica
  EXPECT_EQ(plan->servers[2].weight, 0);
  EXPECT_EQ(plan->servers[3].weight, 0);
  EXPECT_GT(plan->servers[0].weight, 0);

  auto promoted =
      planServers(config(), revision("s1", 2, 1000), revision("s1", 2, 1000), {}, 0, 100);
  ASSERT_TRUE(promoted);
  EXPECT_EQ(promoted->servers.size(), 2u);
  EXPECT_TRUE(promoted->satisfied);

  RevisionEndpoints dup{"s1", {{"x", "127.0.0.1", 1, true}, {"x", "127.0.0.1", 2, true}}};
  EXPECT_EQ(planServers(config(), dup, revision("c1", 1, 5), {}, 0, 100).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(planServers(config(), revision("s1", 1, 1, 0), revision("c1", 1, 5, 0), {}, 0, 100)
                .error()
                .code,
            ErrorCode::kFailedPrecondition);
}

// After a restart HAProxy's backend is empty: the plan adds and enables every server.
TEST(PlanCommandsTest, EmptyBackendGetsEveryServerAddedAndEnabled) {
  std::vector<DesiredServer> desired = {{"ramp-a", "127.0.0.1", 1000, true, false, 200},
                                        {"ramp-b", "127.0.0.1", 1001, false, true, 0}};
  auto cmds = planCommands("be_app", "ramp-", {}, desired);
  std::vector<RuntimeCommand> expect = {
      {"add server be_app/ramp-a 127.0.0.1:1000 weight 200"},
      {"set server be_app/ramp-a state ready"},
      {"add server be_app/ramp-b 127.0.0.1:1001 weight 0"},
  };
  EXPECT_EQ(cmds, expect);
  EXPECT_FALSE(diffServers("ramp-", {}, desired).empty());
}

TEST(PlanCommandsTest, ConvergedBackendNeedsNothing) {
  std::vector<DesiredServer> desired = {{"ramp-a", "127.0.0.1", 1000, true, false, 200},
                                        {"ramp-b", "127.0.0.1", 1001, false, true, 0}};
  std::vector<ServerState> actual = {state("ramp-a", 1000, 200), state("ramp-b", 1001, 0, 1),
                                     state("static-web", 80, 10)};
  EXPECT_TRUE(planCommands("be_app", "ramp-", actual, desired).empty());
  EXPECT_TRUE(diffServers("ramp-", actual, desired).empty());
}

// Traffic never points at nothing: growth first, then shrinking, then removal of old servers.
TEST(PlanCommandsTest, OrdersGrowthBeforeShrinkBeforeRemoval) {
  std::vector<DesiredServer> desired = {{"ramp-s", "127.0.0.1", 1000, true, false, 100},
                                        {"ramp-c", "127.0.0.1", 2000, true, true, 200},
                                        {"ramp-n", "127.0.0.1", 3000, true, true, 50}};
  std::vector<ServerState> actual = {state("ramp-s", 1000, 256), state("ramp-c", 2001, 10),
                                     state("ramp-old", 4000, 20), state("other", 80, 5)};
  auto cmds = planCommands("be_app", "ramp-", actual, desired);
  std::vector<RuntimeCommand> expect = {
      {"add server be_app/ramp-n 127.0.0.1:3000 weight 50"},
      {"set server be_app/ramp-n state ready"},
      {"set server be_app/ramp-c addr 127.0.0.1 port 2000"},
      {"set weight be_app/ramp-c 200"},
      {"set weight be_app/ramp-s 100"},
      {"set server be_app/ramp-old state maint"},
      {"del server be_app/ramp-old", false},
  };
  EXPECT_EQ(cmds, expect);
  auto diffs = diffServers("ramp-", actual, desired);
  EXPECT_EQ(diffs.size(), 5u);  // n missing, c address, c weight, s weight, old takes traffic
}

TEST(PlanCommandsTest, ReadinessFlipsUseServerState) {
  std::vector<DesiredServer> desired = {{"ramp-a", "127.0.0.1", 1, false, false, 0},
                                        {"ramp-b", "127.0.0.1", 2, true, false, 10}};
  std::vector<ServerState> actual = {state("ramp-a", 1, 0), state("ramp-b", 2, 10, 1)};
  auto cmds = planCommands("be_app", "ramp-", actual, desired);
  std::vector<RuntimeCommand> expect = {{"set server be_app/ramp-b state ready"},
                                        {"set server be_app/ramp-a state maint"}};
  EXPECT_EQ(cmds, expect);
  // A drained server is not in rotation either.
  EXPECT_FALSE(
      diffServers("ramp-", {state("ramp-a", 1, 0, 1), state("ramp-b", 2, 10, 0x10)}, desired)
          .empty());
}

// Blue-green before promotion: the active (stable) takes everything, the preview's servers sit
// in the backend at weight 0; the previous active, draining, is kept at weight 0 too.
TEST(PlanServersTest, DrainingRevisionsStayAtWeightZero) {
  const RevisionEndpoints draining[] = {revision("old", 2, 3000, 1), revision("s1", 2, 1000)};
  auto plan =
      planServers(config(), revision("s1", 2, 1000), revision("c1", 1, 2000), draining, 0, 100);
  ASSERT_TRUE(plan) << plan.error().message;
  std::vector<DesiredServer> want = {
      {"ramp-app-s1-0", "127.0.0.1", 1000, true, false, 256},
      {"ramp-app-s1-1", "127.0.0.1", 1001, true, false, 256},
      {"ramp-app-c1-0", "127.0.0.1", 2000, true, true, 0},
      {"ramp-app-old-0", "127.0.0.1", 3000, true, false, 0},    // draining: no new requests
      {"ramp-app-old-1", "127.0.0.1", 3001, false, false, 0}};  // (s1 listed again: once)
  EXPECT_EQ(plan->servers, want);
  EXPECT_TRUE(plan->satisfied);
}

// The preview backend holds the canary's replicas alone, the stable's when there is no canary.
TEST(PlanPreviewServersTest, HoldsTheCanaryAloneAtFullWeight) {
  struct Row {
    std::string canaryHash;
    std::vector<std::string> want;
  };
  const Row rows[] = {
      {"c1", {"ramp-app-c1-0:256", "ramp-app-c1-1:0"}},  // preview: c1 (one not ready)
      {"", {"ramp-app-s1-0:256", "ramp-app-s1-1:256"}},  // no preview yet: the active's
  };
  for (const Row& row : rows) {
    RevisionEndpoints canary =
        row.canaryHash.empty() ? RevisionEndpoints{} : revision(row.canaryHash, 2, 2000, 1);
    auto servers = planPreviewServers(config(), revision("s1", 2, 1000), canary);
    ASSERT_TRUE(servers) << servers.error().message;
    std::vector<std::string> got;
    for (const auto& s : *servers) got.push_back(s.name + ":" + std::to_string(s.weight));
    EXPECT_EQ(got, row.want) << "canary " << row.canaryHash;
  }
}

// The blue-green switch over two backends: every add first, then one run of silent commands
// (the active backend's weights and the preview backend's) that batchCommands makes one line,
// then the removals.
TEST(PlanCommandsTest, ASwitchAcrossBackendsIsOneBatch) {
  const BackendChange changes[] = {
      {"be_active",
       {state("ramp-v1", 1000, 256), state("ramp-v2", 2000, 0)},
       {{"ramp-v1", "127.0.0.1", 1000, true, false, 0},
        {"ramp-v2", "127.0.0.1", 2000, true, false, 256}}},
      {"be_preview",
       {state("ramp-v1", 1000, 256)},
       {{"ramp-v2", "127.0.0.1", 2000, true, true, 256}}},
  };
  auto cmds = planCommands(changes, "ramp-");
  std::vector<RuntimeCommand> want = {
      {"add server be_preview/ramp-v2 127.0.0.1:2000 weight 256"},
      {"set server be_preview/ramp-v2 state ready"},
      {"set weight be_active/ramp-v2 256"},
      {"set weight be_active/ramp-v1 0"},
      {"set server be_preview/ramp-v1 state maint"},
      {"del server be_preview/ramp-v1", false},
  };
  EXPECT_EQ(cmds, want);
  auto lines = batchCommands(cmds);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].size(), 1u);  // add server answers with text: a line of its own
  EXPECT_EQ(lines[1].size(), 4u);  // ready, the switch, maint: one line
  EXPECT_EQ(lines[2], (std::vector<RuntimeCommand>{{"del server be_preview/ramp-v1", false}}));
}

TEST(BatchCommandsTest, OnlySilentCommandsShareALine) {
  struct Row {
    std::string line;
    bool silent;
  };
  const Row rows[] = {{"set weight be/a 10", true},
                      {"set server be/a state ready", true},
                      {"set server be/a state maint", true},
                      {"set server be/a addr 127.0.0.1 port 2", false},
                      {"add server be/a 127.0.0.1:1 weight 0", false},
                      {"del server be/a", false},
                      {"show servers state be", false}};
  for (const Row& row : rows) EXPECT_EQ(silentOnSuccess(row.line), row.silent) << row.line;
  EXPECT_TRUE(batchCommands({}).empty());
  // A switch of very many servers is cut into lines HAProxy's buffer holds.
  std::vector<RuntimeCommand> many;
  for (int i = 0; i < 400; ++i)
    many.push_back({"set weight be_app/ramp-s" + std::to_string(i) + " 0"});
  auto lines = batchCommands(many);
  ASSERT_GT(lines.size(), 1u);
  size_t total = 0;
  for (const auto& line : lines) {
    size_t length = 0;
    for (const auto& c : line) length += c.line.size() + 2;
    EXPECT_LE(length, kMaxBatchLine + 2);
    total += line.size();
  }
  EXPECT_EQ(total, many.size());
}

TEST(BackendFileTest, HoldsThePreviewBackendToo) {
  HaproxyConfig c = config();
  c.previewBackend = "be_preview";
  const std::vector<DesiredServer> main = {{"ramp-a", "127.0.0.1", 1, true, false, 256}};
  const std::vector<DesiredServer> preview = {{"ramp-b", "127.0.0.1", 2, true, true, 256}};
  const std::string text = renderBackendFile(c, main, preview);
  EXPECT_NE(text.find("backend be_app\n    server ramp-a 127.0.0.1:1 weight 256\n"
                      "backend be_preview\n    server ramp-b 127.0.0.1:2 weight 256\n"),
            std::string::npos)
      << text;
}

TEST(HaproxyRouterTest, UnsupportedRoutesAndConfigErrors) {
  ramp::testing::SimulatedClock clock_;
  auto router =
      HaproxyRouter::create(R"({"runtimeApi":"/nonexistent.sock","backend":"be"})", 100, clock_);
  ASSERT_TRUE(router);
  EXPECT_EQ((*router)->type(), "ramp/haproxy");
  EXPECT_EQ((*router)->setHeaderRoute({"h", {}}).error().code, ErrorCode::kUnsupported);
  EXPECT_EQ((*router)->setMirrorRoute({"m", {}, {}}).error().code, ErrorCode::kUnsupported);
  EXPECT_TRUE((*router)->removeManagedRoutes());
  EXPECT_EQ(HaproxyRouter::create(R"({"backend":"be"})", 100, clock_).error().code,
            ErrorCode::kInvalidArgument);
  // Before any sync nothing can be verified; an unreachable HAProxy is an Error naming it.
  EXPECT_EQ((*router)->verifyWeight(0, {}).value(), WeightCheck::kNotYet);
  auto st = (*router)->syncEndpoints(revision("s", 1, 1000), revision("c", 1, 2000), {});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(st.error().message.find("unix:/nonexistent.sock"), std::string::npos)
      << st.error().message;
  EXPECT_EQ((*router)->setWeight(101, {}).error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace ramp::traffic::haproxy
