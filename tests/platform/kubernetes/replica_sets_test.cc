// Unit tests of platform.kubernetes' pure half (src/platform/kubernetes/replica_sets.h): the
// ReplicaSet ramp writes, which ReplicaSets belong to a rollout, template equality with the API
// server's defaults, what a ReplicaSet and its Pods say about a revision, the patches, and
// Argo's Service selector switch. Objects are JSON literals shaped as the API server returns
// them (the live template is what kube-apiserver v1.37 stored for templateJson's output).

#include "platform/kubernetes/replica_sets.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "spec/values.h"

namespace ramp::platform::kubernetes {
namespace {

Time at(const char* rfc3339) { return *spec::parseRfc3339(rfc3339); }

spec::PodTemplateSpec webTemplate(const std::string& image = "web:v1") {
  spec::PodTemplateSpec t;
  t.metadata.labels = {{"app", "web"}};
  spec::Container c;
  c.name = "web";
  c.image = image;
  spec::ContainerPort p;
  p.containerPort = 8080;
  c.ports.push_back(p);
  t.spec.containers.push_back(c);
  return t;
}

// webTemplate() as kube-apiserver stores it in a ReplicaSet: the hash label, and every field
// its defaulting fills in.
json liveWebTemplate(const std::string& image = "web:v1", const std::string& hash = "abc") {
  return json::parse(R"({
    "metadata": {"creationTimestamp": null,
                 "labels": {"app": "web", "rollouts-pod-template-hash": ")" +
                     hash + R"("}},
    "spec": {
      "containers": [{"name": "web", "image": ")" +
                     image + R"(",
                      "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                      "resources": {},
                      "terminationMessagePath": "/dev/termination-log",
                      "terminationMessagePolicy": "File",
                      "imagePullPolicy": "IfNotPresent"}],
      "restartPolicy": "Always", "terminationGracePeriodSeconds": 30,
      "dnsPolicy": "ClusterFirst", "securityContext": {}, "schedulerName": "default-scheduler"}
  })");
}

TEST(KubernetesReplicaSet, ManifestAsArgoWritesIt) {
  struct Case {
    std::string name;
    std::string uid;
    int32_t minReadySeconds;
    bool owned;
  } cases[] = {
      {"no Rollout object: labelled, not owned", "", 0, false},
      {"a Rollout object: controller ownerReference", "u-1", 5, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    RevisionSpec revision{"6d9f8", 3, webTemplate(), c.minReadySeconds, 2};
    revision.rolloutAnnotations = {{"team", "shop"},
                                   {"kubectl.kubernetes.io/last-applied-configuration", "{}"},
                                   {"rollout.argoproj.io/revision", "9"},
                                   {"notified.notifications.argoproj.io", "{}"}};
    json rs = replicaSetManifest({"shop", "web", c.uid}, revision);
    EXPECT_EQ(rs["apiVersion"], "apps/v1");
    EXPECT_EQ(rs["kind"], "ReplicaSet");
    EXPECT_EQ(rs["metadata"]["name"], "web-6d9f8");
    EXPECT_EQ(rs["metadata"]["namespace"], "shop");
    EXPECT_EQ(rs["metadata"]["labels"], json({{"app", "web"},
                                              {"rollouts-pod-template-hash", "6d9f8"},
                                              {"ramp.local/rollout", "web"}}));
    EXPECT_EQ(rs["metadata"]["annotations"], json({{"rollout.argoproj.io/revision", "3"},
                                                   {"rollout.argoproj.io/desired-replicas", "2"},
                                                   {"team", "shop"}}));
    EXPECT_EQ(rs["spec"]["replicas"], 0);
    EXPECT_EQ(rs["spec"]["selector"]["matchLabels"],
              json({{"app", "web"}, {"rollouts-pod-template-hash", "6d9f8"}}));
    EXPECT_EQ(rs["spec"]["template"]["metadata"]["labels"],
              json({{"app", "web"}, {"rollouts-pod-template-hash", "6d9f8"}}));
    EXPECT_EQ(rs["spec"]["template"]["spec"]["containers"][0]["image"], "web:v1");
    EXPECT_EQ(rs["spec"].contains("minReadySeconds"), c.minReadySeconds > 0);
    EXPECT_EQ(rs["metadata"].contains("ownerReferences"), c.owned);
    if (c.owned) {
      EXPECT_EQ(rs["metadata"]["ownerReferences"],
                json::parse(R"([{"apiVersion":"argoproj.io/v1alpha1","kind":"Rollout",
                  "name":"web","uid":"u-1","controller":true,"blockOwnerDeletion":true}])"));
    }
    EXPECT_TRUE(belongsTo(rs, {"shop", "web", ""}));
    EXPECT_TRUE(sameTemplate(rs["spec"]["template"], templateJson(webTemplate())));
  }
}

// Argo's ephemeral metadata (rollout/ephemeralmetadata.go): injected into a new ReplicaSet's pod
// template and recorded, moved between roles by patches that take off only what was injected.
TEST(KubernetesReplicaSet, EphemeralMetadataIsInjectedRecordedAndTakenOff) {
  const spec::PodTemplateMetadata canary{{{"role", "canary"}}, {{"note", "new"}}};
  const spec::PodTemplateMetadata stable{{{"role", "stable"}}, {}};
  RevisionSpec revision{"6d9f8", 2, webTemplate(), 0, 1};
  revision.ephemeralMetadata = canary;
  json rs = replicaSetManifest({"shop", "web", ""}, revision);
  EXPECT_EQ(rs["spec"]["template"]["metadata"]["labels"],
            json({{"app", "web"}, {"rollouts-pod-template-hash", "6d9f8"}, {"role", "canary"}}));
  EXPECT_EQ(rs["spec"]["template"]["metadata"]["annotations"], json({{"note", "new"}}));
  EXPECT_EQ(rs["metadata"]["labels"].count("role"), 0u) << "the ReplicaSet's own labels stay";
  EXPECT_EQ(rs["spec"]["selector"]["matchLabels"].count("role"), 0u);
  // Go's encoding: labels before annotations.
  EXPECT_EQ(rs["metadata"]["annotations"]["rollout.argoproj.io/ephemeral-metadata"],
            R"({"labels":{"role":"canary"},"annotations":{"note":"new"}})");
  EXPECT_EQ(injectedMetadata(rs), canary);
  // What it reports and compares is the rollout's template, without what was injected.
  EXPECT_TRUE(sameTemplate(templateWithoutInjected(rs), templateJson(webTemplate())));
  EXPECT_EQ(observeRevision(rs, {}, Time{}).template_.metadata.labels.count("role"), 0u);

  EXPECT_EQ(ephemeralMetadataPatch(rs, canary), std::nullopt) << "nothing to change";
  // Promoted: the canary's metadata goes, the stable's comes.
  auto promoted = ephemeralMetadataPatch(rs, stable);
  ASSERT_TRUE(promoted);
  EXPECT_EQ(*promoted, json::parse(R"({
    "metadata": {"annotations": {"rollout.argoproj.io/ephemeral-metadata":
                                 "{\"labels\":{\"role\":\"stable\"}}"}},
    "spec": {"template": {"metadata": {"labels": {"role": "stable"},
                                       "annotations": {"note": null}}}}})"));
  EXPECT_EQ(
      podMetadataPatch(canary, stable),
      json::parse(R"({"metadata":{"labels":{"role":"stable"},"annotations":{"note":null}}})"));
  // No role any more: everything injected goes, and the record with it.
  EXPECT_EQ(*ephemeralMetadataPatch(rs, std::nullopt), json::parse(R"({
    "metadata": {"annotations": {"rollout.argoproj.io/ephemeral-metadata": null}},
    "spec": {"template": {"metadata": {"labels": {"role": null},
                                       "annotations": {"note": null}}}}})"));
  EXPECT_EQ(podMetadataPatch(std::nullopt, std::nullopt), std::nullopt);
  // A label the user's template has is not injected metadata: never taken off.
  json plain = replicaSetManifest({"shop", "web", ""}, {"6d9f8", 1, webTemplate(), 0, 1});
  EXPECT_EQ(injectedMetadata(plain), std::nullopt);
  EXPECT_EQ(ephemeralMetadataPatch(plain, std::nullopt), std::nullopt);
  // An unreadable record is no record (Argo's ParseExistingPodMetadata).
  for (const char* unreadable : {"{", R"({"labels":{"role":1}})", R"({"labels":["role"]})"}) {
    plain["metadata"]["annotations"]["rollout.argoproj.io/ephemeral-metadata"] = unreadable;
    EXPECT_EQ(injectedMetadata(plain), std::nullopt) << unreadable;
  }
  plain["metadata"]["annotations"]["rollout.argoproj.io/ephemeral-metadata"] =
      R"({"labels":null,"annotations":{"note":"x"}})";
  EXPECT_EQ(injectedMetadata(plain), (spec::PodTemplateMetadata{{}, {{"note", "x"}}}));
}

// Argo's injected anti-affinity (utils/replicaset/replicaset.go): a new revision's pod template
// keeps away from the stable revision's hosts, beside the user's own affinity; the term is not
// part of the template the rollout wrote, and a revision brought back has it moved to the
// revision stable now.
TEST(KubernetesReplicaSet, AntiAffinityIsInjectedBesideTheUsersAndMovedOnRollback) {
  spec::PodTemplateSpec withOwn = webTemplate();
  const json ownTerm = json::parse(R"({"labelSelector": {"matchLabels": {"app": "db"}},
                                       "topologyKey": "kubernetes.io/hostname"})");
  withOwn.spec.extra["affinity"] = spec::RawJson{
      json{{"podAntiAffinity", {{"requiredDuringSchedulingIgnoredDuringExecution", {ownTerm}}}}}
          .dump()};
  spec::AntiAffinity preferred;
  preferred.preferredDuringSchedulingIgnoredDuringExecution = spec::PreferredDuringScheduling{40};
  spec::AntiAffinity required;
  required.requiredDuringSchedulingIgnoredDuringExecution = true;
  const json injectedTerm = json::parse(R"({
    "labelSelector": {"matchExpressions": [{"key": "rollouts-pod-template-hash",
                                            "operator": "In", "values": ["v1"]}]},
    "namespaces": ["shop"], "topologyKey": "kubernetes.io/hostname"})");

  RevisionSpec revision{"v2", 2, withOwn, 0, 1};
  revision.antiAffinity = RevisionSpec::AntiAffinityTo{"v1", preferred};
  json rs = replicaSetManifest({"shop", "web", ""}, revision);
  const json& anti = rs["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"];
  EXPECT_EQ(anti["requiredDuringSchedulingIgnoredDuringExecution"], json::array({ownTerm}));
  EXPECT_EQ(anti["preferredDuringSchedulingIgnoredDuringExecution"],
            json::array({{{"weight", 40}, {"podAffinityTerm", injectedTerm}}}));
  EXPECT_EQ(injectedAntiAffinityHash(rs), "v1");
  EXPECT_TRUE(sameTemplate(templateWithoutInjected(rs), templateJson(withOwn)))
      << "the user's term stays, the injected one is not the rollout's";

  revision.antiAffinity = RevisionSpec::AntiAffinityTo{"v1", required};
  revision.template_ = webTemplate();
  json hard = replicaSetManifest({"shop", "web", ""}, revision);
  EXPECT_EQ(hard["spec"]["template"]["spec"]["affinity"],
            json({{"podAntiAffinity",
                   {{"requiredDuringSchedulingIgnoredDuringExecution", {injectedTerm}}}}}));
  EXPECT_TRUE(sameTemplate(templateWithoutInjected(hard), templateJson(webTemplate())))
      << "an affinity left empty goes";
  EXPECT_EQ(observeRevision(hard, {}, Time{}).template_, webTemplate());

  // Brought back while v3 is stable: the term moves to v3, the user's term stays.
  auto moved = antiAffinityPatch(rs, RevisionSpec::AntiAffinityTo{"v3", preferred});
  ASSERT_TRUE(moved);
  json movedTerm = injectedTerm;
  movedTerm["labelSelector"]["matchExpressions"][0]["values"] = {"v3"};
  json want;
  want["/spec/template/spec/affinity/podAntiAffinity"_json_pointer] = {
      {"requiredDuringSchedulingIgnoredDuringExecution", {ownTerm}},
      {"preferredDuringSchedulingIgnoredDuringExecution",
       {{{"weight", 40}, {"podAffinityTerm", movedTerm}}}}};
  EXPECT_EQ(*moved, want);
  // The rule turned from required to preferred: the required list it leaves empty is removed.
  auto turned = antiAffinityPatch(hard, RevisionSpec::AntiAffinityTo{"v3", preferred});
  ASSERT_TRUE(turned);
  EXPECT_EQ((*turned)["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]
                     ["requiredDuringSchedulingIgnoredDuringExecution"],
            nullptr);
  EXPECT_EQ(antiAffinityPatch(rs, RevisionSpec::AntiAffinityTo{"v1", preferred}), std::nullopt)
      << "already toward the stable revision";
  EXPECT_EQ(antiAffinityPatch(rs, std::nullopt), std::nullopt)
      << "it became stable: Argo leaves the term";
  json plain = replicaSetManifest({"shop", "web", ""}, {"v2", 2, withOwn, 0, 1});
  EXPECT_EQ(injectedAntiAffinityHash(plain), "");
  EXPECT_EQ(antiAffinityPatch(plain, RevisionSpec::AntiAffinityTo{"v3", preferred}), std::nullopt)
      << "no term to move (Argo does not add one to an existing ReplicaSet)";
}

// After a role change the Pods that may still carry the old metadata: those created no later
// than the change (the server's whole seconds: one second's slack), not patched yet.
TEST(KubernetesReplicaSet, PodsToRelabelAreThoseBornBeforeTheChange) {
  auto pod = [](const std::string& name, const std::string& created) {
    return json{{"metadata", {{"name", name}, {"creationTimestamp", created}}}};
  };
  const std::vector<json> pods = {
      pod("early", "2026-01-01T00:00:00Z"), pod("same-second", "2026-01-01T00:00:10Z"),
      pod("done", "2026-01-01T00:00:05Z"), pod("later", "2026-01-01T00:00:12Z")};
  EXPECT_EQ(podsToRelabel(pods, at("2026-01-01T00:00:10Z"), {"done"}),
            (std::vector<std::string>{"early", "same-second"}));
  EXPECT_TRUE(podsToRelabel(pods, at("2025-12-31T00:00:00Z"), {}).empty());
}

TEST(KubernetesReplicaSet, BelongsToByLabelOrControllerOwner) {
  auto rs = [](const std::string& ns, const std::string& extra) {
    return json::parse(R"({"metadata":{"name":"x","namespace":")" + ns + R"(")" + extra + "}}");
  };
  const std::string argoOwner =
      R"(,"ownerReferences":[{"apiVersion":"argoproj.io/v1alpha1","kind":"Rollout","name":"web","uid":"u","controller":true}])";
  struct Case {
    std::string name;
    json object;
    bool belongs;
  } cases[] = {
      {"ramp's label", rs("shop", R"(,"labels":{"ramp.local/rollout":"web"})"), true},
      {"Argo's controller owner", rs("shop", argoOwner), true},
      {"another namespace", rs("other", R"(,"labels":{"ramp.local/rollout":"web"})"), false},
      {"another rollout's label", rs("shop", R"(,"labels":{"ramp.local/rollout":"api"})"), false},
      {"owner that is not the controller",
       rs("shop",
          R"(,"ownerReferences":[{"apiVersion":"argoproj.io/v1alpha1","kind":"Rollout","name":"web"}])"),
       false},
      {"a Deployment's ReplicaSet",
       rs("shop",
          R"(,"ownerReferences":[{"apiVersion":"apps/v1","kind":"Deployment","name":"web","controller":true}])"),
       false},
      {"no labels, no owners", rs("shop", ""), false},
      {"label and owner of the same Rollout",
       rs("shop", R"(,"labels":{"ramp.local/rollout":"web"})" + argoOwner), true},
      {"another rollout's label, this one's owner",
       rs("shop", R"(,"labels":{"ramp.local/rollout":"api"})" + argoOwner), true},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(belongsTo(c.object, {"shop", "web", ""}), c.belongs) << c.name;
    // The driver finds a Rollout's ReplicaSets by these keys: every one it belongs to is there.
    const std::vector<std::string> keys = rolloutKeysOf(c.object);
    EXPECT_EQ(std::count(keys.begin(), keys.end(), "shop/web"), c.belongs ? 1 : 0) << c.name;
  }
  EXPECT_EQ(rolloutKeysOf(rs("shop", R"(,"labels":{"ramp.local/rollout":"api"})" + argoOwner)),
            (std::vector<std::string>{"shop/api", "shop/web"}));
}

// A new ReplicaSet's owner comes from the Rollout's other ReplicaSets when one names it (no GET
// of the Rollout per release); not from one being deleted, another Rollout's, or a
// non-controller reference.
TEST(KubernetesReplicaSet, TheOwnersUidComesFromTheRolloutsReplicaSets) {
  auto rs = [](const std::string& ns, const std::string& owner, const std::string& extra = "") {
    return json::parse(R"({"metadata":{"name":"x","namespace":")" + ns + R"(")" + extra +
                       R"(,"ownerReferences":[)" + owner + "]}}");
  };
  auto owner = [](const std::string& name, const std::string& uid, bool controller = true) {
    return R"({"apiVersion":"argoproj.io/v1alpha1","kind":"Rollout","name":")" + name +
           R"(","uid":")" + uid + R"(","controller":)" + (controller ? "true" : "false") + "}";
  };
  const RolloutRef web{"shop", "web", ""};
  EXPECT_EQ(ownerRolloutUid({}, web), "");
  EXPECT_EQ(ownerRolloutUid({rs("shop", owner("web", "u-1"))}, web), "u-1");
  EXPECT_EQ(
      ownerRolloutUid({rs("shop", owner("api", "u-2")), rs("shop", owner("web", "u-1"))}, web),
      "u-1");
  EXPECT_EQ(ownerRolloutUid({rs("other", owner("web", "u-3"))}, web), "");
  EXPECT_EQ(ownerRolloutUid({rs("shop", owner("web", "u-4", false))}, web), "");
  EXPECT_EQ(ownerRolloutUid(
                {rs("shop", owner("web", "old"), R"(,"deletionTimestamp":"2026-01-01T00:00:00Z")"),
                 rs("shop", owner("web", "new"))},
                web),
            "new");
  EXPECT_EQ(ownerRolloutUid({rs("shop", R"({"apiVersion":"apps/v1","kind":"Deployment",)"
                                        R"("name":"web","uid":"d","controller":true})")},
                            web),
            "");
}

TEST(KubernetesReplicaSet, TemplateEqualityIgnoresHashAndServerDefaults) {
  const json desired = templateJson(webTemplate());
  json noCommand = liveWebTemplate();
  noCommand["spec"]["containers"][0]["command"] = json::array({"/bin/web"});
  json explicitAlways = liveWebTemplate();
  explicitAlways["spec"]["containers"][0]["imagePullPolicy"] = "Always";
  json otherGrace = liveWebTemplate();
  otherGrace["spec"]["terminationGracePeriodSeconds"] = 5;
  json annotated = liveWebTemplate();
  annotated["metadata"]["annotations"] = {{"a", "b"}};
  struct Case {
    std::string name;
    json live;
    json desired;
    bool same;
  } cases[] = {
      {"the stored form of the same template", liveWebTemplate(), desired, true},
      {"another hash label", liveWebTemplate("web:v1", "zzz"), desired, true},
      {"another image", liveWebTemplate("web:v2"), desired, false},
      {"a field the desired template lacks", noCommand, desired, false},
      {"a non-default pull policy", explicitAlways, desired, false},
      {"a non-default grace period", otherGrace, desired, false},
      {"annotations the desired template lacks", annotated, desired, false},
      {":latest defaults to Always",
       [] {
         json l = liveWebTemplate("web:latest");
         l["spec"]["containers"][0]["imagePullPolicy"] = "Always";
         return l;
       }(),
       templateJson(webTemplate("web:latest")), true},
      {"no tag defaults to Always",
       [] {
         json l = liveWebTemplate("registry:5000/web");
         l["spec"]["containers"][0]["imagePullPolicy"] = "Always";
         return l;
       }(),
       templateJson(webTemplate("registry:5000/web")), true},
  };
  for (const Case& c : cases) EXPECT_EQ(sameTemplate(c.live, c.desired), c.same) << c.name;
}

TEST(KubernetesReplicaSet, DecodesTheStoredTemplateBackToRampsType) {
  auto decoded = decodeTemplate(liveWebTemplate());
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(*decoded, webTemplate());
  auto same = decodeTemplate(templateJson(webTemplate()));
  ASSERT_TRUE(same);
  EXPECT_EQ(*same, webTemplate());
}

json pod(const std::string& name, const std::string& created, const std::string& status,
         const std::string& metaExtra = "") {
  return json::parse(R"({"metadata":{"name":")" + name + R"(","namespace":"shop",
    "creationTimestamp":")" +
                     created + R"(",
    "ownerReferences":[{"kind":"ReplicaSet","name":"web-abc","uid":"rs-1","controller":true}])" +
                     metaExtra + R"(},
    "spec":{"containers":[{"name":"web","image":"web:v1","ports":[{"containerPort":8080}]}]},
    "status":)" + status +
                     "}");
}

std::string ready(const std::string& since, const std::string& ip) {
  return R"({"phase":"Running","podIP":")" + ip + R"(","conditions":[{"type":"Ready",
    "status":"True","lastTransitionTime":")" +
         since + R"("}],
    "containerStatuses":[{"name":"web","ready":true,"restartCount":0,
      "state":{"running":{"startedAt":")" +
         since + R"("}}}]})";
}

json replicaSet(int replicas, int minReadySeconds, const std::string& annotations = "") {
  json rs = json::parse(R"({"metadata":{"name":"web-abc","namespace":"shop","uid":"rs-1",
    "creationTimestamp":"2026-01-01T00:00:00Z","resourceVersion":"7",
    "labels":{"app":"web","rollouts-pod-template-hash":"abc","ramp.local/rollout":"web"},
    "annotations":{"rollout.argoproj.io/revision":"2")" +
                        annotations + R"(}},
    "spec":{"selector":{"matchLabels":{"app":"web","rollouts-pod-template-hash":"abc"}}}})");
  rs["spec"]["replicas"] = replicas;
  rs["spec"]["minReadySeconds"] = minReadySeconds;
  rs["spec"]["template"] = liveWebTemplate();
  return rs;
}

TEST(KubernetesWorkloadRef, ReadsTheTemplateSelectorGenerationAndReplicas) {
  // A Deployment as kube-apiserver returns it: defaulted template, no replicas field.
  json deployment = {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", {{"name", "web"}, {"namespace", "default"}, {"generation", 4}}},
      {"spec",
       {{"selector", {{"matchLabels", {{"app", "web"}}}}}, {"template", liveWebTemplate()}}}};
  const spec::WorkloadRef ref{"apps/v1", "Deployment", "web", "onsuccess"};
  auto got = referencedWorkload(deployment, ref);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->template_, webTemplate());  // the server's defaults removed
  ASSERT_TRUE(got->selector);
  EXPECT_EQ(got->selector->matchLabels, (std::map<std::string, std::string>{{"app", "web"}}));
  EXPECT_EQ(got->generation, 4);
  EXPECT_EQ(got->replicas, 1);  // Kubernetes' default
  deployment["spec"]["replicas"] = 2;
  EXPECT_EQ(referencedWorkload(deployment, ref)->replicas, 2);

  // A PodTemplate holds its template at the top and has no selector nor replicas.
  json podTemplate = {{"metadata", {{"name", "web"}, {"namespace", "default"}}},
                      {"template", liveWebTemplate()}};
  auto pt = referencedWorkload(podTemplate, {"v1", "PodTemplate", "web", ""});
  ASSERT_TRUE(pt) << pt.error().message;
  EXPECT_EQ(pt->template_, webTemplate());
  EXPECT_FALSE(pt->selector);
  EXPECT_FALSE(pt->replicas);

  // No template: an error naming the field and the object.
  deployment["spec"].erase("template");
  auto none = referencedWorkload(deployment, ref);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(none.error().message, "spec.workloadRef: Deployment default/web has no pod template");
}

TEST(KubernetesReplicaSet, ObservesARevisionFromItsPods) {
  const std::string starting = R"({"phase":"Running","podIP":"10.0.0.3","conditions":[
    {"type":"Ready","status":"False","lastTransitionTime":"2026-01-01T00:00:05Z"}],
    "containerStatuses":[{"name":"web","ready":false,"restartCount":0,
      "state":{"running":{"startedAt":"2026-01-01T00:00:05Z"}}}]})";
  const std::string crashing = R"({"phase":"Running","containerStatuses":[{"name":"web",
    "restartCount":4,"state":{"waiting":{"reason":"CrashLoopBackOff","message":"back-off"}},
    "lastState":{"terminated":{"exitCode":1}}}]})";
  const Time now = at("2026-01-01T00:01:00Z");
  struct Case {
    std::string name;
    json rs;
    std::vector<json> pods;
    int32_t current, ready, available, crashLooping;
  } cases[] = {
      {"no pods yet", replicaSet(2, 0), {}, 0, 0, 0, 0},
      {"one ready, one starting",
       replicaSet(2, 0),
       {pod("a", "2026-01-01T00:00:01Z", ready("2026-01-01T00:00:02Z", "10.0.0.2")),
        pod("b", "2026-01-01T00:00:04Z", starting)},
       2,
       1,
       1,
       0},
      {"ready but not for minReadySeconds yet",
       replicaSet(2, 30),
       {pod("a", "2026-01-01T00:00:01Z", ready("2026-01-01T00:00:02Z", "10.0.0.2")),
        pod("b", "2026-01-01T00:00:04Z", ready("2026-01-01T00:00:50Z", "10.0.0.3"))},
       2,
       2,
       1,
       0},
      {"terminating and finished pods do not count",
       replicaSet(1, 0),
       {pod("a", "2026-01-01T00:00:01Z", ready("2026-01-01T00:00:02Z", "10.0.0.2"),
            R"(,"deletionTimestamp":"2026-01-01T00:00:59Z")"),
        pod("b", "2026-01-01T00:00:01Z", R"({"phase":"Succeeded"})"),
        pod("c", "2026-01-01T00:00:01Z", R"({"phase":"Failed"})")},
       0,
       0,
       0,
       0},
      {"a crash-looping pod",
       replicaSet(1, 0),
       {pod("a", "2026-01-01T00:00:01Z", crashing)},
       1,
       0,
       0,
       1},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ObservedRevision r = observeRevision(c.rs, c.pods, now);
    EXPECT_EQ(r.podTemplateHash, "abc");
    EXPECT_EQ(r.revision, 2);
    EXPECT_EQ(r.template_, webTemplate());
    EXPECT_EQ(r.createdAt, at("2026-01-01T00:00:00Z"));
    EXPECT_EQ(r.desiredReplicas, c.rs["spec"]["replicas"].get<int32_t>());
    EXPECT_EQ(r.currentReplicas, c.current);
    EXPECT_EQ(r.readyReplicas, c.ready);
    EXPECT_EQ(r.availableReplicas, c.available);
    EXPECT_EQ(r.crashLoopingReplicas, c.crashLooping);
    EXPECT_EQ(r.endpoints.size(), static_cast<size_t>(c.current));
    EXPECT_EQ(r.replicaStartedAt.size(), static_cast<size_t>(c.current));
    EXPECT_FALSE(r.scaleDownDeadline);
  }
  ObservedRevision two =
      observeRevision(replicaSet(2, 0),
                      {pod("b", "2026-01-01T00:00:04Z", starting),
                       pod("a", "2026-01-01T00:00:01Z", ready("2026-01-01T00:00:02Z", "10.0.0.2"))},
                      now);
  // Oldest first; endpoints carry the Pod IP and the first container port.
  EXPECT_EQ(two.replicaStartedAt,
            (std::vector<Time>{at("2026-01-01T00:00:01Z"), at("2026-01-01T00:00:04Z")}));
  EXPECT_EQ(two.endpoints[0], (traffic::Endpoint{"a", "10.0.0.2", 8080, true}));
  EXPECT_EQ(two.endpoints[1], (traffic::Endpoint{"b", "10.0.0.3", 8080, false}));
}

TEST(KubernetesReplicaSet, DeadlineRevisionAndAdoptedHashComeFromAnnotations) {
  ObservedRevision r =
      observeRevision(replicaSet(0, 0, R"(,"scale-down-deadline":"2026-01-01T00:05:00Z",
        "ramp.local/pod-template-hash":"ramps")"),
                      {}, at("2026-01-01T00:01:00Z"));
  EXPECT_EQ(r.scaleDownDeadline, at("2026-01-01T00:05:00Z"));
  EXPECT_EQ(r.podTemplateHash, "ramps");  // the core's hash for an adopted ReplicaSet
  json adopted = replicaSet(0, 0, R"(,"ramp.local/pod-template-hash":"ramps")");
  EXPECT_EQ(revisionLabel(adopted), "abc");  // what Services select
  json bad = replicaSet(0, 0);
  bad["metadata"]["annotations"]["rollout.argoproj.io/revision"] = "x";
  EXPECT_EQ(observeRevision(bad, {}, at("2026-01-01T00:01:00Z")).revision, 0);
}

TEST(KubernetesReplicaSet, ReplicasForPeople) {
  const std::string crashing = R"({"phase":"Running","containerStatuses":[{"name":"web",
    "restartCount":4,"state":{"waiting":{"reason":"CrashLoopBackOff","message":"back-off"}},
    "lastState":{"terminated":{"exitCode":1}}}]})";
  auto replicas = observeReplicas(
      replicaSet(3, 0),
      {pod("c", "2026-01-01T00:00:01Z", crashing),
       pod("a", "2026-01-01T00:00:01Z", ready("2026-01-01T00:00:02Z", "10.0.0.2")),
       pod("b", "2026-01-01T00:00:01Z", R"({"phase":"Pending","reason":"Unschedulable"})"),
       pod("d", "2026-01-01T00:00:01Z", ready("2026-01-01T00:00:02Z", "10.0.0.4"),
           R"(,"deletionTimestamp":"2026-01-01T00:00:59Z")")});
  ASSERT_EQ(replicas.size(), 4u);
  EXPECT_EQ(replicas[0].name, "a");
  EXPECT_EQ(replicas[0].state, "Running");
  EXPECT_TRUE(replicas[0].ready);
  EXPECT_EQ(replicas[0].startedAt, at("2026-01-01T00:00:02Z"));
  EXPECT_EQ(replicas[1].state, "Waiting");
  EXPECT_EQ(replicas[1].message, "Unschedulable");
  EXPECT_EQ(replicas[2].state, "CrashLoopBackOff");
  EXPECT_EQ(replicas[2].restarts, 4);
  EXPECT_EQ(replicas[2].lastExit, "exit 1");
  EXPECT_EQ(replicas[2].message, "CrashLoopBackOff: back-off");
  EXPECT_EQ(replicas[3].state, "Terminating");
  for (const auto& r : replicas) EXPECT_EQ(r.podTemplateHash, "abc");
}

// The driver keeps only podFacts() of each Pod: every function that reads Pods must answer
// the same for the facts as for the whole Pod, here for a Pod as the API server and a kubelet
// write it (volumes, tolerations, several conditions and containers) and for every state above.
TEST(KubernetesReplicaSet, PodFactsAnswerAsTheWholePod) {
  const json full = json::parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{
    "name":"web-abc-x1","generateName":"web-abc-","namespace":"shop","uid":"p-1",
    "resourceVersion":"812","creationTimestamp":"2026-01-01T00:00:03Z",
    "labels":{"app":"web","rollouts-pod-template-hash":"abc"},
    "ownerReferences":[{"apiVersion":"v1","kind":"ConfigMap","name":"other","uid":"cm-1"},
      {"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-abc","uid":"rs-1",
       "controller":true,"blockOwnerDeletion":true}]},
    "spec":{"volumes":[{"name":"kube-api-access-x","projected":{"defaultMode":420,"sources":[
      {"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},
      {"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}}]}}],
      "containers":[{"name":"web","image":"web:v1","ports":[{"containerPort":8080,
        "protocol":"TCP"},{"containerPort":9090}],"resources":{},
        "volumeMounts":[{"name":"kube-api-access-x","readOnly":true,
          "mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}]},
        {"name":"sidecar","image":"proxy:1"}],
      "restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst",
      "serviceAccountName":"default","nodeName":"kwok-node-0","schedulerName":"default-scheduler",
      "tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists",
        "effect":"NoExecute","tolerationSeconds":300}],"priority":0},
    "status":{"phase":"Running","hostIP":"10.1.0.1","podIP":"10.0.0.9",
      "podIPs":[{"ip":"10.0.0.9"}],"startTime":"2026-01-01T00:00:03Z","qosClass":"BestEffort",
      "conditions":[{"type":"Initialized","status":"True",
        "lastTransitionTime":"2026-01-01T00:00:03Z"},
        {"type":"Ready","status":"True","lastTransitionTime":"2026-01-01T00:00:06Z"},
        {"type":"ContainersReady","status":"True","lastTransitionTime":"2026-01-01T00:00:06Z"},
        {"type":"PodScheduled","status":"True","lastTransitionTime":"2026-01-01T00:00:03Z"}],
      "containerStatuses":[{"name":"web","image":"web:v1","imageID":"docker://sha256:1",
        "containerID":"docker://c1","ready":true,"started":true,"restartCount":2,
        "state":{"running":{"startedAt":"2026-01-01T00:00:05Z"}},
        "lastState":{"terminated":{"exitCode":137,"signal":9,"reason":"OOMKilled",
          "startedAt":"2026-01-01T00:00:03Z","finishedAt":"2026-01-01T00:00:04Z"}}},
        {"name":"sidecar","image":"proxy:1","ready":true,"restartCount":1,
         "state":{"running":{"startedAt":"2026-01-01T00:00:04Z"}}}]}})");
  const std::string crashing = R"({"phase":"Running","containerStatuses":[{"name":"web",
    "restartCount":4,"state":{"waiting":{"reason":"CrashLoopBackOff","message":"back-off"}},
    "lastState":{"terminated":{"exitCode":1}}}]})";
  const std::vector<json> pods = {
      full,
      pod("a", "2026-01-01T00:00:01Z", ready("2026-01-01T00:00:02Z", "10.0.0.2")),
      pod("b", "2026-01-01T00:00:01Z", R"({"phase":"Pending","reason":"Unschedulable"})"),
      pod("c", "2026-01-01T00:00:01Z", crashing),
      pod("d", "2026-01-01T00:00:00Z", ready("2026-01-01T00:00:02Z", "10.0.0.4"),
          R"(,"deletionTimestamp":"2026-01-01T00:00:59Z")"),
      pod("e", "2026-01-01T00:00:01Z", R"({"phase":"Succeeded"})"),
      json::object(),
  };
  std::vector<json> facts;
  facts.reserve(pods.size());
  for (const json& p : pods) facts.push_back(podFacts(p));
  for (int minReady : {0, 30}) {
    const json rs = replicaSet(3, minReady);
    for (Time now : {at("2026-01-01T00:00:20Z"), at("2026-01-01T00:01:00Z")}) {
      EXPECT_EQ(observeRevision(rs, facts, now), observeRevision(rs, pods, now));
    }
    EXPECT_EQ(observeReplicas(rs, facts), observeReplicas(rs, pods));
  }
  for (Time before : {at("2026-01-01T00:00:02Z"), at("2026-01-01T00:00:04Z")}) {
    EXPECT_EQ(podToRestart(facts, before), podToRestart(pods, before));
  }
  for (size_t i = 0; i < pods.size(); ++i) {
    EXPECT_EQ(controllerUid(facts[i]), controllerUid(pods[i]));
  }
  EXPECT_EQ(observeReplicas(replicaSet(1, 0), {podFacts(full)})[0].lastExit, "signal 9");
  EXPECT_LT(facts[0].dump().size() * 3, full.dump().size()) << facts[0].dump();
}

TEST(KubernetesReplicaSet, RestartsTheOldestCurrentPodStartedBefore) {
  std::vector<json> pods = {
      pod("new", "2026-01-01T00:00:30Z", ready("2026-01-01T00:00:31Z", "10.0.0.3")),
      pod("old", "2026-01-01T00:00:10Z", ready("2026-01-01T00:00:11Z", "10.0.0.2")),
      pod("gone", "2026-01-01T00:00:01Z", ready("2026-01-01T00:00:02Z", "10.0.0.1"),
          R"(,"deletionTimestamp":"2026-01-01T00:00:59Z")"),
  };
  EXPECT_EQ(podToRestart(pods, at("2026-01-01T00:00:40Z")), "old");
  EXPECT_EQ(podToRestart(pods, at("2026-01-01T00:00:20Z")), "old");
  EXPECT_EQ(podToRestart(pods, at("2026-01-01T00:00:05Z")), std::nullopt);
}

TEST(KubernetesReplicaSet, Patches) {
  EXPECT_EQ(scalePatch(3), json::parse(R"({"spec":{"replicas":3}})"));
  const json fresh = json::parse(R"({"metadata":{"annotations":{}}})");
  EXPECT_EQ(revisionPatch(fresh, 4),
            json::parse(R"({"metadata":{"annotations":{"rollout.argoproj.io/revision":"4"}}})"));
  // A rollback renumbers a ReplicaSet and keeps the numbers it had (Argo's revision-history).
  const json once =
      json::parse(R"({"metadata":{"annotations":{"rollout.argoproj.io/revision":"1"}}})");
  EXPECT_EQ(revisionPatch(once, 3), json::parse(R"({"metadata":{"annotations":{
    "rollout.argoproj.io/revision":"3","rollout.argoproj.io/revision-history":"1"}}})"));
  const json twice = json::parse(R"({"metadata":{"annotations":{
    "rollout.argoproj.io/revision":"3","rollout.argoproj.io/revision-history":"1"}}})");
  EXPECT_EQ(revisionPatch(twice, 5), json::parse(R"({"metadata":{"annotations":{
    "rollout.argoproj.io/revision":"5","rollout.argoproj.io/revision-history":"1,3"}}})"));
  // Scaling writes the rollout's replicas beside (desired-replicas), and nothing when both hold.
  const json two = json::parse(R"({"metadata":{"annotations":{
    "rollout.argoproj.io/desired-replicas":"2"}},"spec":{"replicas":2}})");
  EXPECT_EQ(replicaSetScalePatch(two, 2, 2), std::nullopt);
  EXPECT_EQ(replicaSetScalePatch(two, 1, 2), json::parse(R"({"spec":{"replicas":1}})"));
  EXPECT_EQ(replicaSetScalePatch(two, 2, 3), json::parse(R"({"metadata":{"annotations":{
    "rollout.argoproj.io/desired-replicas":"3"}}})"));
  EXPECT_EQ(replicaSetScalePatch(two, 0, -1), json::parse(R"({"spec":{"replicas":0}})"))
      << "a rollout being deleted leaves the annotation";
  EXPECT_EQ(scaleDownDeadlinePatch(at("2026-01-01T00:05:00Z")),
            json::parse(
                R"({"metadata":{"annotations":{"scale-down-deadline":"2026-01-01T00:05:00Z"}}})"));
  EXPECT_EQ(scaleDownDeadlinePatch(std::nullopt),
            json::parse(R"({"metadata":{"annotations":{"scale-down-deadline":null}}})"));
  EXPECT_EQ(adoptPatch("h", 2), json::parse(R"({"metadata":{"annotations":{
    "ramp.local/pod-template-hash":"h","rollout.argoproj.io/revision":"2"}}})"));
}

TEST(KubernetesService, SwitchesTheSelectorAsArgoDoes) {
  auto service = [](const std::string& selectorHash, bool managed) {
    json s = json::parse(R"({"metadata":{"name":"web-active","namespace":"shop"},
      "spec":{"selector":{"app":"web"}}})");
    if (!selectorHash.empty()) s["spec"]["selector"]["rollouts-pod-template-hash"] = selectorHash;
    if (managed) s["metadata"]["annotations"] = {{kManagedByAnnotation, "web"}};
    return s;
  };
  const json target = replicaSet(2, 0);  // label "abc"
  const json switchAndManage =
      json::parse(R"({"spec":{"selector":{"rollouts-pod-template-hash":"abc"}},
    "metadata":{"annotations":{"argo-rollouts.argoproj.io/managed-by-rollouts":"web"}}})");
  const json switchOnly =
      json::parse(R"({"spec":{"selector":{"rollouts-pod-template-hash":"abc"}}})");
  struct Case {
    std::string name;
    json service;
    int32_t available;
    bool requireAvailable;
    std::optional<json> patch;
    bool waiting;
  } cases[] = {
      {"already selects it and is managed", service("abc", true), 0, true, std::nullopt, false},
      {"blue-green: switched whatever the availability", service("old", true), 0, false, switchOnly,
       false},
      {"first time: adds the managed-by annotation", service("", false), 0, false, switchAndManage,
       false},
      {"canary: nothing available yet", service("old", true), 0, true, std::nullopt, true},
      {"canary: one available is enough for a managed Service", service("old", true), 1, true,
       switchOnly, false},
      {"canary: adopting a Service waits for every replica", service("old", false), 1, true,
       std::nullopt, true},
      {"canary: adopting a Service once all are available", service("old", false), 2, true,
       switchAndManage, false},
      {"selects it but not managed yet", service("abc", false), 0, true, json::parse(R"({
       "spec":{"selector":{"rollouts-pod-template-hash":"abc"}},
       "metadata":{"annotations":{"argo-rollouts.argoproj.io/managed-by-rollouts":"web"}}})"),
       false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ServiceSwitch s = planServiceSwitch(c.service, "web", target, c.available, c.requireAvailable);
    EXPECT_EQ(s.patch, c.patch);
    EXPECT_EQ(!s.waiting.empty(), c.waiting) << s.waiting;
  }
}

// How controllers name what they make (Argo's ReplicaSet ROLLOUT-HASH, the ReplicaSet
// controller's Pod REPLICASET-RANDOM): the driver finds those by name.
TEST(KubernetesReplicaSet, NamedAfterItsOwner) {
  EXPECT_TRUE(namedAfter("shop/web-6d9f8", "shop/web"));
  EXPECT_TRUE(namedAfter("shop/web-6d9f8-x7k2p", "shop/web-6d9f8"));
  EXPECT_FALSE(namedAfter("shop/web-api-6d9f8", "shop/web")) << "Rollout web-api's";
  EXPECT_FALSE(namedAfter("shop/web-", "shop/web"));
  EXPECT_FALSE(namedAfter("shop/web", "shop/web"));
  EXPECT_FALSE(namedAfter("shop/webx-1", "shop/web"));
  EXPECT_FALSE(namedAfter("other/web-6d9f8", "shop/web"));
}

TEST(KubernetesReplicaSet, RolloutKeysAndResourceVersions) {
  EXPECT_EQ(*parseRolloutKey("shop/web"), (RolloutRef{"shop", "web", ""}));
  for (const char* bad : {"web", "/web", "shop/", "a/b/c", ""}) {
    EXPECT_FALSE(parseRolloutKey(bad)) << bad;
  }
  struct Case {
    const char* a;
    const char* b;
    int order;
  } cases[] = {{"9", "10", -1},    {"10", "9", 1}, {"12", "12", 0},
               {"123", "124", -1}, {"x", "1", 0},  {"", "1", 0}};
  for (const Case& c : cases) {
    EXPECT_EQ(compareResourceVersions(c.a, c.b), c.order) << c.a << " vs " << c.b;
  }
}

}  // namespace
}  // namespace ramp::platform::kubernetes
