#include "kube/wire.h"

#include <gtest/gtest.h>

namespace ramp::kube {
namespace {

TEST(Wire, StatusBodiesBecomeErrorsNamingVerbResourceAndStatus) {
  struct Case {
    long status;
    std::string body;
    ErrorCode code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {404,
       R"({"kind":"Status","reason":"NotFound","message":"rollouts.argoproj.io \"web\" not found","code":404})",
       ErrorCode::kNotFound,
       "get rollouts.argoproj.io shop/web: HTTP 404 NotFound: rollouts.argoproj.io \"web\" not "
       "found"},
      {409, R"({"kind":"Status","reason":"Conflict","message":"the object has been modified"})",
       ErrorCode::kConflict, "HTTP 409 Conflict: the object has been modified"},
      {409, R"({"kind":"Status","reason":"AlreadyExists","message":"exists"})",
       ErrorCode::kAlreadyExists, "HTTP 409 AlreadyExists"},
      {410, R"({"kind":"Status","reason":"Expired","message":"too old resource version"})",
       ErrorCode::kFailedPrecondition, "HTTP 410 Expired"},
      {403, "forbidden text", ErrorCode::kPermissionDenied, "HTTP 403: forbidden text"},
      {401, "", ErrorCode::kUnauthenticated, "HTTP 401"},
      {422, R"({"kind":"Status","reason":"Invalid","message":"spec.replicas: Invalid value"})",
       ErrorCode::kInvalidArgument, "HTTP 422 Invalid: spec.replicas"},
      {429, "", ErrorCode::kUnavailable, "HTTP 429"},
      {503, "", ErrorCode::kUnavailable, "HTTP 503"},
      {504, "", ErrorCode::kDeadlineExceeded, "HTTP 504"},
  };
  for (const Case& c : cases) {
    Error e = apiError("get", "rollouts.argoproj.io shop/web", c.status, c.body);
    EXPECT_EQ(e.code, c.code) << c.status;
    EXPECT_NE(e.message.find(c.message), std::string::npos) << e.message;
    EXPECT_EQ(e.message.rfind("get rollouts.argoproj.io shop/web: HTTP ", 0), 0u) << e.message;
    EXPECT_EQ(isGone(e), c.status == 410) << c.status;
  }
  Error longOne = apiError("get", "x", 500, std::string(5000, 'a'));
  EXPECT_LT(longOne.message.size(), 1100u);
}

TEST(Wire, ListPages) {
  auto p = decodeListPage(
      R"({"kind":"RolloutList","metadata":{"resourceVersion":"12","continue":"c1"},"items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]})",
      "rollouts");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->items.size(), 2u);
  EXPECT_EQ(p->resourceVersion, "12");
  EXPECT_EQ(p->continueToken, "c1");
  EXPECT_TRUE(decodeListPage(R"({"items":null,"metadata":{}})", "x"));
  EXPECT_FALSE(decodeListPage(R"({"kind":"Status"})", "x"));
  EXPECT_FALSE(decodeListPage(R"({"items":[1]})", "x"));
  EXPECT_FALSE(decodeListPage("<html>", "x"));
}

TEST(Wire, WatchStreamSplitAnywhere) {
  const std::string stream =
      "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"5\"}}}\n"
      "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"6\"}}}"
      "\r\n"
      "\n"
      "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"9\"}}}\n"
      "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"10\"}}}"
      "\n";
  for (size_t split = 0; split <= stream.size(); ++split) {
    WatchDecoder d;
    auto a = d.feed(stream.substr(0, split));
    auto b = d.feed(stream.substr(split));
    ASSERT_TRUE(a && b) << split;
    std::vector<WatchEvent> all = *a;
    all.insert(all.end(), b->begin(), b->end());
    ASSERT_EQ(all.size(), 4u) << split;
    EXPECT_EQ(all[0].type, WatchEvent::Type::kAdded);
    EXPECT_EQ(all[1].resourceVersion, "6");
    EXPECT_EQ(all[2].type, WatchEvent::Type::kBookmark);
    EXPECT_EQ(all[3].type, WatchEvent::Type::kDeleted);
    EXPECT_EQ(d.pending(), 0u);
  }
  WatchDecoder gone;
  auto e = gone.feed(
      "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,\"message\":\"too "
      "old\"}}\n");
  ASSERT_TRUE(e);
  ASSERT_EQ(e->size(), 1u);
  EXPECT_EQ((*e)[0].errorCode, 410);
  EXPECT_EQ((*e)[0].errorMessage, "too old");
  WatchDecoder bad;
  EXPECT_FALSE(bad.feed("{\"type\":\"SURPRISE\",\"object\":{}}\n"));
  EXPECT_FALSE(bad.feed("not json\n"));
  EXPECT_FALSE(bad.feed("{\"type\":\"ADDED\"}\n"));
}

}  // namespace
}  // namespace ramp::kube
