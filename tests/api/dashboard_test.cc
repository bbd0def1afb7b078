// The dashboard's server side over real HTTP (an ApiServer on 127.0.0.1 port 0, memory store,
// simulated clock): the embedded web/ files at / without a token and with their security and
// caching headers, GET /api/v1/whoami for each role, and the tokens file re-read when it changes
// (a token revoked or downgraded without a restart; a malformed file keeps the previous tokens
// and its error names file:line, never a token). Unit tests of the asset table and routes too.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "api/api_server.h"
#include "api/auth.h"
#include "api/request.h"
#include "api/static_assets.h"
#include "common/http_client.h"
#include "fakes/simulated_clock.h"
#include "harness/harness.h"
#include "store/memory/memory_state_store.h"

namespace ramp::api {
namespace {

using nlohmann::json;

constexpr const char* kAdmin = "admin-token-0123456789abcdef";
constexpr const char* kOperator = "operator-token-0123456789abc";
constexpr const char* kViewer = "viewer-token-0123456789abcde";

std::string readSource(const std::string& relative) {
  std::ifstream in(ramp::testing::sourceDir() + "/" + relative, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// --- the asset table ---

TEST(StaticAssets, EveryFileOfWebIsEmbeddedByteForByte) {
  namespace fs = std::filesystem;
  const std::string web = ramp::testing::sourceDir() + "/web";
  size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(web)) {
    if (!entry.is_regular_file()) continue;
    std::string rel = "/" + fs::relative(entry.path(), web).generic_string();
    if (rel.find("/.") != std::string::npos) continue;
    ++files;
    const StaticAsset* a = findStaticAsset(rel);
    ASSERT_NE(a, nullptr) << rel << " is in web/ but not in the binary";
    // Not EXPECT_EQ: a mismatch would print both files.
    EXPECT_TRUE(a->body == readSource("web" + rel))
        << rel << " in the binary differs from the file: the build did not re-embed web/";
  }
  EXPECT_GE(files, 3u);
  EXPECT_EQ(staticAssets().size(), files);
}

TEST(StaticAssets, LookupContentTypesAndEtags) {
  const StaticAsset* index = findStaticAsset("/");
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index, findStaticAsset("/index.html"));
  EXPECT_EQ(index->contentType, "text/html; charset=utf-8");
  EXPECT_EQ(index->etag.size(), 34u);
  EXPECT_EQ(index->etag.front(), '"');
  for (const char* missing :
       {"", "/index.htm", "/../CMakeLists.txt", "/web/index.html", "/js/", "index.html"}) {
    EXPECT_EQ(findStaticAsset(missing), nullptr) << missing;
  }
  struct Case {
    const char* path;
    const char* type;
  };
  const Case cases[] = {
      {"/a.js", "text/javascript; charset=utf-8"},
      {"/x/b.mjs", "text/javascript; charset=utf-8"},
      {"/s.css", "text/css; charset=utf-8"},
      {"/i.svg", "image/svg+xml"},
      {"/p.png", "image/png"},
      {"/d.json", "application/json"},
      {"/noext", "application/octet-stream"},
      {"/js", "application/octet-stream"},
  };
  for (const Case& c : cases) EXPECT_EQ(contentTypeFor(c.path), c.type) << c.path;
  EXPECT_TRUE(etagMatches("\"abc\"", "\"abc\""));
  EXPECT_TRUE(etagMatches("W/\"abc\"", "\"abc\""));
  EXPECT_TRUE(etagMatches("\"x\", \"abc\"", "\"abc\""));
  EXPECT_TRUE(etagMatches("*", "\"abc\""));
  EXPECT_FALSE(etagMatches("\"abd\"", "\"abc\""));
  EXPECT_FALSE(etagMatches("", "\"abc\""));
}

TEST(StaticAssets, RoutesOutsideTheApiAreAssetsWithoutAToken) {
  for (const char* path : {"/", "/index.html", "/js/main.js", "/nope"}) {
    auto r = parseRoute("GET", path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->endpoint, Endpoint::kAsset);
    EXPECT_EQ(r->path, path);
    EXPECT_EQ(requiredRole(*r), std::nullopt);
    EXPECT_TRUE(parseRoute("HEAD", path));
  }
  auto post = parseRoute("POST", "/index.html");
  ASSERT_FALSE(post);
  EXPECT_EQ(post.error().code, ErrorCode::kUnsupported);
  // Under /api/ nothing is an asset.
  auto api = parseRoute("GET", "/api/index.html");
  ASSERT_FALSE(api);
  EXPECT_EQ(api.error().code, ErrorCode::kNotFound);
  auto who = parseRoute("GET", "/api/v1/whoami");
  ASSERT_TRUE(who);
  EXPECT_EQ(who->endpoint, Endpoint::kWhoami);
  EXPECT_EQ(requiredRole(*who), Role::kViewer);
  EXPECT_FALSE(parseRoute("POST", "/api/v1/whoami"));
}

// --- over HTTP ---

class DashboardServer : public ::testing::Test {
 protected:
  void SetUp() override {
    writeTokens(std::string(kAdmin) + ",alice,admin\n" + kOperator + ",olga,operator\n" + kViewer +
                ",victor,viewer\n");
    start(tokensPath());
  }

  void start(const std::string& tokensFile) {
    ApiOptions o;
    o.listen = "127.0.0.1:0";
    o.tokensFile = tokensFile;
    o.tokensCheckInterval = Duration(1000);
    o.log = [this](const std::string& line) {
      std::lock_guard lock(logMu_);
      log_ += line + "\n";
    };
    auto s = ApiServer::start(store_, clock_, o);
    ASSERT_TRUE(s) << s.error().message;
    server_ = std::move(*s);
  }

  std::string tokensPath() const { return dir_.file("tokens.csv"); }

  // Replaces the tokens file the way an operator's editor or config management would: a new
  // file renamed over the old one.
  void writeTokens(const std::string& text) {
    std::ofstream(tokensPath() + ".new") << text;
    std::filesystem::rename(tokensPath() + ".new", tokensPath());
  }

  http::Response get(const std::string& path, const std::string& token = "",
                     http::Headers headers = {}, const std::string& method = "GET") {
    http::Request r;
    r.method = method;
    r.url = server_->address() + path;
    r.headers = std::move(headers);
    if (!token.empty()) r.headers.push_back({"Authorization", "Bearer " + token});
    auto res = http::send(r);
    EXPECT_TRUE(res) << (res ? "" : res.error().message);
    return res ? *res : http::Response{};
  }

  json whoami(const std::string& token, long expectStatus = 200) {
    auto r = get("/api/v1/whoami", token);
    EXPECT_EQ(r.status, expectStatus) << r.body;
    return json::parse(r.body, nullptr, false);
  }

  std::string log() {
    std::lock_guard lock(logMu_);
    return log_;
  }

  ramp::testing::TempDir dir_{"ramp-dashboard"};
  store::MemoryStateStore store_;
  ramp::testing::SimulatedClock clock_;
  std::unique_ptr<ApiServer> server_;
  std::mutex logMu_;
  std::string log_;
};

TEST_F(DashboardServer, ServesThePageAndAssetsWithoutATokenWithStrictHeaders) {
  auto page = get("/");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.body, readSource("web/index.html"));
  EXPECT_EQ(page.header("Content-Type"), "text/html; charset=utf-8");
  std::string csp = page.header("Content-Security-Policy");
  EXPECT_NE(csp.find("default-src 'self'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-eval"), std::string::npos) << csp;
  EXPECT_EQ(page.header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(page.header("Cache-Control"), "no-cache");
  EXPECT_EQ(page.header("X-Frame-Options"), "DENY");
  EXPECT_EQ(page.header("ETag"), findStaticAsset("/")->etag);

  // Every embedded file, with its type.
  for (const StaticAsset& a : staticAssets()) {
    auto r = get(a.path);
    ASSERT_EQ(r.status, 200) << a.path;
    EXPECT_EQ(r.body, a.body) << a.path;
    EXPECT_EQ(r.header("Content-Type"), a.contentType) << a.path;
    EXPECT_EQ(r.header("X-Content-Type-Options"), "nosniff") << a.path;
  }
  auto js = get("/js/main.js");
  ASSERT_EQ(js.status, 200);
  EXPECT_EQ(js.header("Content-Type"), "text/javascript; charset=utf-8");

  // Revalidation: the same ETag is a 304 without a body; another is the file.
  auto again = get("/", "", {{"If-None-Match", page.header("ETag")}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(get("/", "", {{"If-None-Match", "\"0123\""}}).status, 200);

  // HEAD: headers only.
  auto head = get("/index.html", "", {}, "HEAD");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());

  // Unknown files are a JSON 404; other methods a 405; the data still needs a token.
  auto missing = get("/secret.txt");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("no file /secret.txt"), std::string::npos) << missing.body;
  EXPECT_EQ(get("/", "", {}, "POST").status, 405);
  EXPECT_EQ(get("/api/v1/rollouts").status, 401);
  EXPECT_EQ(get("/api/v1/whoami").status, 401);
  // The API's answers are not sniffed either.
  EXPECT_EQ(get("/api/v1/rollouts", kViewer).header("X-Content-Type-Options"), "nosniff");
}

TEST_F(DashboardServer, WhoamiNamesTheCallerAndRole) {
  struct Case {
    const char* token;
    const char* name;
    const char* role;
  };
  const Case cases[] = {
      {kAdmin, "alice", "admin"}, {kOperator, "olga", "operator"}, {kViewer, "victor", "viewer"}};
  for (const Case& c : cases) {
    json j = whoami(c.token);
    EXPECT_EQ(j, (json{{"name", c.name}, {"role", c.role}, {"authentication", true}}));
  }
  json bad = whoami("wrong-token-0123456789abcdef", 401);
  EXPECT_EQ(bad["status"], 401);
  EXPECT_EQ(bad.dump().find("wrong-token"), std::string::npos);
}

TEST(DashboardServerNoAuth, WhoamiSaysAuthenticationIsOff) {
  store::MemoryStateStore store;
  ramp::testing::SimulatedClock clock;
  ApiOptions o;
  o.listen = "127.0.0.1:0";
  auto s = ApiServer::start(store, clock, o);
  ASSERT_TRUE(s) << s.error().message;
  http::Request request;
  request.url = (*s)->address() + "/api/v1/whoami";
  auto r = http::send(request);
  ASSERT_TRUE(r);
  EXPECT_EQ(json::parse(r->body),
            (json{{"name", "local"}, {"role", "admin"}, {"authentication", false}}));
}

TEST_F(DashboardServer, TokensFileIsReReadAtMostOncePerIntervalWhenItChanges) {
  ASSERT_EQ(whoami(kOperator)["role"], "operator");
  // Downgrade olga, revoke victor, add a token.
  writeTokens(std::string(kAdmin) + ",alice,admin\n" + kOperator +
              ",olga,viewer\nnew-token-0123456789abcdef,nina,operator\n");
  // Not yet: the file is looked at no more than once per second.
  EXPECT_EQ(whoami(kOperator)["role"], "operator");
  clock_.advance(Duration(1000));
  EXPECT_EQ(whoami(kOperator)["role"], "viewer");
  whoami(kViewer, 401);
  EXPECT_EQ(whoami("new-token-0123456789abcdef")["name"], "nina");

  // A downgraded operator is refused an action with a 403 that names the roles.
  auto promote = [&] {
    http::Request r;
    r.method = "POST";
    r.url = server_->address() + "/api/v1/namespaces/default/rollouts/web/promote";
    r.headers = {{"Authorization", std::string("Bearer ") + kOperator}};
    return http::send(r);
  };
  auto refused = promote();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403);
  EXPECT_NE(refused->body.find("promote needs role operator; olga has role viewer"),
            std::string::npos)
      << refused->body;
  EXPECT_NE(log().find("re-read: 3 tokens"), std::string::npos) << log();

  auto metrics = get("/metrics", kAdmin).body;
  EXPECT_NE(metrics.find("ramp_api_tokens_reloads_total 1\n"), std::string::npos);
  EXPECT_NE(metrics.find("ramp_api_tokens_file_valid 1\n"), std::string::npos);
}

TEST_F(DashboardServer, MalformedNewTokensFileKeepsThePreviousTokens) {
  const std::string secret = "very-secret-token-0123456789";
  writeTokens(std::string(kAdmin) + ",alice,admin\n" + secret + ",eve,superuser\n");
  clock_.advance(Duration(1000));
  // Still the old tokens, all of them.
  EXPECT_EQ(whoami(kOperator)["role"], "operator");
  EXPECT_EQ(whoami(kViewer)["role"], "viewer");
  whoami(secret, 401);
  std::string logged = log();
  EXPECT_NE(logged.find(tokensPath() + ":2: unknown role"), std::string::npos) << logged;
  EXPECT_NE(logged.find("keeping the 3 tokens in force"), std::string::npos) << logged;
  EXPECT_EQ(logged.find(secret), std::string::npos) << logged;
  EXPECT_EQ(logged.find(kAdmin), std::string::npos) << logged;
  auto metrics = get("/metrics", kAdmin).body;
  EXPECT_NE(metrics.find("ramp_api_tokens_reload_errors_total 1\n"), std::string::npos);
  EXPECT_NE(metrics.find("ramp_api_tokens_file_valid 0\n"), std::string::npos);
  EXPECT_EQ(metrics.find(secret), std::string::npos);

  // Logged once per change, not once per request.
  clock_.advance(Duration(1000));
  whoami(kViewer);
  EXPECT_EQ(log(), logged);

  // A vanished file keeps them too; a good file is used again.
  std::filesystem::remove(tokensPath());
  clock_.advance(Duration(1000));
  EXPECT_EQ(whoami(kViewer)["role"], "viewer");
  EXPECT_NE(log().find("cannot be read"), std::string::npos) << log();
  writeTokens(std::string(kAdmin) + ",alice,admin\n");
  clock_.advance(Duration(1000));
  whoami(kViewer, 401);
  EXPECT_EQ(whoami(kAdmin)["role"], "admin");
  EXPECT_NE(get("/metrics", kAdmin).body.find("ramp_api_tokens_file_valid 1\n"), std::string::npos);
}

TEST(TokensFile, ChangedInPlaceWithTheSameSizeIsSeen) {
  ramp::testing::TempDir dir("ramp-tokens");
  ramp::testing::SimulatedClock clock;
  const std::string path = dir.file("tokens");
  std::ofstream(path) << kViewer << ",victor,viewer\n";
  auto f = TokensFile::open(path, clock, Duration(1000), nullptr);
  ASSERT_TRUE(f) << f.error().message;
  std::string auth = std::string("Bearer ") + kViewer;
  EXPECT_EQ((*f)->authenticate(auth)->role, Role::kViewer);
  // Same length, same inode; only the modification time tells (set explicitly: the file
  // system's clock may not have ticked since the file was written).
  auto written = std::filesystem::last_write_time(path);
  std::ofstream(path, std::ios::in | std::ios::out) << kViewer << ",victor, admin\n";
  std::filesystem::last_write_time(path, written + std::chrono::seconds(2));
  clock.advance(Duration(999));
  EXPECT_EQ((*f)->authenticate(auth)->role, Role::kViewer);
  clock.advance(Duration(1));
  EXPECT_EQ((*f)->authenticate(auth)->role, Role::kAdmin);
  EXPECT_EQ((*f)->reloads(), 1u);
  // Opening a bad file is an error (a server must not start on it).
  std::ofstream(path) << "x,y,z\n";
  auto bad = TokensFile::open(path, clock, Duration(1000), nullptr);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find(path + ":1:"), std::string::npos);
}

}  // namespace
}  // namespace ramp::api
