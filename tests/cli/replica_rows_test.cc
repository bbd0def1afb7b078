// The replica rows of `ramp get rollout` (src/cli/rollout_view.h): each replica under its
// revision, with its state, ready, restarts, last exit and age, as Argo's tree shows pods.

#include <gtest/gtest.h>

#include <string>

#include "cli/rollout_view.h"

namespace ramp::cli {
namespace {

Time at(int64_t seconds) { return Time(Duration(seconds * 1000)); }

RolloutView twoRevisions() {
  RolloutView v;
  v.rollout.metadata.name = "web";
  v.rollout.metadata.namespace_ = "shop";
  v.rollout.spec.strategy.canary = spec::CanaryStrategy{};
  v.rollout.status.stableRS = "aaa";
  v.rollout.status.currentPodHash = "bbb";
  v.now = at(1000);
  v.haveRevisions = true;
  v.revisions = {{2, "bbb", {"web:v2"}, 1, 0, 0}, {1, "aaa", {"web:v1"}, 2, 2, 2}};
  v.haveReplicas = true;
  v.replicas = {
      {"web-aaa-0", "aaa", 0, "Running", true, 0, "", "", at(900)},
      {"web-aaa-1", "aaa", 1, "Running", true, 1, "signal 9", "", at(970)},
      {"web-bbb-0", "bbb", 0, "CrashLoopBackOff", false, 4, "exit 3", "pid 7 exited", {}},
  };
  return v;
}

// The line of the tree that names `name`.
std::string lineOf(const std::string& text, const std::string& name) {
  size_t at = text.find(name);
  if (at == std::string::npos) return "";
  size_t start = text.rfind('\n', at) + 1;
  return text.substr(start, text.find('\n', at) - start);
}

TEST(ReplicaRows, EachReplicaUnderItsRevision) {
  std::string text = renderRollout(twoRevisions());
  // Revision 2 (canary) first, its replica under it; then revision 1 with two.
  size_t rev2 = text.find("# revision:2 bbb");
  size_t crash = text.find("web-bbb-0");
  size_t rev1 = text.find("# revision:1 aaa");
  size_t a0 = text.find("web-aaa-0");
  size_t a1 = text.find("web-aaa-1");
  ASSERT_NE(rev2, std::string::npos) << text;
  EXPECT_LT(rev2, crash) << text;
  EXPECT_LT(crash, rev1) << text;
  EXPECT_LT(rev1, a0) << text;
  EXPECT_LT(a0, a1) << text;

  std::string crashLine = lineOf(text, "web-bbb-0");
  EXPECT_NE(crashLine.find("│  └──□ web-bbb-0"), std::string::npos) << crashLine;
  EXPECT_NE(crashLine.find("Replica"), std::string::npos) << crashLine;
  EXPECT_NE(crashLine.find("✖ CrashLoopBackOff"), std::string::npos) << crashLine;
  EXPECT_NE(crashLine.find("ready:0/1, restarts:4, last exit: exit 3"), std::string::npos)
      << crashLine;

  std::string a0Line = lineOf(text, "web-aaa-0");
  EXPECT_NE(a0Line.find("├──□ web-aaa-0"), std::string::npos) << a0Line;
  EXPECT_NE(a0Line.find("✔ Running"), std::string::npos) << a0Line;
  EXPECT_NE(a0Line.find("100s"), std::string::npos) << "age from startedAt: " << a0Line;
  EXPECT_NE(a0Line.find("ready:1/1, restarts:0"), std::string::npos) << a0Line;
  EXPECT_EQ(a0Line.find("last exit"), std::string::npos) << "never stopped: " << a0Line;
  EXPECT_NE(lineOf(text, "web-aaa-1").find("└──□ web-aaa-1"), std::string::npos);
  EXPECT_NE(lineOf(text, "web-aaa-1").find("last exit: signal 9"), std::string::npos);
}

TEST(ReplicaRows, NoRowsWithoutReplicas) {
  RolloutView v = twoRevisions();
  v.haveReplicas = false;
  v.replicas.clear();
  std::string text = renderRollout(v);
  EXPECT_EQ(text.find("Replica "), std::string::npos) << text;
  EXPECT_NE(text.find("# revision:1 aaa"), std::string::npos) << text;
}

TEST(ReplicaRows, StateIcons) {
  struct Case {
    const char* state;
    const char* shown;
  };
  const Case cases[] = {{"Running", "✔ Running"},
                        {"Starting", "◌ Starting"},
                        {"CrashLoopBackOff", "✖ CrashLoopBackOff"},
                        {"Waiting", "◷ Waiting"},
                        {"Terminating", "◌ Terminating"},
                        {"Evicted", "? Evicted"}};
  for (const Case& c : cases) EXPECT_EQ(replicaStateWithIcon(c.state, false), c.shown);
}

}  // namespace
}  // namespace ramp::cli
