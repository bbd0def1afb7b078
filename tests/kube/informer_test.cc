#include "kube/informer.h"

#include <gtest/gtest.h>

namespace ramp::kube {
namespace {

std::string obj(const std::string& ns, const std::string& name, const std::string& rv) {
  return R"({"metadata":{"namespace":")" + ns + R"(","name":")" + name +
         R"(","resourceVersion":")" + rv + R"("}})";
}

WatchEvent event(WatchEvent::Type t, const std::string& json) {
  WatchEvent e;
  e.type = t;
  e.object = json;
  e.resourceVersion = objectResourceVersion(json);
  return e;
}

using T = ObjectChange::Type;

TEST(ObjectCache, ListsThenEventsThenARelistWithSyntheticDeletes) {
  ObjectCache c;
  auto first = c.replace({obj("shop", "a", "1"), obj("shop", "b", "2")});
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0], (ObjectChange{T::kAdded, "shop/a", "1", obj("shop", "a", "1")}));
  EXPECT_TRUE(c.apply(event(WatchEvent::Type::kModified, obj("shop", "a", "1"))).empty())
      << "the same resourceVersion again is not a change";
  auto mod = c.apply(event(WatchEvent::Type::kModified, obj("shop", "a", "3")));
  ASSERT_EQ(mod.size(), 1u);
  EXPECT_EQ(mod[0].type, T::kModified);
  EXPECT_TRUE(c.apply(event(WatchEvent::Type::kBookmark, R"({"metadata":{"resourceVersion":"9"}})"))
                  .empty());
  auto added = c.apply(event(WatchEvent::Type::kAdded, obj("web", "c", "4")));
  ASSERT_EQ(added.size(), 1u);
  EXPECT_EQ(added[0].key, "web/c");
  // The watch broke; while it was down b was deleted and c changed. The relist says so.
  auto relist = c.replace({obj("shop", "a", "3"), obj("web", "c", "7")});
  ASSERT_EQ(relist.size(), 2u);
  EXPECT_EQ(relist[0], (ObjectChange{T::kModified, "web/c", "7", obj("web", "c", "7")}));
  EXPECT_EQ(relist[1], (ObjectChange{T::kDeleted, "shop/b", "2", obj("shop", "b", "2")}));
  EXPECT_EQ(c.size(), 2u);
  auto del = c.apply(event(WatchEvent::Type::kDeleted, obj("shop", "a", "8")));
  ASSERT_EQ(del.size(), 1u);
  EXPECT_EQ(del[0].type, T::kDeleted);
  EXPECT_FALSE(c.get("shop/a"));
  EXPECT_TRUE(c.apply(event(WatchEvent::Type::kDeleted, obj("shop", "a", "9"))).empty());
}

// The server sends every object with metadata.managedFields (often half its size); the cache
// keeps, lists and hands on the object without them, from a list and from the watch.
TEST(ObjectCache, DropsManagedFields) {
  const std::string managed =
      R"({"metadata":{"namespace":"shop","name":"a","resourceVersion":"RV","managedFields":[)"
      R"({"manager":"kube-controller-manager","operation":"Update","fieldsV1":{"f:status":{}}}]},)"
      R"("spec":{"replicas":2}})";
  auto with = [&](const std::string& rv) {
    std::string s = managed;
    return s.replace(s.find("RV"), 2, rv);
  };
  const std::string slim1 = R"({"metadata":{"name":"a","namespace":"shop","resourceVersion":"1"},)"
                            R"("spec":{"replicas":2}})";
  const std::string slim2 = R"({"metadata":{"name":"a","namespace":"shop","resourceVersion":"2"},)"
                            R"("spec":{"replicas":2}})";
  ObjectCache c;
  auto listed = c.replace({with("1")});
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0], (ObjectChange{T::kAdded, "shop/a", "1", slim1}));
  EXPECT_EQ(c.get("shop/a"), slim1);
  auto watched = c.apply(event(WatchEvent::Type::kModified, with("2")));
  ASSERT_EQ(watched.size(), 1u);
  EXPECT_EQ(watched[0], (ObjectChange{T::kModified, "shop/a", "2", slim2}));
  EXPECT_EQ(c.list(), std::vector<std::string>{slim2});
  auto deleted = c.apply(event(WatchEvent::Type::kDeleted, with("3")));
  ASSERT_EQ(deleted.size(), 1u);
  EXPECT_EQ(deleted[0].json.find("managedFields"), std::string::npos);
}

// An owner that keeps its own copy asks for no object text: the cache still tells changes from
// repeats and finds what a relist no longer lists (by key and resourceVersion), but holds and
// serves no object.
TEST(ObjectCache, KeepsOnlyVersionsWhenAskedTo) {
  ObjectCache c(/*keepObjects=*/false);
  auto first = c.replace({obj("shop", "a", "1"), obj("shop", "b", "2")});
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[1], (ObjectChange{T::kAdded, "shop/b", "2", obj("shop", "b", "2")}))
      << "the change still carries the object";
  EXPECT_FALSE(c.get("shop/a"));
  EXPECT_TRUE(c.list().empty());
  EXPECT_TRUE(c.apply(event(WatchEvent::Type::kModified, obj("shop", "a", "1"))).empty())
      << "a repeat is known by its resourceVersion alone";
  auto mod = c.apply(event(WatchEvent::Type::kModified, obj("shop", "a", "3")));
  ASSERT_EQ(mod.size(), 1u);
  EXPECT_EQ(mod[0], (ObjectChange{T::kModified, "shop/a", "3", obj("shop", "a", "3")}));
  auto relist = c.replace({obj("shop", "a", "3")});
  ASSERT_EQ(relist.size(), 1u);
  EXPECT_EQ(relist[0], (ObjectChange{T::kDeleted, "shop/b", "2", ""}))
      << "a delete found by a relist names the key and the last resourceVersion seen";
  EXPECT_EQ(c.size(), 1u);
}

// Without keys the cache is a pass-through: its owner tells repeats apart.
TEST(ObjectCache, KeepsNothingWhenAskedTo) {
  ObjectCache c(/*keepObjects=*/false, /*keepKeys=*/false);
  auto first = c.replace({obj("shop", "a", "1"), obj("shop", "b", "2")});
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0], (ObjectChange{T::kAdded, "shop/a", "1", obj("shop", "a", "1")}));
  EXPECT_EQ(c.size(), 0u);
  auto repeat = c.apply(event(WatchEvent::Type::kModified, obj("shop", "a", "1")));
  ASSERT_EQ(repeat.size(), 1u) << "not known: handed on";
  EXPECT_EQ(repeat[0].type, T::kModified);
  auto gone = c.apply(event(WatchEvent::Type::kDeleted, obj("shop", "b", "3")));
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0], (ObjectChange{T::kDeleted, "shop/b", "3", obj("shop", "b", "3")}));
  auto relist = c.replace({obj("shop", "a", "1")});
  ASSERT_EQ(relist.size(), 1u) << "every listed object again, and no synthetic delete";
  EXPECT_EQ(relist[0].type, T::kAdded);
  EXPECT_TRUE(c.apply(event(WatchEvent::Type::kBookmark, obj("shop", "a", "9"))).empty());
  ObjectCache objects(/*keepObjects=*/true, /*keepKeys=*/false);
  objects.replace({obj("shop", "a", "1")});
  EXPECT_TRUE(objects.get("shop/a")) << "a cache of objects keeps their keys whatever it is told";
}

// An owner that holds the keys itself (the driver's ReplicaSets and Pods): the cache keeps none,
// and a relist reports the held keys it no longer lists as deleted at the list's
// resourceVersion, without an object, in key order.
TEST(ObjectCache, ARelistReportsTheOwnersKeysItNoLongerLists) {
  ObjectCache c(/*keepObjects=*/false, /*keepKeys=*/false);
  const std::vector<std::string> held = {"shop/z", "shop/a", "shop/b"};
  auto relist = c.replace({obj("shop", "a", "5")}, &held, "9");
  ASSERT_EQ(relist.size(), 3u);
  EXPECT_EQ(relist[0], (ObjectChange{T::kAdded, "shop/a", "5", obj("shop", "a", "5")}));
  EXPECT_EQ(relist[1], (ObjectChange{T::kDeleted, "shop/b", "9", ""}));
  EXPECT_EQ(relist[2], (ObjectChange{T::kDeleted, "shop/z", "9", ""}));
  EXPECT_EQ(c.size(), 0u);
  EXPECT_EQ(c.replace({obj("shop", "a", "5")}, nullptr, "9").size(), 1u)
      << "no held keys given: no delete";
}

// Watches end between the minimum and twice it (client-go's reflector: 5 to 10 minutes), so
// that informers started together do not all reopen their watches at once.
TEST(Informer, AWatchTimeoutLiesBetweenTheMinimumAndTwiceIt) {
  EXPECT_EQ(watchTimeout(300, 0), 300);
  EXPECT_EQ(watchTimeout(300, 299), 599);
  EXPECT_EQ(watchTimeout(300, 300), 300);
  EXPECT_EQ(watchTimeout(300, UINT64_MAX), 300 + static_cast<int64_t>(UINT64_MAX % 300));
  EXPECT_EQ(watchTimeout(0, 7), 0) << "no minimum: as asked";
}

// resourceVersions are opaque strings: the cache keeps a canonical decimal one as a number and
// any other as text, and tells a change from a repeat by the exact string either way ("007"
// and "7" differ). A relist reports what it no longer lists in key order.
TEST(ObjectCache, KeepsEveryResourceVersionExactly) {
  ObjectCache c(/*keepObjects=*/false);
  c.replace({obj("s", "a", "007"), obj("s", "b", "abc"), obj("s", "c", "18446744073709551615"),
             obj("s", "d", "0"), obj("s", "e", "12")});
  EXPECT_TRUE(c.apply(event(WatchEvent::Type::kModified, obj("s", "a", "007"))).empty());
  EXPECT_TRUE(c.apply(event(WatchEvent::Type::kModified, obj("s", "b", "abc"))).empty());
  EXPECT_TRUE(c.apply(event(WatchEvent::Type::kModified, obj("s", "d", "0"))).empty());
  auto seven = c.apply(event(WatchEvent::Type::kModified, obj("s", "a", "7")));
  ASSERT_EQ(seven.size(), 1u) << "\"7\" after \"007\" is another version";
  auto text = c.apply(event(WatchEvent::Type::kModified, obj("s", "e", "x12")));
  ASSERT_EQ(text.size(), 1u) << "a number replaced by text";
  auto number = c.apply(event(WatchEvent::Type::kModified, obj("s", "b", "13")));
  ASSERT_EQ(number.size(), 1u) << "text replaced by a number";
  auto relist = c.replace({obj("s", "d", "0")});
  std::vector<ObjectChange> want = {{T::kDeleted, "s/a", "7", ""},
                                    {T::kDeleted, "s/b", "13", ""},
                                    {T::kDeleted, "s/c", "18446744073709551615", ""},
                                    {T::kDeleted, "s/e", "x12", ""}};
  EXPECT_EQ(relist, want);
  EXPECT_EQ(c.size(), 1u);
}

TEST(ObjectCache, Keys) {
  EXPECT_EQ(objectKey(R"({"metadata":{"name":"x"}})"), "x");
  EXPECT_EQ(objectKey(R"({"metadata":{"name":"x","namespace":"n"}})"), "n/x");
  EXPECT_EQ(objectKey(R"({"metadata":{}})"), "");
  EXPECT_EQ(objectKey("not json"), "");
}

}  // namespace
}  // namespace ramp::kube
