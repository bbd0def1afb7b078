// `ramp audit show`'s filters (audit/query.h): the flags' parsing and the pure match of a
// decoded record, table-driven.

#include "audit/query.h"

#include <gtest/gtest.h>

#include "spec/values.h"

namespace ramp::audit {
namespace {

const std::string kHex = "4d6b1e0f2a3c5b7d9e8f0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5";
const std::string kOther = "0000000000000000000000000000000000000000000000000000000000000001";

Time at(const char* text) { return *spec::parseRfc3339(text); }

TEST(AuditQuery, DigestFlagForms) {
  struct Case {
    std::string text;
    bool ok;
  };
  const Case cases[] = {
      {"sha256:" + kHex, true},
      {kHex, true},
      {"SHA256:" + std::string(kHex.size(), 'A'), true},
      {"reg.example/shop/web@sha256:" + kHex, true},
      {"reg.example/shop/web:1.2", false},
      {"sha256:" + kHex.substr(1), false},  // 63 digits
      {"sha512:" + kHex, false},
      {"", false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    auto d = parseDigestFilter(c.text);
    ASSERT_EQ(d.has_value(), c.ok);
    if (c.ok) {
      EXPECT_EQ(d->size(), 64u);
      EXPECT_EQ(d->find_first_of("ABCDEF"), std::string::npos);  // lower case
    } else {
      EXPECT_EQ(d.error().code, ErrorCode::kInvalidArgument);
      EXPECT_NE(d.error().message.find("--digest " + c.text + ":"), std::string::npos);
    }
  }
}

TEST(AuditQuery, SinceFlagForms) {
  const Time now = at("2026-12-06T12:00:00Z");
  EXPECT_EQ(*parseSinceFilter("2026-12-06T10:30:00Z", now), at("2026-12-06T10:30:00Z"));
  EXPECT_EQ(*parseSinceFilter("90m", now), at("2026-12-06T10:30:00Z"));
  EXPECT_EQ(*parseSinceFilter("1h30m", now), at("2026-12-06T10:30:00Z"));
  for (const char* bad : {"yesterday", "", "-5m", "2026-12-06"}) {
    SCOPED_TRACE(bad);
    auto t = parseSinceFilter(bad, now);
    ASSERT_FALSE(t);
    EXPECT_NE(t.error().message.find("RFC 3339"), std::string::npos);
  }
}

TEST(AuditQuery, EveryGivenCriterionMustHold) {
  Decision d;
  d.time = "2026-12-06T10:41:07.120Z";
  d.object = store::ObjectKey{"Rollout", "shop", "web"};
  d.action = "abort";
  d.decision = "rollback";
  d.environment = "prod";
  d.subjectDigests = {kOther, kHex};
  d.images = {"reg.example/shop/web:1.2"};

  Decision pinned = d;  // the digest only in an image of the revision
  pinned.subjectDigests = {kOther};
  pinned.images = {"reg.example/shop/web:1.3@sha256:" + kHex};

  DecisionQuery any;
  DecisionQuery web;
  web.object = store::ObjectKey{"Rollout", "shop", "web"};
  DecisionQuery api = web;
  api.object->name = "api";
  DecisionQuery otherNs = web;
  otherNs.object->namespace_ = "default";
  DecisionQuery digest;
  digest.digest = kHex;
  DecisionQuery wrongDigest;
  wrongDigest.digest = std::string(64, 'f');
  DecisionQuery since;
  since.since = at("2026-12-06T10:41:07.120Z");  // inclusive
  DecisionQuery later;
  later.since = at("2026-12-06T10:41:07.121Z");
  DecisionQuery abort;
  abort.actions = {"analysis-verdict", "abort"};
  DecisionQuery promote;
  promote.actions = {"promote"};
  DecisionQuery rollbacks;
  rollbacks.decisions = {"forward-fix", "rollback"};
  DecisionQuery deploys;
  deploys.decisions = {"deploy"};
  DecisionQuery prod;
  prod.environment = "prod";
  DecisionQuery staging;
  staging.environment = "staging";
  DecisionQuery all = web;
  all.digest = kHex;
  all.since = at("2026-12-06T10:00:00Z");
  all.actions = {"abort"};
  DecisionQuery allButOne = all;
  allButOne.actions = {"promote"};

  struct Case {
    const char* name;
    const Decision& record;
    const DecisionQuery& query;
    bool match;
  };
  const Case cases[] = {
      {"no criteria", d, any, true},
      {"its rollout", d, web, true},
      {"another rollout", d, api, false},
      {"another namespace", d, otherNs, false},
      {"a subject's digest", d, digest, true},
      {"a pinned image's digest", pinned, digest, true},
      {"no such digest", d, wrongDigest, false},
      {"since its own time", d, since, true},
      {"since a millisecond later", d, later, false},
      {"one of its actions", d, abort, true},
      {"another action", d, promote, false},
      {"one of its decisions", d, rollbacks, true},
      {"another decision", d, deploys, false},
      {"its environment", d, prod, true},
      {"another environment", d, staging, false},
      {"all four", d, all, true},
      {"all but the action", d, allButOne, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(matchesQuery(c.record, c.query), c.match);
  }

  Decision untimed = d;
  untimed.time = "not a time";
  EXPECT_FALSE(matchesQuery(untimed, since));  // a time that does not parse never matches
  EXPECT_TRUE(matchesQuery(untimed, any));
}

}  // namespace
}  // namespace ramp::audit
