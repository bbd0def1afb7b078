// RolloutCache: an entry serves exactly the store version it describes, the least recently
// used entry goes first when over capacity, and erase() reports the end of a burst.

#include "controller/rollout_cache.h"

#include <gtest/gtest.h>

namespace ramp::controller {
namespace {

std::shared_ptr<const RolloutCache::Entry> entryAt(int64_t version, const std::string& image) {
  auto e = std::make_shared<RolloutCache::Entry>();
  e->version = version;
  e->rollout.metadata.name = image;
  e->jsonHead = "{\"kind\":\"Rollout\"";
  return e;
}

TEST(RolloutCache, AnEntryServesOnlyItsVersion) {
  RolloutCache cache(8);
  cache.put("Rollout/default/a", entryAt(7, "v1"));
  auto hit = cache.find("Rollout/default/a", 7);
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->rollout.metadata.name, "v1");
  // Someone else wrote version 8: the entry is stale, and dropped.
  EXPECT_EQ(cache.find("Rollout/default/a", 8), nullptr);
  EXPECT_EQ(cache.find("Rollout/default/a", 7), nullptr);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(hit->rollout.metadata.name, "v1");  // a reader keeps its entry alive
  EXPECT_EQ(cache.find("Rollout/default/b", 1), nullptr);
}

TEST(RolloutCache, EvictsTheLeastRecentlyUsedAndReplacesInPlace) {
  RolloutCache cache(2);
  cache.put("a", entryAt(1, "a1"));
  cache.put("b", entryAt(1, "b1"));
  ASSERT_NE(cache.find("a", 1), nullptr);  // a is now the most recent
  cache.put("c", entryAt(1, "c1"));        // evicts b
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.find("b", 1), nullptr);
  EXPECT_NE(cache.find("a", 1), nullptr);
  EXPECT_NE(cache.find("c", 1), nullptr);
  cache.put("a", entryAt(2, "a2"));  // a new version replaces the old one
  EXPECT_EQ(cache.size(), 2u);
  ASSERT_NE(cache.find("a", 2), nullptr);
  EXPECT_EQ(cache.find("a", 2)->rollout.metadata.name, "a2");

  RolloutCache none(0);
  none.put("a", entryAt(1, "a1"));
  EXPECT_EQ(none.find("a", 1), nullptr);
}

TEST(RolloutCache, EraseReportsTheEndOfABurst) {
  RolloutCache cache(100);
  for (int i = 0; i < 3; ++i) cache.put("k" + std::to_string(i), entryAt(1, "x"));
  EXPECT_FALSE(cache.erase("k0", 3));
  EXPECT_FALSE(cache.erase("missing", 3));
  EXPECT_FALSE(cache.erase("k1", 3));
  EXPECT_TRUE(cache.erase("k2", 3));  // empty after holding 3 >= burst
  cache.put("k0", entryAt(1, "x"));
  EXPECT_FALSE(cache.erase("k0", 3));  // a small burst since: nothing to report
}

}  // namespace
}  // namespace ramp::controller
