#include "traffic/haproxy/server_state.h"

#include <gtest/gtest.h>

#include "traffic/haproxy/runtime_api.h"

namespace ramp::traffic::haproxy {
namespace {

// Captured from HAProxy 2.6.12 (`show servers state be_app`, one server in maintenance).
constexpr std::string_view kState =
    "1\n"
    "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight "
    "srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health "
    "srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord "
    "srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n"
    "3 be_app 1 ramp-a 127.0.0.1 0 1 20 10 0 1 0 0 0 0 0 0 - 28083 - 0 0 - - 0\n"
    "3 be_app 2 ramp-b 127.0.0.1 2 0 30 10 0 1 0 0 0 0 0 0 - 28082 - 0 0 - - 0\n";

TEST(ServerStateTest, ParsesHaproxy26Output) {
  auto servers = parseServersState(kState);
  ASSERT_TRUE(servers) << servers.error().message;
  ASSERT_EQ(servers->size(), 2u);
  EXPECT_EQ((*servers)[0], (ServerState{"be_app", "ramp-a", "127.0.0.1", 0, 1, 20, 10, 28083}));
  EXPECT_TRUE((*servers)[0].inMaintenance());
  EXPECT_EQ((*servers)[1].name, "ramp-b");
  EXPECT_EQ((*servers)[1].userWeight, 30);
  EXPECT_FALSE((*servers)[1].inMaintenance());
}

TEST(ServerStateTest, EmptyBackendHasNoServers) {
  auto servers = parseServersState(std::string(kState.substr(0, kState.find("3 be_app"))));
  ASSERT_TRUE(servers);
  EXPECT_TRUE(servers->empty());
}

TEST(ServerStateTest, UnknownBackendIsNotFound) {
  auto servers = parseServersState("Can't find backend.\n");
  ASSERT_FALSE(servers);
  EXPECT_EQ(servers.error().code, ErrorCode::kNotFound);
}

TEST(ServerStateTest, MalformedRepliesNameTheLine) {
  struct Case {
    std::string text;
    std::string expect;
  } cases[] = {
      {"", "line 1: empty reply"},
      {"2\n# be_id\n", "line 1: expected format version"},
      {"1\nbe_id be_name\n", "line 2: expected the"},
      {"1\n# be_id be_name srv_name\n", "line 2: header lacks column"},
      {std::string(kState) + "3 be_app 3 short\n", "line 5: expected 25 fields, got 4"},
      {std::string(kState.substr(0, kState.find("3 be_app"))) +
           "3 be_app 1 x 127.0.0.1 0 1 abc 10 0 1 0 0 0 0 0 0 - 1 - 0 0 - - 0\n",
       "line 3: srv_uweight is not a number"},
  };
  for (const auto& c : cases) {
    auto servers = parseServersState(c.text);
    ASSERT_FALSE(servers) << c.text;
    EXPECT_EQ(servers.error().code, ErrorCode::kParse);
    EXPECT_NE(servers.error().message.find(c.expect), std::string::npos) << servers.error().message;
  }
}

TEST(ShowStatTest, ParsesRowsByColumnName) {
  std::string reply =
      "# pxname,svname,qcur,status,weight,stot,lbtot,\n"
      "be_app,ramp-a,0,UP,20,15,14,\n"
      "be_app,BACKEND,0,UP,20,15,,\n";
  auto rows = parseShowStat(reply);
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0], (StatRow{"be_app", "ramp-a", "UP", 20, 15, 14}));
  EXPECT_EQ((*rows)[1].lbTotal, 0);
  EXPECT_FALSE(parseShowStat("garbage"));
  EXPECT_FALSE(parseShowStat("# pxname,svname,status,weight,stot,lbtot,\nbe,x,UP,1\n"));
  EXPECT_FALSE(parseShowStat("# pxname,svname,status,weight,stot,lbtot,\nbe,x,UP,one,1,1,\n"));
}

TEST(RuntimeApiAddressTest, Forms) {
  EXPECT_EQ(parseRuntimeApiAddress("unix:/run/haproxy.sock")->unixPath, "/run/haproxy.sock");
  EXPECT_EQ(parseRuntimeApiAddress("/run/haproxy.sock")->unixPath, "/run/haproxy.sock");
  auto tcp = parseRuntimeApiAddress("127.0.0.1:9999");
  ASSERT_TRUE(tcp);
  EXPECT_EQ(tcp->host, "127.0.0.1");
  EXPECT_EQ(tcp->port, 9999);
  EXPECT_EQ(tcp->describe(), "127.0.0.1:9999");
  EXPECT_EQ(parseRuntimeApiAddress("tcp:localhost:1")->host, "localhost");
  auto v6 = parseRuntimeApiAddress("[::1]:80");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->describe(), "[::1]:80");
  for (const char* bad : {"", "localhost", "host:", "host:0", "host:70000", "[::1]80", ":80"}) {
    EXPECT_FALSE(parseRuntimeApiAddress(bad)) << bad;
  }
}

}  // namespace
}  // namespace ramp::traffic::haproxy
